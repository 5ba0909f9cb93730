"""sepcore.data.loader: data.num_workers changes the speed, never the batches."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from helpers.datadirs import make_datadir
from torch.utils.data import Dataset

from sepcore.data import DataDir, SegmentDataset
from sepcore.data.loader import loader_seed, train_loader

BATCHES = [[3, 0], [5, 1], [2, 7], [4, 6], [1, 1]]


def all_batches(dataset, workers: int, epoch: int, seed: int = 0) -> list:
    dataset.set_epoch(epoch)
    return list(train_loader(dataset, BATCHES, num_workers=workers, seed=seed, epoch=epoch))


@pytest.mark.slow
@pytest.mark.parametrize("dynamic_mixing", [True, False])
def test_workers_give_the_batches_of_the_main_process(tmp_path, dynamic_mixing):
    dd = DataDir.load(make_datadir(tmp_path, "train", num_utts=8, seed=1))
    dataset = SegmentDataset(dd, segment=0.3, sample_rate=8000, seed=5,
                             dynamic_mixing=dynamic_mixing, epoch_size=8)
    for epoch in (1, 2):
        reference = all_batches(dataset, 0, epoch)
        assert len(reference) == len(BATCHES)
        for workers in (2, 4):
            got = all_batches(dataset, workers, epoch)
            for (m0, s0), (m1, s1) in zip(reference, got):
                assert torch.equal(m0, m1) and torch.equal(s0, s1)
    # and the epochs differ
    assert not torch.equal(all_batches(dataset, 0, 1)[0][0], all_batches(dataset, 0, 2)[0][0])


class GlobalRandom(Dataset):
    """What a dataset that uses the global generators sees in each worker."""

    def __len__(self):
        return 8

    def __getitem__(self, index):
        info = torch.utils.data.get_worker_info()
        return torch.tensor([float(info.id if info else -1), float(torch.initial_seed() % 2**32),
                             float(np.random.randint(2**31)), random.random()])


@pytest.mark.slow
def test_worker_seeds_come_from_seed_epoch_and_worker():
    def seeds(seed, epoch):
        rows = torch.cat(list(train_loader(GlobalRandom(), BATCHES, num_workers=2, seed=seed,
                                           epoch=epoch)))
        return {int(r[0]): tuple(r[1:].tolist()) for r in rows}  # worker → its draws

    before = torch.get_rng_state()
    first = seeds(0, 1)
    assert torch.equal(torch.get_rng_state(), before)  # the training process's RNG untouched
    assert sorted(first) == [0, 1] and first[0] != first[1]
    assert seeds(0, 1) == first  # a rerun (or a resumed run) gives the same seeds
    assert seeds(0, 2) != first and seeds(1, 1) != first
    assert loader_seed(0, 1) != loader_seed(0, 2) != loader_seed(1, 2)
