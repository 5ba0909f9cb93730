"""The CRN enhancement model: shapes, causality (output at t is fixed by the input up to
t + n_fft - 1), bad options; one-source training of crn and convtasnet end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from helpers.configs import TINY_CONVTASNET, as_yaml_flow

from sepcore.errors import ConfigError
from sepcore.models import build_model, count_parameters

ROOT = Path(__file__).resolve().parents[1]


def small(**kw):
    cfg = dict(name="crn", n_fft=64, hop=32, channels=[4, 8], rnn_hidden=16)
    cfg.update(kw)
    return build_model(cfg).eval()


@pytest.mark.parametrize("mask", ["complex", "magnitude"])
@pytest.mark.parametrize("num_sources", [1, 2])
@pytest.mark.parametrize("length", [1000, 1001, 37])
def test_shapes(mask, num_sources, length):
    torch.manual_seed(0)
    model = small(mask=mask, num_sources=num_sources)
    with torch.no_grad():
        y = model(torch.randn(3, length))
        y1 = model(torch.randn(length))
    assert y.shape == (3, num_sources, length) and y1.shape == (num_sources, length)
    assert torch.isfinite(y).all()
    assert model.stride == 32 and model.receptive_field() is None


@pytest.mark.parametrize("n_fft,hop", [(64, 32), (60, 15), (256, 128)])
def test_causal_output_ignores_later_input(n_fft, hop):
    torch.manual_seed(0)
    model = small(n_fft=n_fft, hop=hop, causal=True)
    assert model.lookahead == n_fft - 1
    x = torch.randn(1, 4000)
    with torch.no_grad():
        y = model(x)
        for t in (0, 777, 2500, 3990 - n_fft):
            x2 = x.clone()
            x2[:, t + n_fft:] = torch.randn(1, 4000 - t - n_fft) * 3
            y2 = model(x2)
            torch.testing.assert_close(y2[..., : t + 1], y[..., : t + 1], atol=1e-6, rtol=0)
            assert not torch.allclose(y2[..., t + n_fft:], y[..., t + n_fft:])


def test_noncausal_model_looks_ahead():
    torch.manual_seed(0)
    model = small(causal=False)
    x = torch.randn(1, 4000)
    x2 = x.clone()
    x2[:, 1100:] = 0
    with torch.no_grad():
        assert (model(x)[..., :1000] - model(x2)[..., :1000]).abs().max() > 1e-4


def test_parameter_counts():
    assert count_parameters(build_model({"name": "crn", "causal": True})) == 418562
    assert count_parameters(build_model({"name": "crn"})) == 763394


@pytest.mark.parametrize("opts,match", [
    ({"mask": "phase"}, "mask must be one of complex, magnitude"),
    ({"rnn_type": "transformer"}, "rnn_type must be one of gru, lstm"),
    ({"kernel_freq": 4}, "kernel_freq must be an odd"),
    ({"channels": []}, "channels must be a non-empty"),
    ({"hop": 200}, "hop <= n_fft/2"),
    ({"num_sources": 0}, "num_sources must be >= 1"),
    ({"compress": 0}, r"compress must be in \(0, 1\]"),
    ({"layers": 3}, "unknown option"),
])
def test_bad_options(opts, match):
    with pytest.raises(ConfigError, match=match):
        build_model({"name": "crn", **opts})


def noisy_datadir(root: Path, name: str, num_utts: int, seed: int, sr: int = 8000) -> Path:
    """wav.scp = speech-like + noise, spk1.scp = the speech (an enhancement data dir)."""
    from helpers.datadirs import voiced

    rng = np.random.default_rng(seed)
    wav, data = root / "wav" / name, root / "data" / name
    wav.mkdir(parents=True)
    data.mkdir(parents=True)
    rows = {"wav.scp": [], "spk1.scp": [], "utt2num_samples": []}
    for i in range(num_utts):
        utt = f"{name}_{i:02d}"
        n = int(rng.integers(int(0.6 * sr), int(1.0 * sr)))
        clean = voiced(rng, n, sr)
        noisy = clean + 0.05 * rng.standard_normal(n).astype(np.float32)
        sf.write(wav / f"{utt}_clean.wav", clean, sr)
        sf.write(wav / f"{utt}_noisy.wav", noisy, sr)
        rows["wav.scp"].append(f"{utt} {wav / f'{utt}_noisy.wav'}")
        rows["spk1.scp"].append(f"{utt} {wav / f'{utt}_clean.wav'}")
        rows["utt2num_samples"].append(f"{utt} {n}")
    for f, lines in rows.items():
        (data / f).write_text("".join(f"{ln}\n" for ln in sorted(lines)))
    return data


@pytest.mark.slow
@pytest.mark.parametrize("model", [
    as_yaml_flow(TINY_CONVTASNET),
    "{name: crn, n_fft: 64, hop: 32, channels: [4, 8], rnn_hidden: 16, causal: true}",
    "{name: sudormrf, n_filters: 16, kernel_size: 16, bn_chan: 8, hid_chan: 8, num_blocks: 2}",
])
def test_one_source_training(tmp_path, model):
    from sepcore.modelfile import load_model_file

    noisy_datadir(tmp_path, "train", 4, 1)
    noisy_datadir(tmp_path, "dev", 2, 2)
    conf = tmp_path / "tiny.yaml"
    conf.write_text(f"model: {model}\n"
                    "data: {segment: 0.25, epoch_size: 8}\n"
                    "training: {batch_size: 2, max_epochs: 1, num_threads: 1, log_interval: 0}\n"
                    "loss: {name: si_sdr+mrstft, pit: false}\n")
    exp = tmp_path / "exp"
    r = subprocess.run([sys.executable, "-m", "sepcore.bin.train", "--config", str(conf),
                        "--train-dir", str(tmp_path / "data/train"),
                        "--valid-dir", str(tmp_path / "data/dev"), "--exp-dir", str(exp)],
                       capture_output=True, text=True, env={"PYTHONPATH": str(ROOT),
                                                            "OMP_NUM_THREADS": "1",
                                                            "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr[-3000:]
    loaded = load_model_file(exp / "model.pt")
    assert loaded.sources == ["spk1"] and loaded.model.num_sources == 1
