"""Enhancement baselines (RNNoise, spectral gating): alignment, lengths, the separated-dir
form steps/score.sh scores, and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepcore.baselines import enhance_data_dir, get_method
from sepcore.errors import ConfigError
from sepcore.metrics.synth import speech_like

ROOT = Path(__file__).resolve().parents[1]


def noisy_dir(root: Path, n_utts=2, sr=16000, seconds=1.0, noise=True, subtype="PCM_16"):
    data = root / "data" / "test"
    (data / "wav").mkdir(parents=True)
    rng = np.random.default_rng(0)
    wav, spk1, spk2 = [], [], []
    for i in range(n_utts):
        u = f"u{i}"
        s = 0.5 * speech_like(seconds + 0.1 * i, sr, i)
        n = 0.05 * rng.standard_normal(len(s))
        sf.write(data / "wav" / f"{u}.wav", s + n, sr, subtype=subtype)
        sf.write(data / "wav" / f"{u}_s.wav", s, sr, subtype=subtype)
        sf.write(data / "wav" / f"{u}_n.wav", n, sr, subtype=subtype)
        wav.append(f"{u} {data}/wav/{u}.wav\n")
        spk1.append(f"{u} {data}/wav/{u}_s.wav\n")
        spk2.append(f"{u} {data}/wav/{u}_n.wav\n")
    (data / "wav.scp").write_text("".join(wav))
    (data / "spk1.scp").write_text("".join(spk1))
    if noise:
        (data / "spk2.scp").write_text("".join(spk2))
        (data / "sources").write_text("speech noise\n")
    return data


def test_rnnoise_output_is_aligned_with_its_input():
    pytest.importorskip("pyrnnoise")
    from sepcore.baselines.rnnoise import rnnoise_48k

    x = 0.3 * speech_like(3.0, 48000, 3).astype(np.float32)
    y = rnnoise_48k(x)
    assert y.shape == x.shape
    n = len(x)
    g = np.fft.irfft(np.fft.rfft(y, 2 * n) * np.conj(np.fft.rfft(x, 2 * n))
                     / (np.abs(np.fft.rfft(y, 2 * n) * np.fft.rfft(x, 2 * n)) + 1e-12))
    lag = int(np.argmax(np.concatenate([g[-2000:], g[:2000]]))) - 2000
    assert lag == 0  # GCC-PHAT peak at zero once the library's 960-sample lag is removed


@pytest.mark.parametrize("method", ["rnnoise", "spectral_gating"])
@pytest.mark.parametrize("sr", [8000, 16000])
def test_methods_keep_length_and_lower_the_noise(method, sr):
    pytest.importorskip({"rnnoise": "pyrnnoise", "spectral_gating": "noisereduce"}[method])
    s = 0.5 * speech_like(2.0, sr, 1)
    noise = 0.05 * np.random.default_rng(0).standard_normal(len(s) + 3)[: len(s)]
    x = (s + noise).astype(np.float32)
    x[: sr // 4] = noise[: sr // 4]  # a quarter second of noise alone
    y = get_method(method)(x, sr)
    assert y.shape == x.shape and y.dtype == np.float32
    # the noise-only stretch is attenuated by more than 6 dB
    assert np.sum(y[: sr // 4] ** 2) < 0.25 * np.sum(x[: sr // 4] ** 2)


def test_unknown_method_and_missing_package(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="unknown baseline; expected one of rnnoise, "
                                          "spectral_gating"):
        get_method("wiener")
    monkeypatch.setitem(sys.modules, "noisereduce", None)
    with pytest.raises(ConfigError, match="pip install noisereduce"):
        get_method("spectral_gating")(np.zeros(1000, np.float32), 16000)
    monkeypatch.setitem(sys.modules, "pyrnnoise", None)
    with pytest.raises(ConfigError, match="pip install pyrnnoise"):
        get_method("rnnoise")(np.zeros(1000, np.float32), 16000)


def test_enhance_data_dir_form(tmp_path):
    pytest.importorskip("noisereduce")
    data = noisy_dir(tmp_path)
    out = tmp_path / "exp" / "sg" / "separate" / "test"
    assert enhance_data_dir(data, out, "spectral_gating", job=1, num_jobs=2) == 0
    assert (out / "sources").read_text() == "speech noise\n"
    # (relative to the separated dir, where the merged spk1.scp goes)
    assert (out / ".parts" / "spk1.1.scp").read_text() == "u0 wav/u0_speech.wav\n"
    mix, sr = sf.read(data / "wav" / "u0.wav")
    speech, sr2 = sf.read(out / "wav" / "u0_speech.wav")
    noise, _ = sf.read(out / "wav" / "u0_noise.wav")
    info = sf.info(out / "wav" / "u0_speech.wav")
    assert (sr2, info.subtype, len(speech)) == (sr, "PCM_16", len(mix))
    assert np.abs(mix - speech - noise).max() < 2e-4  # the residual (16-bit rounding)
    assert json.loads((out / "baseline.json").read_text())["method"] == "spectral_gating"
    with pytest.raises(ConfigError, match="holds estimates made with .*spectral_gating"):
        enhance_data_dir(data, out, "rnnoise")


@pytest.mark.slow
def test_steps_enhance_baseline_then_score(tmp_path):
    pytest.importorskip("pyrnnoise")
    data = noisy_dir(tmp_path, n_utts=3, noise=False)
    out = tmp_path / "exp" / "rnnoise" / "separate" / "test"
    env = dict(os.environ, LC_ALL="C", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT),
               PATH=f"{Path(sys.executable).parent}:{ROOT / 'utils'}:{os.environ['PATH']}")
    bad = subprocess.run([str(ROOT / "steps/enhance_baseline.sh"), "--method", "wiener",
                          str(data), str(out)], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "--method must be rnnoise or spectral_gating" in bad.stderr
    p = subprocess.run([str(ROOT / "steps/enhance_baseline.sh"), "--method", "rnnoise",
                        "--nj", "2", str(data), str(out)], env=env, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr + p.stdout
    assert len((out / "spk1.scp").read_text().splitlines()) == 3
    p = subprocess.run([str(ROOT / "steps/score.sh"), "--metrics", "si_sdr,ssnr", str(data),
                        str(out)], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr + p.stdout
    summary = json.loads((out / "scores" / "summary.json").read_text())
    assert summary["num_utts"] == 3 and summary["scores"]["ssnr_i"]["mean"] > 0
