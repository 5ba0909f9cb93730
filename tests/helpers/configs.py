"""The tiny model configs of the tests, defined once (a few thousand parameters)."""

from __future__ import annotations

TINY_CONVTASNET = {"name": "convtasnet", "n_filters": 16, "kernel_size": 16, "bn_chan": 8,
                   "hid_chan": 16, "conv_kernel_size": 3, "n_blocks": 2, "n_repeats": 1,
                   "skip_chan": 8}
TINY_DPRNN = {"name": "dprnn", "n_filters": 16, "bn_chan": 8, "hid_size": 8, "chunk_size": 10,
              "hop_size": 5, "n_repeats": 1}
TINY_SUDORMRF = {"name": "sudormrf", "n_filters": 16, "kernel_size": 16, "bn_chan": 8,
                 "hid_chan": 8, "num_blocks": 2}


def as_overrides(cfg: dict) -> str:
    """``--model.N 16 --model.L 16 ...``: the config as command-line overrides."""
    return " ".join(f"--model.{k} {v}" for k, v in cfg.items() if k != "name")


def as_yaml_flow(cfg: dict) -> str:
    """``{name: convtasnet, N: 16, ...}``: the config as a YAML flow mapping."""
    return "{" + ", ".join(f"{k}: {v}" for k, v in cfg.items()) + "}"
