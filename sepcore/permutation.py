"""The one permutation solver: which estimate goes with which reference.

``score[k, j]`` rates estimate k against reference j; the best permutation maximizes the
sum over references (or minimizes it, for a loss). Up to 8 sources every permutation is
tried, in ``itertools.permutations`` order, the first best winning (so the identity wins
a tie); beyond that the Hungarian algorithm (scipy) solves it. :func:`best_permutation`
solves one NumPy matrix (scoring, chunk alignment), :func:`best_permutations` a batch of
torch matrices at once (permutation-invariant training), with the same rule.
"""

from __future__ import annotations

import itertools

import numpy as np

BRUTE_FORCE_MAX_SOURCES = 8


def _hungarian(score: np.ndarray, maximize: bool) -> list[int]:
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(score, maximize=maximize)
    perm = [0] * score.shape[1]
    for r, c in zip(rows, cols):
        perm[c] = int(r)
    return perm


def best_permutation(score: np.ndarray, maximize: bool = True) -> list[int]:
    """``score [K, S]`` → ``perm`` with ``perm[j]`` the estimate for reference ``j``."""
    score = np.asarray(score, dtype=np.float64)
    k, s = score.shape
    if s > BRUTE_FORCE_MAX_SOURCES:
        return _hungarian(score, maximize)
    sign = 1.0 if maximize else -1.0
    best, best_val = None, -np.inf
    for perm in itertools.permutations(range(k), s):
        val = sign * score[list(perm), np.arange(s)].sum()
        if val > best_val:
            best, best_val = list(perm), val
    return best


def best_permutations(pairwise, maximize: bool = False):
    """A torch batch ``[B, S, S]`` → ``[B, S]`` (``perm[b, j]``: estimate for reference j);
    by default the one of least total (a loss)."""
    import torch

    batch, n_est, n_ref = pairwise.shape
    if n_est != n_ref:
        raise ValueError(f"PIT needs as many estimates as references, got {n_est} and {n_ref}")
    if n_ref <= BRUTE_FORCE_MAX_SOURCES:
        perms = torch.tensor(list(itertools.permutations(range(n_ref))), device=pairwise.device)
        refs = torch.arange(n_ref, device=pairwise.device)
        # cost[b, p] = sum_j pairwise[b, perms[p, j], j]
        cost = pairwise[:, perms, refs].sum(dim=-1)
        return perms[cost.argmax(dim=1) if maximize else cost.argmin(dim=1)]
    out = [_hungarian(m, maximize) for m in pairwise.detach().cpu().numpy()]
    return torch.tensor(out, device=pairwise.device)
