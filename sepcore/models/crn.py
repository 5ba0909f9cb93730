"""A convolutional recurrent network that masks the STFT, for speech enhancement.

After K. Tan and D. Wang, "A convolutional recurrent neural network for real-time speech
enhancement", Interspeech 2018 (CRN: a convolutional encoder-decoder over frequency with
skip connections and an LSTM between them, causal along time), and Y. Hu et al.,
"DCCRN: Deep complex convolution recurrent network for phase-aware speech enhancement",
Interspeech 2020 (a complex ratio mask, bounded as in their DCCRN-E: magnitude
``tanh(|M|)``, phase of ``M``). The convolutions here are real-valued; the complex mask is
predicted as two channels (real, imaginary).

Pipeline: ``sepcore.spectral.STFT`` (centred periodic-Hann frames) → per-bin features
``|X|^c`` and, for the complex mask, the compressed real and imaginary parts
``X / |X| · |X|^c`` → encoder of Conv2d layers (stride 2 along frequency, kernel
``kernel_time`` frames looking only back in time) with BatchNorm and ELU → a GRU or
LSTM over frames on the flattened (channels × bins) encoding, unidirectional when
``causal`` (bidirectional otherwise) → decoder of transposed convolutions along
frequency (one frame wide) fed with the encoder's skip connections → one mask per
source, applied to the noisy STFT → inverse STFT.

Causality: every layer sees only the current and past frames when ``causal: true``
(the convolutions always do; BatchNorm is a per-channel affine map in eval mode). An
output sample then depends on the input up to ``n_fft - 1`` samples after it (the STFT
window, the algorithmic latency: 16 ms for ``n_fft: 256`` at 16 kHz), never further.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sepcore.errors import ConfigError
from sepcore.spectral import STFT

MASKS = ("complex", "magnitude")
RNNS = {"gru": nn.GRU, "lstm": nn.LSTM}


class CRN(nn.Module):
    """CRN / DCCRN-style STFT mask network.

    ``residual_name`` ("noise"): what ``sepcore-separate --stems speech`` calls the
    mixture minus the speech.

    Args:
        num_sources (int): masks to estimate (1 for enhancement: the speech).
        n_fft (int): STFT window and FFT size in samples.
        hop (int): STFT hop in samples (at most ``n_fft // 2``).
        channels (list of int): output channels of the encoder layers (the decoder
            mirrors them).
        kernel_freq (int): odd kernel size along frequency of every (de)convolution.
        kernel_time (int): frames the encoder convolutions look back over (causal).
        rnn_type (str): ``gru`` or ``lstm``.
        rnn_hidden (int): hidden units of the RNN (per direction).
        rnn_layers (int): stacked RNN layers.
        causal (bool): unidirectional RNN (no future frames) if true, else bidirectional.
        mask (str): ``complex`` (bounded complex ratio mask, DCCRN-E) or ``magnitude``
            (sigmoid magnitude mask, noisy phase).
        compress (float): power-law compression ``c`` of the input magnitudes.
    """

    residual_name = "noise"

    def __init__(
        self,
        num_sources: int = 1,
        n_fft: int = 256,
        hop: int = 128,
        channels: list[int] | tuple[int, ...] = (16, 32, 32, 64),
        kernel_freq: int = 5,
        kernel_time: int = 2,
        rnn_type: str = "gru",
        rnn_hidden: int = 128,
        rnn_layers: int = 1,
        causal: bool = False,
        mask: str = "complex",
        compress: float = 0.3,
    ):
        super().__init__()
        if num_sources < 1:
            raise ConfigError(f"num_sources must be >= 1, got {num_sources}")
        if mask not in MASKS:
            raise ConfigError(f"mask must be one of {', '.join(MASKS)}, got {mask!r}")
        if rnn_type not in RNNS:
            raise ConfigError(f"rnn_type must be one of {', '.join(RNNS)}, got {rnn_type!r}")
        if kernel_freq < 1 or kernel_freq % 2 == 0:
            raise ConfigError(f"kernel_freq must be an odd number >= 1, got {kernel_freq}")
        if kernel_time < 1:
            raise ConfigError(f"kernel_time must be >= 1, got {kernel_time}")
        channels = [int(c) for c in channels]
        if not channels or min(channels) < 1:
            raise ConfigError(f"channels must be a non-empty list of positive ints, got "
                              f"{channels}")
        if not 0 < compress <= 1:
            raise ConfigError(f"compress must be in (0, 1], got {compress}")
        self.stft = STFT(n_fft, hop)
        self.num_sources, self.n_fft, self.hop, self.stride = num_sources, n_fft, hop, hop
        self.causal, self.mask, self.compress = causal, mask, compress
        self.kernel_time = kernel_time
        in_ch = 3 if mask == "complex" else 1
        self.out_per_source = 2 if mask == "complex" else 1

        bins = [self.stft.num_bins]
        for _ in channels:
            bins.append((bins[-1] - 1) // 2 + 1)
        self.bins = bins
        pad_f = kernel_freq // 2
        self.encoder = nn.ModuleList()
        for cin, cout in zip([in_ch] + channels[:-1], channels):
            self.encoder.append(nn.Sequential(
                nn.Conv2d(cin, cout, (kernel_freq, kernel_time), stride=(2, 1),
                          padding=(pad_f, 0)),
                nn.BatchNorm2d(cout), nn.ELU()))
        width = channels[-1] * bins[-1]
        self.rnn = RNNS[rnn_type](width, rnn_hidden, rnn_layers, batch_first=True,
                                  bidirectional=not causal)
        self.rnn_out = nn.Linear(rnn_hidden * (1 if causal else 2), width)
        self.decoder = nn.ModuleList()
        outs = channels[:-1][::-1] + [num_sources * self.out_per_source]
        for i, (cin, cout) in enumerate(zip(channels[::-1], outs)):
            last = i == len(channels) - 1
            layers = [nn.ConvTranspose2d(2 * cin, cout, (kernel_freq, 1), stride=(2, 1),
                                         padding=(pad_f, 0))]
            if not last:
                layers += [nn.BatchNorm2d(cout), nn.ELU()]
            self.decoder.append(nn.Sequential(*layers))

    def receptive_field(self) -> None:
        """Unbounded: the RNN carries every past (and, if not causal, future) frame."""
        return None

    @property
    def lookahead(self) -> int:
        """Input samples after an output sample that can change it (the STFT window)."""
        return self.n_fft - 1 if self.causal else None

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """Noisy STFT ``[B, F, T]`` → network input ``[B, 1 or 3, F, T]``."""
        mag = X.abs().clamp_min(1e-8)
        comp = mag.pow(self.compress)
        if self.mask == "magnitude":
            return comp.unsqueeze(1)
        unit = comp / mag
        return torch.stack((comp, X.real * unit, X.imag * unit), dim=1)

    def masks(self, feats: torch.Tensor) -> torch.Tensor:
        """Features ``[B, C, F, T]`` → raw mask channels ``[B, S, 1 or 2, F, T]``."""
        encoded = []
        h = feats
        for layer in self.encoder:
            h = layer(F.pad(h, (self.kernel_time - 1, 0)))  # look back only
            encoded.append(h)
        B, C, Fb, T = h.shape
        r, _ = self.rnn(h.permute(0, 3, 1, 2).reshape(B, T, C * Fb))
        h = self.rnn_out(r).reshape(B, T, C, Fb).permute(0, 2, 3, 1)
        for i, (layer, skip) in enumerate(zip(self.decoder, reversed(encoded))):
            h = _fit_bins(layer(torch.cat((h, skip), dim=1)), self.bins[-2 - i])
        return h.reshape(B, self.num_sources, self.out_per_source, h.shape[2], T)

    def apply_masks(self, X: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        """Noisy STFT ``[B, F, T]`` and raw masks ``[B, S, 1|2, F, T]`` → ``[B, S, F, T]``."""
        if self.mask == "magnitude":
            return torch.sigmoid(m[:, :, 0]) * X.unsqueeze(1)
        re, im = m[:, :, 0], m[:, :, 1]
        norm = torch.sqrt(re * re + im * im + 1e-12)
        scale = torch.tanh(norm) / norm
        mask = torch.complex(re * scale, im * scale)
        return mask * X.unsqueeze(1)

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """``[batch, time]`` (or ``[time]``) → ``[batch, sources, time]``."""
        squeeze = mixture.dim() == 1
        x = mixture.unsqueeze(0) if squeeze else mixture
        if x.dim() != 2:
            raise ValueError(f"expected [batch, time], got {tuple(mixture.shape)}")
        X = self.stft(x)
        Y = self.apply_masks(X, self.masks(self.features(X)))
        y = self.stft.inverse(Y, x.shape[-1])
        return y.squeeze(0) if squeeze else y


def _fit_bins(h: torch.Tensor, bins: int) -> torch.Tensor:
    """Crop or zero-pad the frequency axis (dim 2) to ``bins``."""
    have = h.shape[2]
    if have > bins:
        return h[:, :, :bins]
    if have < bins:
        return F.pad(h, (0, 0, 0, bins - have))
    return h
