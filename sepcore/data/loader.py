"""The training DataLoader: the same batches with any ``data.num_workers``.

A dataset draws each example's randomness from ``(seed, epoch, index)``
(``SegmentDataset._rng``), so which worker loads an example does not change it. What
is left to the workers' own random state (a dataset or augmentation that uses
``torch``/``numpy``/``random`` global generators) is seeded from ``(seed, epoch,
worker id)`` here: the loader gets its own generator, so a rerun or a resumed run
gives every worker the same seeds, and starting workers does not draw from the
training process's torch generator (which would make the rest of training depend on
``num_workers``).
"""

from __future__ import annotations

import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


def loader_seed(seed: int, epoch: int) -> int:
    """The seed of an epoch's loader generator: torch draws the workers' base seed from
    it, and worker ``w`` runs with ``base seed + w``."""
    return int(np.random.default_rng([seed, epoch, 104729]).integers(0, 2**62))


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn``: numpy's and Python's global generators from the worker's torch
    seed (torch seeds only its own; numpy would otherwise be a copy of the parent's)."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def train_loader(dataset: Dataset, batches: list[list[int]], *, num_workers: int, seed: int,
                 epoch: int, pin_memory: bool = False) -> DataLoader:
    """A DataLoader over ``batches`` (lists of dataset indices, in order)."""
    return DataLoader(
        dataset, batch_sampler=batches, num_workers=num_workers,
        generator=torch.Generator().manual_seed(loader_seed(seed, epoch)),
        worker_init_fn=seed_worker if num_workers else None,
        pin_memory=pin_memory,
    )
