"""Per-source losses for named stems, no permutation: ``[B, S, ...]`` × same → ``[B, S]``.

- ``magnitude_mse``: mean squared error between STFT magnitudes, Open-Unmix's training
  loss (Stöter et al., "Open-Unmix - A Reference Implementation for Music Source
  Separation", JOSS 2019), here on the magnitudes of the waveform estimates.
- ``neg_sdr``: minus the MDX 2021 SDR ``10 log10((Σ s² + δ) / (Σ (s − ŝ)² + δ))`` over all
  channels and samples (Mitsufuji et al. 2021), a time-domain loss that is also the
  challenge's metric; X-UMX (Sawata et al. 2021) trains on a weighted sum of both.
- ``neg_si_sdr``: minus SI-SDR averaged over channels.
- ``l1``: mean absolute error of the waveforms, Demucs's training loss (Défossez et al.
  2019).

``FixedOrderLoss(fn)`` has ``PITLoss``'s interface (``loss, perm = f(est, ref)``) with the
identity permutation: estimate ``k`` is always scored against reference ``k``.
"""

from __future__ import annotations

from typing import Callable

import torch

from sepcore.losses.sisdr import si_sdr
from sepcore.spectral.stft import stft

MDX_DELTA = 1e-7


def _reduce(x: torch.Tensor) -> torch.Tensor:
    """Mean over every axis after the first two (batch, source)."""
    return x.flatten(2).mean(dim=2) if x.dim() > 2 else x


def magnitude_mse(estimates: torch.Tensor, references: torch.Tensor, n_fft: int = 4096,
                  hop_length: int = 1024) -> torch.Tensor:
    """MSE of |STFT| (sepcore.spectral's STFT) per example and source."""
    diff = stft(estimates, n_fft, hop_length).abs() - stft(references, n_fft, hop_length).abs()
    return _reduce(diff.pow(2))


def neg_sdr(estimates: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """Minus the MDX SDR (all channels and samples of a source together), in dB."""
    num = references.pow(2).flatten(2).sum(dim=2) + MDX_DELTA
    den = (references - estimates).pow(2).flatten(2).sum(dim=2) + MDX_DELTA
    return -10 * torch.log10(num / den)


def neg_si_sdr(estimates: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """Minus SI-SDR over the last axis, averaged over any channel axes."""
    return _reduce(-si_sdr(estimates, references))


def l1(estimates: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """Mean absolute waveform error per example and source."""
    return _reduce((estimates - references).abs())


class FixedOrderLoss:
    """``loss, perm = FixedOrderLoss(fn)(estimates, references)``; perm is the identity."""

    def __init__(self, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]):
        self.fn = fn

    def __call__(self, estimates: torch.Tensor,
                 references: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if estimates.shape != references.shape:
            raise ValueError(f"estimates {tuple(estimates.shape)} and references "
                             f"{tuple(references.shape)} differ in shape")
        batch, sources = references.shape[:2]
        perm = torch.arange(sources, device=references.device).expand(batch, sources)
        return self.fn(estimates, references).mean(), perm
