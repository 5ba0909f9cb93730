#!/usr/bin/env python3
"""Training examples per second that the data loader delivers, per data.num_workers.

Usage: tools/venv/bin/python bench/data_loading.py [--utts 1000] [--workers 0 2 4]
                                                   [--batches 100] [--batch-size 8]
                                                   [--segment 4] [--dynamic-mixing true]

Writes a data dir of ``--utts`` utterances (a 16-bit 8 kHz wav mixture and two source
wavs each, 3-6 s long: 3 x utts files) in a temporary folder, then times the training
loader of sepcore (sepcore.data.loader.train_loader over SegmentDataset, as the trainer
builds it) through ``--batches`` batches of ``--batch-size`` x ``--segment`` seconds for
each worker count, after one warm-up batch (which includes starting the workers).
Nothing is trained: this is the rate at which the loader can feed a GPU. Prints one
Markdown row per worker count.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def write_datadir(folder: Path, utts: int, sample_rate: int = 8000) -> Path:
    from sepcore.data import DataDir

    rng = np.random.default_rng(0)
    wav, sources = {}, [{}, {}]
    spks = {}
    for i in range(utts):
        utt = f"u{i:05d}"
        n = int(rng.uniform(3, 6) * sample_rate)
        s = (0.1 * rng.standard_normal((2, n))).astype(np.float32)
        for k in range(2):
            path = folder / f"{utt}_s{k + 1}.wav"
            sf.write(path, s[k], sample_rate, subtype="PCM_16")
            sources[k][utt] = str(path)
        path = folder / f"{utt}.wav"
        sf.write(path, s.sum(axis=0), sample_rate, subtype="PCM_16")
        wav[utt] = str(path)
        spks[utt] = [f"spk{i % 50}", f"spk{(i + 1) % 50}"]
    data = folder / "data"
    DataDir.write(data, wav, sources, utt2spks=spks)
    return data


def examples_per_second(data: Path, workers: int, batches: int, batch_size: int,
                        segment: float, dynamic_mixing: bool) -> float:
    from sepcore.data import DataDir, SegmentDataset
    from sepcore.data.loader import train_loader

    dataset = SegmentDataset(DataDir.load(data), segment=segment, sample_rate=8000,
                             dynamic_mixing=dynamic_mixing, epoch_size=(batches + 1) * batch_size)
    dataset.set_epoch(1)
    order = np.random.default_rng(1).permutation(len(dataset))
    index = [order[i: i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    loader = iter(train_loader(dataset, index, num_workers=workers, seed=0, epoch=1))
    next(loader)  # warm-up: workers started, first files opened
    start = time.perf_counter()
    count = sum(len(mixture) for mixture, _ in loader)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--utts", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2, 4])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--segment", type=float, default=4.0)
    parser.add_argument("--dynamic-mixing", default="true", choices=["true", "false"])
    args = parser.parse_args()
    import warnings

    import torch

    torch.set_num_threads(1)
    # more workers than CPUs is the point of the comparison, not a mistake
    warnings.filterwarnings("ignore", message=".*worker processes in total")
    with tempfile.TemporaryDirectory(prefix="sepcore-bench-data-") as tmp:
        t0 = time.perf_counter()
        data = write_datadir(Path(tmp), args.utts)
        print(f"# {args.utts} utterances ({3 * args.utts} wav files) written in "
              f"{time.perf_counter() - t0:.1f} s; batch {args.batch_size} x {args.segment} s, "
              f"dynamic_mixing {args.dynamic_mixing}, {os.cpu_count()} CPUs")
        print("| num_workers | examples/s |\n|---|---|")
        for workers in args.workers:
            rate = examples_per_second(data, workers, args.batches, args.batch_size,
                                       args.segment, args.dynamic_mixing == "true")
            print(f"| {workers} | {rate:.0f} |", flush=True)


if __name__ == "__main__":
    main()
