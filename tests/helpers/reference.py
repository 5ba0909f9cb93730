"""Reference implementations the library is checked against (plain, float64, unoptimised)."""

from __future__ import annotations

import numpy as np


def fit_to_range_float64(estimates: np.ndarray, mixture: np.ndarray, subtype: str) -> np.ndarray:
    """sepcore.io.fit_to_range's rule on whole float64 copies (the former implementation)."""
    est = np.nan_to_num(np.asarray(estimates, dtype=np.float64))
    mix = np.asarray(mixture, dtype=np.float64).reshape(-1)
    n = est.shape[0]
    flat = est.reshape(n, -1)
    mix_energy = float(mix @ mix) if flat.shape[1] == mix.size else 0.0
    gains = np.ones(n)
    for i in range(n):
        energy = float(flat[i] @ flat[i])
        if energy == 0.0 or mix_energy == 0.0:
            continue
        g = float(flat[i] @ mix) / energy
        if abs(g) * np.sqrt(energy) < 0.01 * np.sqrt(mix_energy):  # orthogonal to the mixture
            g = np.sqrt(mix_energy / energy) / n
        gains[i] = g
    est = est * gains.reshape((n,) + (1,) * (est.ndim - 1))
    limit = 0.99
    if subtype in ("FLOAT", "DOUBLE") and mix.size:
        limit = max(limit, float(np.max(np.abs(mix))))
    peak = float(np.max(np.abs(est))) if est.size else 0.0
    if peak > limit:
        est *= limit / peak
    return est.astype(np.float32)
