"""The one SI-SDR (Le Roux et al., "SDR - half-baked or well done?", ICASSP 2019).

SI-SDR(ŝ, s) = 10 log10(|α s|² / |α s − ŝ|²),  α = <ŝ, s> / |s|²,
after removing the mean of both signals, over the last axis (leading axes broadcast).

One formula for both uses: on NumPy arrays (scoring) it computes in float64 without a
stabilizer and gives NaN for a silent reference (undefined); on torch tensors (the
training loss, sepcore/losses) ``eps`` keeps it finite and differentiable. This module
imports no torch.
"""

from __future__ import annotations

import numpy as np


def si_sdr(estimate, reference, eps: float = 0.0, zero_mean: bool = True):
    """SI-SDR in dB of ``estimate`` against ``reference`` (NumPy arrays or torch tensors)."""
    is_numpy = isinstance(estimate, np.ndarray) or not hasattr(estimate, "dim")
    if is_numpy:
        estimate = np.asarray(estimate, dtype=np.float64)
        reference = np.asarray(reference, dtype=np.float64)
    if zero_mean:
        estimate = estimate - estimate.mean(-1, keepdims=True)
        reference = reference - reference.mean(-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        dot = (estimate * reference).sum(-1, keepdims=True)
        energy = (reference**2).sum(-1, keepdims=True) + eps
        target = dot / energy * reference
        noise = estimate - target
        ratio = (target**2).sum(-1) / ((noise**2).sum(-1) + eps)
        if not is_numpy:
            import torch

            return 10 * torch.log10(ratio + eps)
        out = 10.0 * np.log10(ratio + eps)
    out = np.where(energy[..., 0] == 0, np.nan, out)
    return out if out.ndim else float(out)
