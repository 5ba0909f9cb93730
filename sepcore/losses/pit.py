"""Permutation-invariant training (Yu et al. 2017; Kolbæk et al. 2017).

Given a pairwise loss matrix ``[B, S_est, S_ref]``, find for each example the
assignment of estimates to references with the least mean loss (the solver is
sepcore/permutation.py: every permutation at once on the tensor up to 8 sources, the
Hungarian algorithm beyond).
"""

from __future__ import annotations

from typing import Callable

import torch

from sepcore.permutation import best_permutations


def reorder_sources(estimates: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Reorder ``[B, S, ...]`` estimates so that estimate ``j`` matches reference ``j``."""
    index = perm.view(perm.shape + (1,) * (estimates.dim() - 2)).expand(
        perm.shape + estimates.shape[2:]
    )
    return torch.gather(estimates, 1, index)


class PITLoss:
    """``loss, perm = PITLoss(pairwise_fn)(estimates, references)``.

    ``pairwise_fn(est [B,S,T], ref [B,S,T]) -> [B, S_est, S_ref]``; the loss is the
    batch mean of the per-example mean over sources under the best permutation. Named
    sources (``loss.pit: false``) use :class:`sepcore.losses.music.FixedOrderLoss`.
    """

    def __init__(self, pairwise_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]):
        self.pairwise_fn = pairwise_fn

    def __call__(
        self, estimates: torch.Tensor, references: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        pairwise = self.pairwise_fn(estimates, references)
        with torch.no_grad():
            perm = best_permutations(pairwise)
        refs = torch.arange(pairwise.shape[2], device=pairwise.device)
        chosen = pairwise[torch.arange(pairwise.shape[0]).unsqueeze(1), perm, refs]
        return chosen.mean(), perm
