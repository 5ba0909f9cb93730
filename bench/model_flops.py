#!/usr/bin/env python3
"""Parameters and FLOPs per second of audio of the published recipe configurations.

Usage: tools/venv/bin/python bench/model_flops.py [--seconds 1] [--sample-rate 8000] [conf.yaml ...]

Builds each model from its recipe config (default: the WHAM! ConvTasNet and DPRNN confs,
2 sources) and counts the forward pass (inference) on ``--seconds`` of audio with
torch.utils.flop_counter.FlopCounterMode (matrix multiplications and convolutions,
including those inside the LSTMs; one multiply-add = 2 FLOPs), divided by the length.
Element-wise work (norms, activations, masks, LSTM gates) is not counted.

On CPU, torch runs nn.LSTM as one opaque ``aten.mkldnn_rnn_layer`` call per layer and
direction, for which FlopCounterMode has no formula (it would count 0): the formula
below adds its two matrix products per step, 2 * steps * (|W_ih| + |W_hh|).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from math import prod  # noqa: E402

from sepcore.config import load_config  # noqa: E402
from sepcore.models import build_model, count_parameters  # noqa: E402
from sepcore.nn.kernels import reference_kernels  # noqa: E402

DEFAULT_CONFS = [
    "egs/wham/convtasnet/conf/train.yaml",
    "egs/wham/dprnn/conf/train_ks16.yaml",
    "egs/wham/dprnn/conf/train_ks2.yaml",
    "egs/wham/sudormrf/conf/train.yaml",
]


def _rnn_layer_flops(input_shape, w_ih, w_hh, *args, out_val=None, **kwargs) -> int:
    steps = prod(input_shape) // input_shape[-1]  # time x batch
    return 2 * steps * (prod(w_ih) + prod(w_hh))


def flop_counter() -> FlopCounterMode:
    mapping = {}
    if hasattr(torch.ops.aten, "mkldnn_rnn_layer"):
        mapping[torch.ops.aten.mkldnn_rnn_layer] = _rnn_layer_flops
    return FlopCounterMode(display=False, custom_mapping=mapping)


def count_flops(model: torch.nn.Module, x: torch.Tensor) -> int:
    """FLOPs of ``model(x)``, counted on the reference kernels (sepcore/nn/kernels.py):
    the counter does not see the oneDNN products of the fast ones (sepcore/nn/onednn.py),
    which compute the same products."""
    counter = flop_counter()
    with torch.no_grad(), reference_kernels(), counter:
        model(x)
    return counter.get_total_flops()


def measure(conf: str, seconds: float, sample_rate: int, num_sources: int) -> dict:
    cfg = load_config(conf)
    model = build_model({**cfg["model"], "num_sources": num_sources}).eval()
    x = torch.randn(1, int(seconds * sample_rate))
    flops = count_flops(model, x)
    t0 = time.perf_counter()
    with torch.no_grad():
        model(x)
    return {
        "conf": conf,
        "model": cfg["model"]["name"],
        "params": count_parameters(model),
        "gflops_per_s": flops / seconds / 1e9,
        "cpu_s_per_s": (time.perf_counter() - t0) / seconds,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("confs", nargs="*", default=DEFAULT_CONFS)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--sample-rate", type=int, default=8000)
    p.add_argument("--num-sources", type=int, default=2)
    args = p.parse_args(argv)
    print(f"# forward pass on {args.seconds:g} s at {args.sample_rate} Hz, "
          f"{args.num_sources} sources, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print("| conf | model | parameters | GFLOP per audio second | CPU s per audio second |")
    print("|---|---|---|---|---|")
    for conf in args.confs:
        r = measure(conf, args.seconds, args.sample_rate, args.num_sources)
        print(f"| {r['conf']} | {r['model']} | {r['params'] / 1e6:.3f} M | "
              f"{r['gflops_per_s']:.2f} | {r['cpu_s_per_s']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
