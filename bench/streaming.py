#!/usr/bin/env python3
"""Streaming speed of causal models on ONE thread: real-time factor and per-block times.

Usage: tools/venv/bin/python bench/streaming.py [--seconds 20] [--blocks-ms 2,4,8,16,32]
                                                [MODEL ...]

MODEL is a recipe config ``conf.yaml[@RATE]`` (its model built with random weights:
speed does not depend on them; RATE when the config leaves the rate to the data),
``NAME@RATE:{json model args}`` (e.g. ``crn@16000:{"causal": true}``) or a
trained model (pack, exp dir or model.pt); the default is the causal mini models
(egs/mini/convtasnet/conf/train_causal.yaml, the mini enhancement recipe's
conf/train_causal*.yaml when there is one) and the causal CRN enhancement model with
its defaults at 16 kHz. For each block length, ``--seconds`` of noise are
streamed block by block after a one-second warm-up; printed per row: the real-time
factor (compute / audio, wall clock; and in thread CPU time, which a loaded machine
inflates less), the mean and worst per-block compute time, the algorithmic latency
(the model's window + one block) and the largest difference to the offline output
(relative to its peak). Run it on an otherwise idle machine for absolute figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

DEFAULT_MODELS = [
    "egs/mini/convtasnet/conf/train_causal.yaml@8000",
    "egs/mini_enh/*/conf/train_causal*.yaml@16000",
    # the causal enhancement model (sepcore/models/crn.py) at 16 kHz: its defaults, and
    # the real-time configuration its README recommends
    'crn@16000:{"causal": true}',
    'crn@16000:{"causal": true, "n_fft": 192, "hop": 96}',
]


def expand(spec: str) -> list[str]:
    """A config glob (``path@RATE``: the rate of its data) → the configs that exist."""
    path, _, rate = spec.partition("@")
    if not path.endswith((".yaml", ".yml")):
        return [spec]
    import glob

    found = sorted(glob.glob(path)) or sorted(glob.glob(os.path.join(ROOT, path)))
    return [f"{p}@{rate}" if rate else p for p in found]


def load_any(spec: str):
    """(label, nn.Module, sample_rate) from ``NAME@RATE:{json args}``, a config or a model."""
    import torch

    from sepcore.models import build_model

    path, _, rate = spec.partition("@")
    if path.endswith((".yaml", ".yml")):
        from sepcore.config import load_config

        cfg = load_config(path)
        rate = rate or cfg["data"].get("sample_rate")
        if not rate:
            sys.exit(f"{path}: give the rate of its data as {path}@RATE")
        torch.manual_seed(0)
        return path, build_model(cfg["model"]).eval(), int(rate)
    if "@" in spec and not os.path.exists(spec):
        import json

        name, _, rest = spec.partition("@")
        rate, _, args = rest.partition(":")
        torch.manual_seed(0)
        return spec, build_model({"name": name, **json.loads(args or "{}")}).eval(), int(rate)
    from sepcore.api import load

    model = load(spec)
    return spec, model.model, model.sample_rate


def bench_one(model, rate: int, block_ms: float, seconds: float) -> dict:
    import torch

    from sepcore.streaming import Stream

    block = max(1, int(round(block_ms * rate / 1000)))
    gen = torch.Generator().manual_seed(0)
    x = 0.1 * torch.randn(int(seconds * rate), generator=gen)
    stream = Stream(model)
    for s in range(0, rate, block):  # warm-up: one second
        stream.process(x[s:s + block])
    stream.reset()
    outs, wall, cpu = [], [], []
    for s in range(0, x.shape[0], block):
        t0, c0 = time.perf_counter(), time.thread_time()
        outs.append(stream.process(x[s:s + block]))
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    outs.append(stream.finish())
    with torch.inference_mode():
        ref = model(x)
    err = float((torch.cat(outs, 1) - ref).abs().max() / ref.abs().max())
    return {
        "block_ms": 1000 * block / rate, "rtf": sum(wall) / seconds, "rtf_cpu": sum(cpu) / seconds,
        "mean_ms": 1000 * sum(wall) / len(wall), "worst_ms": 1000 * max(wall),
        "latency_ms": 1000 * (stream.window + block) / rate, "err": err,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="*", default=None)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--blocks-ms", default="2,4,8,16,32")
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)
    models = [m for spec in (args.models or DEFAULT_MODELS) for m in expand(spec)]
    print(f"torch {torch.__version__}, 1 thread, {args.seconds:g} s of audio per row\n")
    print("| model | block | RTF (wall) | RTF (CPU) | mean / worst per block | algorithmic "
          "latency | max rel. diff to offline |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for spec in models:
        label, model, rate = load_any(spec)
        label = os.path.relpath(label, ROOT) if os.path.exists(label) else label
        for ms in (float(b) for b in args.blocks_ms.split(",")):
            r = bench_one(model, rate, ms, args.seconds)
            print(f"| {label} | {r['block_ms']:g} ms | {r['rtf']:.3f} | "
                  f"{r['rtf_cpu']:.3f} | {r['mean_ms']:.2f} / {r['worst_ms']:.2f} ms | "
                  f"{r['latency_ms']:g} ms | {r['err']:.1e} |", flush=True)


if __name__ == "__main__":
    main()
