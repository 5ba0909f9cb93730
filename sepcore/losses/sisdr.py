"""Scale-invariant SDR (Le Roux et al., "SDR - half-baked or well done?", ICASSP 2019).

SI-SDR(ŝ, s) = 10 log10(|α s|² / |α s − ŝ|²),  α = <ŝ, s> / |s|²,
after removing the mean of both signals.
"""

from __future__ import annotations

import torch

from sepcore.metrics.sisdr import si_sdr as _si_sdr

EPS = 1e-8


def si_sdr(estimate: torch.Tensor, reference: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """SI-SDR in dB over the last axis; any leading shape (broadcast). The formula is
    sepcore/metrics/sisdr.py's; ``eps`` keeps the loss finite for silent signals."""
    return _si_sdr(estimate, reference, eps=eps)


def pairwise_neg_si_sdr(estimates: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """``[B, S, T]`` × ``[B, S, T]`` → ``[B, S_est, S_ref]`` of −SI-SDR."""
    return -si_sdr(estimates.unsqueeze(2), references.unsqueeze(1))
