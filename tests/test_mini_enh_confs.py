"""The mini enhancement recipe's configs (egs/mini_enh/convtasnet/conf): fixed-step
training, and the causal one is conf/train.yaml made causal and runs as a stream."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sepcore.config import load_config
from sepcore.models import build_model, count_parameters
from sepcore.streaming import stream_array

CONF = Path(__file__).resolve().parents[1] / "egs" / "mini_enh" / "convtasnet" / "conf"


def load(name: str) -> dict:
    return load_config(CONF / name)


def test_published_confs_train_a_fixed_number_of_steps():
    for name in ("train.yaml", "train_causal.yaml"):
        cfg = load(name)
        d, t = cfg["data"], cfg["training"]
        assert t["max_minutes"] is None  # the result does not depend on the machine's speed
        assert d["epoch_size"] // t["batch_size"] * t["max_epochs"] == t["max_steps"] == 9500
        assert (cfg["scheduler"]["name"], cfg["scheduler"]["min_lr"]) == ("cosine", 3.0e-5)
        assert d["snr_range"] == [-15.0, 10.0] and d["segment"] == 2.0
        assert (d["noise_layers"], d["noise_tilt"]) == (2, [-6.0, 6.0])


def test_causal_conf_is_train_yaml_made_causal():
    plain, causal = load("train.yaml"), load("train_causal.yaml")
    assert plain["model"]["norm"] == "gLN" and not plain["model"].get("causal", False)
    assert causal["model"]["norm"] == "cLN" and causal["model"]["causal"] is True
    for cfg in (plain, causal):
        del cfg["description"]
    assert plain["postfilter"]["enabled"] and not causal["postfilter"]["enabled"]
    plain["model"].update(norm="cLN", causal=True)
    plain["postfilter"]["enabled"] = False  # its STFT frames would look ahead
    assert plain == causal  # trained the same way: data, loss, optimizer, steps
    model = build_model({**causal["model"], "num_sources": 1})
    assert count_parameters(model) == count_parameters(
        build_model({**load("train.yaml")["model"], "num_sources": 1}))


def test_causal_conf_streams_like_offline():
    torch.manual_seed(0)
    cfg = load("train_causal.yaml")
    model = build_model({**cfg["model"], "num_sources": 1}).eval()
    x = np.random.default_rng(0).standard_normal(4100).astype(np.float32) * 0.1
    with torch.inference_mode():
        offline = model(torch.from_numpy(x)[None])[0].numpy()
    for block in (64, 97, 1000):  # one encoder hop, mid-frame, longer than a window
        streamed = stream_array(model, x, block).numpy()
        assert streamed.shape == offline.shape
        assert np.max(np.abs(streamed - offline)) <= 1e-5 * np.max(np.abs(offline))
