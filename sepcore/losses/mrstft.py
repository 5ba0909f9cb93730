"""Multi-resolution STFT loss (Yamamoto, Song & Kim, "Parallel WaveGAN", ICASSP 2020).

For each resolution m (FFT size, hop, window length), with magnitudes ``S = |STFT(s)|``
(reference) and ``Ŝ = |STFT(ŝ)|`` (estimate):

    L_sc  = ‖S − Ŝ‖_F / ‖S‖_F                    (spectral convergence)
    L_mag = mean |log S − log Ŝ|                 (log STFT magnitude, L1)

and the loss is the mean over resolutions of ``L_sc + L_mag``. Magnitudes are
``sqrt(max(re² + im², 1e-7))`` as in the paper's code, so silence has a finite log. The
defaults are the paper's three resolutions (FFT 1024 / 2048 / 512, hop 120 / 240 / 50,
Hann window 600 / 1200 / 240). The STFT is sepcore.spectral's, with a Hann window of the
window length centred in the FFT frame.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sepcore.errors import ConfigError
from sepcore.spectral import stft

FFT_SIZES = (1024, 2048, 512)
HOPS = (120, 240, 50)
WIN_LENGTHS = (600, 1200, 240)
MAG_FLOOR = 1e-7


def _window(n_fft: int, win: int, device, dtype) -> torch.Tensor:
    w = torch.hann_window(win, periodic=True, device=device, dtype=dtype)
    left = (n_fft - win) // 2
    return F.pad(w, (left, n_fft - win - left))


def _magnitude(x: torch.Tensor, n_fft: int, hop: int, win: int) -> torch.Tensor:
    X = stft(x, n_fft, hop, _window(n_fft, win, x.device, x.dtype))
    return torch.sqrt(torch.clamp(X.real.pow(2) + X.imag.pow(2), min=MAG_FLOOR))


class MultiResolutionSTFTLoss:
    """``loss(est, ref)`` over the last axis (same leading shape) → one value per signal.

    ``pairwise(est [B, S, T], ref [B, S, T])`` → ``[B, S_est, S_ref]`` for PIT.
    """

    def __init__(self, fft_sizes=FFT_SIZES, hops=HOPS, win_lengths=WIN_LENGTHS):
        fft_sizes, hops, win_lengths = list(fft_sizes), list(hops), list(win_lengths)
        if not (len(fft_sizes) == len(hops) == len(win_lengths) >= 1):
            raise ConfigError(
                f"loss: mrstft_fft_sizes, mrstft_hops and mrstft_win_lengths need one entry "
                f"per resolution each, got {fft_sizes}, {hops}, {win_lengths}")
        for n, h, w in zip(fft_sizes, hops, win_lengths):
            if not (isinstance(n, int) and isinstance(h, int) and isinstance(w, int)
                    and 1 <= h <= n // 2 and 2 <= w <= n):
                raise ConfigError(f"loss: resolution (fft {n}, hop {h}, window {w}) needs "
                                  "integers with 1 <= hop <= fft/2 and 2 <= window <= fft")
        self.resolutions = list(zip(fft_sizes, hops, win_lengths))

    def _terms(self, est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """est ``[..., 1|S, 1, T]``, ref ``[..., 1, S, T]`` (broadcast) → loss ``[..., S, S]``."""
        total = 0.0
        for n_fft, hop, win in self.resolutions:
            E = _magnitude(est, n_fft, hop, win)
            R = _magnitude(ref, n_fft, hop, win)
            sc = torch.linalg.vector_norm(R - E, dim=(-2, -1)) / torch.linalg.vector_norm(
                R, dim=(-2, -1))
            mag = (torch.log(R) - torch.log(E)).abs().mean(dim=(-2, -1))
            total = total + sc + mag
        return total / len(self.resolutions)

    def __call__(self, est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        return self._terms(est, ref)

    def pairwise(self, estimates: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
        return self._terms(estimates.unsqueeze(2), references.unsqueeze(1))
