"""Shared helpers of the inference / pack / separate tests: a tiny trained-looking exp dir."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import yaml

from helpers.configs import TINY_CONVTASNET
from sepcore.modelfile import save_model_file
from sepcore.models import build_model

# a shorter filterbank than the training tests': finer chunk edges
TINY = dict(TINY_CONVTASNET, num_sources=2, kernel_size=8)


def make_exp_dir(root: Path, tag: str = "tiny", sample_rate: int = 8000,
                 sources=("spk1", "spk2"), scored=("test",), extra_cfg=None) -> Path:
    exp = Path(root) / tag
    exp.mkdir(parents=True)
    torch.manual_seed(0)
    cfg = dict(TINY, num_sources=len(sources))
    model = build_model(cfg)
    info = {"num_params": sum(p.numel() for p in model.parameters()), "train_seconds": 3725.4,
            "epochs": 3, "best_valid_loss": -7.25, "train_dir": "data/tr", "valid_dir": "data/cv"}
    save_model_file(exp / "model.pt", model, cfg, sample_rate, list(sources), info)
    conf = {"corpus": "mini", "task": "sep_clean", "license": "CC-BY-4.0",
            "model": cfg, "data": {"sample_rate": sample_rate}, "loss": {"pit": True}}
    conf.update(extra_cfg or {})
    (exp / "config.yaml").write_text(yaml.safe_dump(conf))
    (exp / "history.tsv").write_text("epoch\ttrain_loss\tvalid_loss\n1\t-1\t-2\n2\t-3\t-4\n"
                                     "3\t-5\t-7.25\n")
    (exp / "train.log").write_text("not packed\n")
    for s in scored:
        d = exp / "separate" / s / "scores"
        d.mkdir(parents=True)
        (d / "RESULTS.md").write_text(f"# Results on {s}\n\n| metric | mean |\n|---|---|\n"
                                      "| si_sdri | 12.5 |\n")
        (d / "summary.json").write_text(json.dumps({"si_sdri": {"mean": 12.5}, "num_utts": 3}))
    return exp


def tone_mix(seconds: float, sample_rate: int, channels: int = 0, seed: int = 0) -> np.ndarray:
    """A two-tone + noise test signal, [T] or [T, channels], peak about 0.6."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 1300 * t)
    x = x + 0.05 * rng.standard_normal(len(t))
    if channels:
        x = np.stack([x * (1 - 0.3 * c) for c in range(channels)], axis=1)
    return x.astype(np.float32)
