"""Permutation-invariant training (Yu et al. 2017; Kolbæk et al. 2017).

Given a pairwise loss matrix ``[B, S_est, S_ref]``, find for each example the
assignment of estimates to references with the least mean loss. Up to 8 sources
every permutation is scored at once on the tensor; beyond that the Hungarian
algorithm (scipy) solves each example.
"""

from __future__ import annotations

import itertools
from typing import Callable

import torch

BRUTE_FORCE_MAX_SOURCES = 8


def best_permutations(pairwise: torch.Tensor) -> torch.Tensor:
    """``[B, S, S]`` loss matrix → ``[B, S]``: perm[b, j] = estimate index for reference j."""
    batch, n_est, n_ref = pairwise.shape
    if n_est != n_ref:
        raise ValueError(f"PIT needs as many estimates as references, got {n_est} and {n_ref}")
    if n_ref <= BRUTE_FORCE_MAX_SOURCES:
        perms = torch.tensor(list(itertools.permutations(range(n_ref))), device=pairwise.device)
        refs = torch.arange(n_ref, device=pairwise.device)
        # cost[b, p] = sum_j pairwise[b, perms[p, j], j]
        cost = pairwise[:, perms, refs].sum(dim=-1)
        return perms[cost.argmin(dim=1)]
    from scipy.optimize import linear_sum_assignment

    out = []
    for matrix in pairwise.detach().cpu().numpy():
        est_idx, ref_idx = linear_sum_assignment(matrix)
        perm = [0] * n_ref
        for e, r in zip(est_idx, ref_idx):
            perm[r] = e
        out.append(perm)
    return torch.tensor(out, device=pairwise.device)


def reorder_sources(estimates: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Reorder ``[B, S, ...]`` estimates so that estimate ``j`` matches reference ``j``."""
    index = perm.view(perm.shape + (1,) * (estimates.dim() - 2)).expand(
        perm.shape + estimates.shape[2:]
    )
    return torch.gather(estimates, 1, index)


class PITLoss:
    """``loss, perm = PITLoss(pairwise_fn)(estimates, references)``.

    ``pairwise_fn(est [B,S,T], ref [B,S,T]) -> [B, S_est, S_ref]``; the loss is the
    batch mean of the per-example mean over sources under the best permutation, or
    with ``permute=False`` (the config's ``loss.pit: false``, for named sources such as
    music stems) under the identity: estimate k is scored against reference k.
    """

    def __init__(self, pairwise_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 permute: bool = True):
        self.pairwise_fn = pairwise_fn
        self.permute = permute

    def __call__(
        self, estimates: torch.Tensor, references: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        pairwise = self.pairwise_fn(estimates, references)
        if self.permute:
            with torch.no_grad():
                perm = best_permutations(pairwise)
        else:
            perm = torch.arange(pairwise.shape[2], device=pairwise.device).expand(
                pairwise.shape[0], -1)
        refs = torch.arange(pairwise.shape[2], device=pairwise.device)
        chosen = pairwise[torch.arange(pairwise.shape[0]).unsqueeze(1), perm, refs]
        return chosen.mean(), perm
