"""Scale-invariant SDR (Le Roux et al., "SDR - half-baked or well done?", ICASSP 2019).

SI-SDR(ŝ, s) = 10 log10(|α s|² / |α s − ŝ|²),  α = <ŝ, s> / |s|²,
after removing the mean of both signals.
"""

from __future__ import annotations

import torch

EPS = 1e-8


def si_sdr(estimate: torch.Tensor, reference: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """SI-SDR in dB over the last axis; any leading shape (broadcast)."""
    estimate = estimate - estimate.mean(dim=-1, keepdim=True)
    reference = reference - reference.mean(dim=-1, keepdim=True)
    dot = (estimate * reference).sum(dim=-1, keepdim=True)
    energy = reference.pow(2).sum(dim=-1, keepdim=True) + eps
    target = dot / energy * reference
    noise = estimate - target
    ratio = target.pow(2).sum(dim=-1) / (noise.pow(2).sum(dim=-1) + eps)
    return 10 * torch.log10(ratio + eps)


def pairwise_neg_si_sdr(estimates: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """``[B, S, T]`` × ``[B, S, T]`` → ``[B, S_est, S_ref]`` of −SI-SDR."""
    return -si_sdr(estimates.unsqueeze(2), references.unsqueeze(1))
