"""sepcore-separate with an enhancement model: noisy.wav → noisy_speech.wav (and, with
``--stems speech``, noisy_noise.wav, the residual) at the input's length, rate and format;
long files in chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from helpers.configs import TINY_CONVTASNET

from sepcore.bin.separate import main
from sepcore.metrics.synth import speech_like
from sepcore.modelfile import save_model_file
from sepcore.models import build_model

CFG = {"name": "crn", "num_sources": 1, "n_fft": 128, "hop": 64, "channels": [4, 8],
       "rnn_hidden": 16, "causal": True}


@pytest.fixture(scope="module")
def exp(tmp_path_factory) -> Path:
    exp = tmp_path_factory.mktemp("exp") / "crn"
    exp.mkdir()
    torch.manual_seed(0)
    model = build_model(CFG)
    save_model_file(exp / "model.pt", model, CFG, 16000, ["speech"], {})
    (exp / "config.yaml").write_text(yaml.safe_dump(
        {"model": CFG, "data": {"sample_rate": 16000},
         "loss": {"name": "si_sdr+mrstft", "pit": False}}))
    return exp


def run(args):
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    return e.value.code


def noisy(seconds, sr):
    s = 0.4 * speech_like(seconds, sr, 0)
    return (s + 0.05 * np.random.default_rng(0).standard_normal(len(s))).astype(np.float32)


@pytest.mark.parametrize("rate,fmt,subtype,out_subtype", [
    (16000, "WAV", "PCM_16", "PCM_16"),
    (44100, "FLAC", "PCM_24", "PCM_24"),
    (8000, "WAV", "FLOAT", "FLOAT"),
])
def test_outputs_have_the_inputs_length_rate_and_format(exp, tmp_path, rate, fmt, subtype,
                                                        out_subtype):
    x = noisy(0.7, rate)
    src = tmp_path / f"noisy.{fmt.lower()}"
    sf.write(src, x, rate, format=fmt, subtype=subtype)
    out = tmp_path / "out"
    assert run(["--model", exp, "--out-dir", out, "--no-progress", src]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["noisy_speech.wav"]
    info = sf.info(out / "noisy_speech.wav")
    assert (info.samplerate, info.frames, info.channels) == (rate, len(x), 1)
    assert info.subtype == out_subtype and info.format == "WAV"


def test_stems_speech_adds_the_noise(exp, tmp_path):
    x = noisy(0.5, 16000)
    sf.write(tmp_path / "noisy.wav", x, 16000, subtype="FLOAT")
    out = tmp_path / "out"
    assert run(["--model", exp, "--out-dir", out, "--stems", "speech", tmp_path / "noisy.wav"]) == 0
    speech, _ = sf.read(out / "noisy_speech.wav")
    noise, _ = sf.read(out / "noisy_noise.wav")
    assert len(speech) == len(noise) == len(x)
    np.testing.assert_allclose(speech + noise, x, atol=1e-6)


def test_long_file_in_chunks(exp, tmp_path):
    x = noisy(3.0, 16000)
    sf.write(tmp_path / "long.wav", x, 16000, subtype="FLOAT")
    whole, chunked = tmp_path / "whole", tmp_path / "chunked"
    assert run(["--model", exp, "--out-dir", whole, tmp_path / "long.wav"]) == 0
    assert run(["--model", exp, "--out-dir", chunked, "--window-seconds", "1.0",
                "--hop-seconds", "0.75", tmp_path / "long.wav"]) == 0
    a, _ = sf.read(whole / "long_speech.wav")
    b, _ = sf.read(chunked / "long_speech.wav")
    assert len(a) == len(b) == len(x)
    # chunks restart the (untrained) model's state: close to one pass, not equal
    assert np.all(np.isfinite(b)) and np.corrcoef(a, b)[0, 1] > 0.9


def test_one_source_convtasnet_separates(tmp_path):
    cfg = dict(TINY_CONVTASNET, num_sources=1)
    torch.manual_seed(0)
    save_model_file(tmp_path / "model.pt", build_model(cfg), cfg, 16000, ["speech"], {})
    x = noisy(0.6, 22050)
    sf.write(tmp_path / "noisy.wav", x, 22050, subtype="PCM_16")
    out = tmp_path / "out"
    assert run(["--model", tmp_path / "model.pt", "--out-dir", out, "--stems", "speech",
                tmp_path / "noisy.wav"]) == 0
    for name in ("noisy_speech.wav", "noisy_no_speech.wav"):
        info = sf.info(out / name)
        assert (info.samplerate, info.frames, info.subtype) == (22050, len(x), "PCM_16")
