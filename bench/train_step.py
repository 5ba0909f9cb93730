#!/usr/bin/env python3
"""Seconds per training step of a recipe config on this machine's CPU, per allocator.

Usage: tools/venv/bin/python bench/train_step.py [--steps 60] [--repeats 3] [--threads N]
                                                 [conf.yaml[@RATE] ...]

Builds the model of each config (default: egs/mini/convtasnet/conf/train.yaml; RATE, e.g.
``@16000``, for a config that leaves the sample rate to its data) and times
full training steps (forward, the config's loss, backward, Adam) on random batches of the
config's ``training.batch_size`` x ``data.segment`` seconds (``[batch, channels, time]``
for multichannel models such as umx), after 10 warm-up steps. Besides wall time it
reports the process's CPU time per step divided by the threads: on a machine shared with
other jobs that is close to what the step takes when the machine is quiet. Each
repeat runs in a fresh process, alternating glibc's malloc and tcmalloc (preloaded from
utils/find_tcmalloc.sh, as steps/train.sh does) so both see the same machine load; the
median of the repeats is printed. With several configs the repeats interleave them (every
config sees the same load) and each is also given as a ratio of the first one's CPU time,
which carries a known quiet-machine figure over to the others. Run it on an otherwise
idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def time_steps(conf: str, steps: int, threads: int | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds / threads) per step."""
    import torch

    from sepcore.config import load_config
    from sepcore.losses import build_criterion
    from sepcore.models import build_model

    conf, _, rate = conf.partition("@")
    cfg = load_config(conf)
    if rate:
        cfg["data"]["sample_rate"] = int(rate)
    threads = threads or cfg["training"]["num_threads"] or torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model(cfg["model"])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)  # as the trainer
    pit = build_criterion(cfg["loss"])
    # recipe configs leave the rate to the data (null): the mini recipes' 8 kHz then
    samples = int(cfg["data"]["segment"] * (cfg["data"]["sample_rate"] or 8000))
    batch = cfg["training"]["batch_size"]
    channels = int(getattr(model, "audio_channels", 1))
    shape = (batch, model.num_sources) + ((channels,) if channels > 1 else ()) + (samples,)
    sources = 0.1 * torch.randn(shape)
    mixture = sources.sum(dim=1)

    def step():
        loss, _ = pit(model(mixture), sources)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(10):
        step()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return ((time.perf_counter() - start) / steps,
            (time.process_time() - cpu) / steps / threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("confs", nargs="*", metavar="conf",
                        default=[os.path.join(ROOT, "egs/mini/convtasnet/conf/train.yaml@8000")])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(time_steps(args.confs[0], args.steps, args.threads)))
        return

    from sepcore.config import load_config

    for conf in args.confs:
        path, _, rate = conf.partition("@")
        if not rate and not load_config(path)["data"]["sample_rate"]:
            parser.error(f"{path} leaves data.sample_rate to the data: give it as {path}@RATE")
    found = subprocess.run([os.path.join(ROOT, "utils/find_tcmalloc.sh")],
                           capture_output=True, text=True)
    allocators = {"glibc malloc": None}
    if found.returncode == 0:
        allocators["tcmalloc"] = found.stdout.strip()
    else:
        print("tcmalloc not installed (Debian: libtcmalloc-minimal4): timing glibc only")
    times = {(c, a): [] for c in args.confs for a in allocators}
    cpu_times = {key: [] for key in times}
    for _ in range(args.repeats):
        for conf in args.confs:
            command = [sys.executable, os.path.abspath(__file__), conf, "--worker",
                       "--steps", str(args.steps)] + (["--threads", str(args.threads)]
                                                      if args.threads else [])
            for name, lib in allocators.items():
                env = dict(os.environ)
                env.pop("LD_PRELOAD", None)
                if lib:
                    env["LD_PRELOAD"] = lib
                out = subprocess.run(command, env=env, capture_output=True, text=True,
                                     check=True)
                wall, cpu = json.loads(out.stdout.strip().splitlines()[-1])
                times[conf, name].append(wall)
                cpu_times[conf, name].append(cpu)
    first = args.confs[0]
    for conf in args.confs:
        print(f"{conf}: seconds per training step (median of {args.repeats}, "
              f"{args.steps} steps each)")
        base = statistics.median(times[conf, "glibc malloc"])
        for name in allocators:
            med = statistics.median(times[conf, name])
            cpu = statistics.median(cpu_times[conf, name])
            runs = " ".join(f"{v:.4f}" for v in times[conf, name])
            ratio = ("" if conf == first else
                     f"; {cpu / statistics.median(cpu_times[first, name]):.2f}x the first "
                     "config's CPU time")
            print(f"  {name:13s} {med:.4f} s/step  ({base / med:.2f}x)  runs: {runs}; "
                  f"CPU time / threads {cpu:.4f} s/step{ratio}")


if __name__ == "__main__":
    main()
