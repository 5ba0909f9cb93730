"""The one STFT of sepcore: ``stft``/``istft`` over any leading dims, and block processing.

Frames are centred (frame ``f`` covers samples ``[f*hop - n_fft/2, f*hop + n_fft/2)``)
with ZERO padding at the signal's edges (torch's default ``reflect`` would make a block
of frames computed on its own differ from the same frames of the whole signal), a
periodic Hann window, no normalisation: ``istft(stft(x))`` gives ``x`` back (hop at
most ``n_fft / 2``). A signal of ``T`` samples has ``1 + T // hop`` frames and
``n_fft // 2 + 1`` bins.

:func:`tf_apply` runs a function of the spectrogram on blocks of frames and
overlap-adds the result, so a whole track is processed with memory independent of its
length; the result equals ``istft(fn(stft(x)))`` up to float rounding (tested).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from sepcore.errors import ConfigError

# frame buffer per inverse FFT call of istft
_FRAME_BUFFER_BYTES = 16 * 2**20


def _check(n_fft: int, hop: int) -> None:
    if n_fft < 2 or hop < 1 or hop > n_fft // 2:
        raise ConfigError(f"STFT: need n_fft >= 2 and 1 <= hop <= n_fft/2, got n_fft={n_fft}, "
                          f"hop={hop}")


def hann(n_fft: int, device=None, dtype=torch.float32) -> torch.Tensor:
    return torch.hann_window(n_fft, periodic=True, device=device, dtype=dtype)


def num_frames(length: int, hop: int) -> int:
    return 1 + length // hop


def stft(x: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor | None = None
         ) -> torch.Tensor:
    """Complex STFT of ``x`` ``[..., time]`` → ``[..., n_fft // 2 + 1, frames]``."""
    _check(n_fft, hop)
    if window is None:
        window = hann(n_fft, x.device, x.dtype)
    lead = x.shape[:-1]
    X = torch.stft(x.reshape(-1, x.shape[-1]), n_fft, hop, window=window, center=True,
                   pad_mode="constant", return_complex=True)
    return X.reshape(lead + X.shape[-2:])


def istft(X: torch.Tensor, n_fft: int, hop: int, length: int,
          window: torch.Tensor | None = None) -> torch.Tensor:
    """Inverse of :func:`stft`: ``[..., bins, frames]`` → ``[..., length]``.

    Inverse FFT of every frame, window, overlap-add, division by the overlap-added
    squared window (what ``torch.istft`` does). ``X`` may be a transposed view of a
    frames-major tensor (as :func:`stft` returns): the FFTs then read it in place.
    """
    _check(n_fft, hop)
    if window is None:
        window = hann(n_fft, X.device, X.real.dtype)
    lead, (nbins, nfr) = X.shape[:-2], X.shape[-2:]
    if nbins != n_fft // 2 + 1:
        raise ValueError(f"istft: expected {n_fft // 2 + 1} bins for n_fft={n_fft}, got {nbins}")
    rows = X.reshape((-1, nbins, nfr)).transpose(1, 2)  # [rows, frames, bins]
    half, total = n_fft // 2, (nfr - 1) * hop + n_fft
    wsum = _window_envelope(window, nfr, hop, length)
    # A few signals at a time: the frame buffers are several times the output's size.
    group = max(1, _FRAME_BUFFER_BYTES // (nfr * n_fft * window.element_size()))
    out = []
    for part in rows.split(group):
        frames = torch.fft.irfft(part, n=n_fft, dim=-1).mul_(window)  # [rows, frames, n_fft]
        sig = frames.new_zeros(part.shape[0], max(total, length + half))  # zeros past the frames
        _overlap_add(sig[:, :total], frames, hop)
        out.append(sig[:, half:half + length] / wsum)
    return torch.cat(out).reshape(lead + (length,))


class STFT(nn.Module):
    """:func:`stft` / :func:`istft` with the window kept on the module's device.

    Args:
        n_fft (int): FFT size (frame length) in samples.
        hop (int): hop between frames in samples (at most ``n_fft // 2``).
    """

    def __init__(self, n_fft: int, hop: int):
        super().__init__()
        _check(n_fft, hop)
        self.n_fft, self.hop = int(n_fft), int(hop)
        self.register_buffer("window", hann(self.n_fft), persistent=False)

    @property
    def num_bins(self) -> int:
        return self.n_fft // 2 + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return stft(x, self.n_fft, self.hop, self.window.to(x.dtype))

    def inverse(self, X: torch.Tensor, length: int) -> torch.Tensor:
        return istft(X, self.n_fft, self.hop, length, self.window.to(X.real.dtype))


def _overlap_add(out: torch.Tensor, frames: torch.Tensor, hop: int) -> None:
    """``out[..., f*hop : f*hop + n] += frames[..., f, :]`` for every frame ``f``.

    With ``hop`` dividing the frame length, as ``n / hop`` shifted adds of all
    frames at once (torch's ``fold`` is several times slower here).
    """
    nf, n = frames.shape[-2:]
    if n % hop:
        lead = frames.shape[:-2]
        ola = F.fold(frames.reshape(-1, nf, n).transpose(1, 2), (1, out.shape[-1]),
                     kernel_size=(1, n), stride=(1, hop))
        out += ola.reshape(lead + (out.shape[-1],))
        return
    parts = frames.reshape(frames.shape[:-2] + (nf, n // hop, hop))
    for r in range(n // hop):
        out[..., r * hop:(r + nf) * hop] += parts[..., r, :].reshape(frames.shape[:-2] + (-1,))


def _window_envelope(window: torch.Tensor, nfr: int, hop: int, length: int) -> torch.Tensor:
    """The overlap-added squared window of ``nfr`` centred frames at output samples
    ``[0, length)`` (what an inverse STFT divides by; floored where no frame reaches)."""
    n = window.shape[-1]
    wsum = window.new_zeros(max((nfr - 1) * hop + n, length + n // 2))
    _overlap_add(wsum[:(nfr - 1) * hop + n], (window * window).expand(nfr, n), hop)
    return wsum[n // 2:n // 2 + length].clamp_min(1e-11)


def tf_apply(
    x: torch.Tensor,
    fn: Callable[[torch.Tensor], torch.Tensor],
    n_fft: int,
    hop: int,
    block_frames: int = 256,
) -> torch.Tensor:
    """``istft(fn(stft(x)))`` computed ``block_frames`` frames at a time.

    ``x`` is ``[..., time]``; ``fn`` maps a block's spectrogram ``[..., bins, frames]``
    to complex ``[*out_lead, bins, frames]`` (it may change the leading dims, e.g. from
    ``[1 + N, C]`` signals to ``[N, C]`` estimates) and must act on each frame on its
    own (a mask, not a recurrent model). Returns ``[*out_lead, time]``. Memory is
    that of one block plus the output.
    """
    _check(n_fft, hop)
    length = x.shape[-1]
    nfr = num_frames(length, hop)
    half = n_fft // 2
    w = hann(n_fft, x.device, x.dtype)
    # zero-padded signal long enough for every frame
    padded = F.pad(x, (half, (nfr - 1) * hop + n_fft - half - length))
    out = None
    total = (nfr - 1) * hop + n_fft
    for f0 in range(0, nfr, block_frames):
        f1 = min(nfr, f0 + block_frames)
        seg = padded[..., f0 * hop:(f1 - 1) * hop + n_fft]
        frames = seg.unfold(-1, n_fft, hop) * w  # [..., nf, n_fft]
        Y = fn(torch.fft.rfft(frames, dim=-1).transpose(-1, -2))
        y = torch.fft.irfft(Y.transpose(-1, -2), n=n_fft, dim=-1) * w  # [*lead, nf, n_fft]
        lead = y.shape[:-2]
        if out is None:
            out = torch.zeros(lead + (total,), dtype=y.dtype, device=y.device)
        seg_len = (f1 - f0 - 1) * hop + n_fft
        _overlap_add(out[..., f0 * hop:f0 * hop + seg_len], y, hop)
    return out[..., half:half + length] / _window_envelope(w, nfr, hop, length)
