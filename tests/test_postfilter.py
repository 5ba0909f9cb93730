"""The parametric Wiener post-filter of one-source models (sepcore/spectral/postfilter.py):
its closed forms, the scale of a scale-invariant model's output, its settings, and the
way it is chosen at separation (config default, --postfilter, separate.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

import sepcore
from sepcore.config import load_config, postfilter_settings
from sepcore.errors import ConfigError
from sepcore.modelfile import save_model_file
from sepcore.models import build_model
from sepcore.spectral import STFT
from sepcore.spectral.postfilter import PostFiltered, postfilter

SR = 16000
T = SR


def tone(f: float, amp: float = 0.5) -> torch.Tensor:
    return amp * torch.sin(2 * np.pi * f * torch.arange(T, dtype=torch.float64) / SR)


def inner(x: torch.Tensor) -> torch.Tensor:
    return x[..., 2048:-2048]  # away from the zero-padded edges


@pytest.mark.parametrize("beta,power,residual", [(3.0, 1.0, 0.5), (1.0, 2.0, 0.0),
                                                 (0.5, 1.0, 1.0)])
def test_estimate_equal_to_the_residual_gives_the_closed_form(beta, power, residual):
    # S = N in every bin: G = 1 / (1 + beta), Y = G (1 + residual) S
    s = tone(440) + tone(1234, 0.2)
    y = postfilter(2 * s, s, STFT(1024, 256), beta, power, residual)
    want = (1 + residual) / (1 + beta) * s
    torch.testing.assert_close(inner(y), inner(want), atol=1e-9, rtol=0)


def test_separated_tones_keep_the_estimate_and_drop_the_rest():
    speech, noise = tone(500), tone(3000, 0.8)
    y = postfilter(speech + noise, speech, STFT(1024, 256), 3.0, 1.0, 0.5)
    err = inner(y - speech).pow(2).mean() / inner(speech).pow(2).mean()
    assert err < 1e-4  # the 3 kHz tone is gone: the residual's bins get a gain near 0


def test_no_estimate_gives_silence_and_the_input_as_estimate_gives_the_input():
    x = tone(700) + 0.1 * torch.randn(T, dtype=torch.float64, generator=torch.Generator()
                                      .manual_seed(0))
    stft = STFT(1024, 256)
    assert postfilter(x, torch.zeros_like(x), stft, 3.0, 1.0, 0.5).abs().max() == 0
    torch.testing.assert_close(postfilter(x, x.clone(), stft, 3.0, 1.0, 0.5), x)


class Fixed(torch.nn.Module):
    """A "model" whose output is ``gain`` times a fixed estimate (an SI-SDR model's
    arbitrary gain and sign)."""
    num_sources = 1

    def __init__(self, estimate: torch.Tensor, gain: float):
        super().__init__()
        self.estimate, self.gain = estimate, gain

    def forward(self, mixture):
        return (self.gain * self.estimate).reshape(1, 1, -1).to(mixture.dtype)


def test_module_projects_the_output_onto_the_input_first():
    speech, noise = tone(500).float(), tone(3000, 0.8).float()
    x = (speech + noise).unsqueeze(0)
    want = postfilter(x[0], speech, STFT(1024, 256), 3.0, 1.0, 0.5)
    for gain in (1.0, -7.0, 1e-3):
        out = PostFiltered(Fixed(speech, gain))(x)
        assert out.shape == (1, 1, T)
        torch.testing.assert_close(out[0, 0], want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("key,value,expected", [
    ("residual", 1.5, "postfilter.residual must be a number in [0, 1], got 1.5"),
    ("beta", 0, "postfilter.beta must be a number > 0, got 0"),
    ("n_fft", 100.5, "postfilter.n_fft must be a positive integer, got 100.5"),
    ("hop_length", 600, "postfilter.hop_length must be at most n_fft / 2 (512), got 600"),
    ("power", True, "postfilter.power must be a number > 0, got True"),
])
def test_bad_settings_are_named(key, value, expected):
    cfg = {"beta": 3.0, "power": 1.0, "residual": 0.5, "n_fft": 1024, "hop_length": 256}
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        postfilter_settings({**cfg, key: value})


def test_config_checks_the_section_and_the_number_of_sources(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text(yaml.safe_dump({"model": {"name": "convtasnet", "num_sources": 2},
                                    "postfilter": {"enabled": True}}))
    with pytest.raises(ConfigError, match="postfilter.enabled true is for one-source"):
        load_config(conf)
    with pytest.raises(ConfigError, match="postfilter.enabled must be true or false"):
        load_config(None, ["--postfilter.enabled", "3"])
    with pytest.raises(ConfigError, match="postfilter.residual must be"):
        load_config(None, ["--postfilter.residual", "-1"])
    assert load_config(None)["postfilter"]["enabled"] is False


TINY = {"name": "convtasnet", "num_sources": 1, "n_filters": 16, "kernel_size": 16,
        "bn_chan": 8, "hid_chan": 16, "skip_chan": 8, "n_blocks": 2, "n_repeats": 1}


def make_exp(path: Path, cfg: dict, postfilter: dict | None) -> Path:
    path.mkdir()
    torch.manual_seed(0)
    save_model_file(path / "model.pt", build_model(cfg), cfg, SR,
                    ["speech"] if cfg["num_sources"] == 1 else ["s1", "s2"], {})
    conf = {"model": cfg, "loss": {"name": "si_sdr", "pit": True}}
    if postfilter is not None:
        conf["postfilter"] = postfilter
    (path / "config.yaml").write_text(yaml.safe_dump(conf))
    return path


def test_api_applies_the_configs_postfilter_and_can_turn_it_off(tmp_path):
    exp = make_exp(tmp_path / "enh", TINY, {"enabled": True, "beta": 2.0})
    model = sepcore.load(exp)
    assert isinstance(model.runner, PostFiltered)
    assert model.postfilter == {"beta": 2.0, "power": 1.0, "residual": 0.5, "n_fft": 1024,
                                "hop_length": 256}  # the rest from the defaults
    x = torch.from_numpy(np.random.default_rng(0).standard_normal(SR).astype(np.float32))
    on = model.separate(x, SR)
    off = model.set_postfilter(False).separate(x, SR)
    assert model.runner is model.model and on.shape == off.shape == (1, SR)
    assert not torch.allclose(on, off)
    old = sepcore.load(make_exp(tmp_path / "old", TINY, None))  # an exp from before
    assert old.postfilter is None and old.runner is old.model


def test_a_two_source_model_refuses_it(tmp_path):
    exp = make_exp(tmp_path / "sep", {**TINY, "num_sources": 2}, None)
    with pytest.raises(ConfigError, match="one-source .* 2 sources .* --postfilter false"):
        sepcore.load(exp).set_postfilter(True)


def test_cli_records_it_in_separate_json(tmp_path):
    from sepcore.bin.separate import main

    exp = make_exp(tmp_path / "enh", TINY, {"enabled": True})
    data = tmp_path / "data"
    data.mkdir()
    sf.write(tmp_path / "a.wav", np.random.default_rng(1).standard_normal(8000) * 0.1, SR)
    (data / "wav.scp").write_text(f"a {tmp_path / 'a.wav'}\n")
    for flag, out in (("true", "on"), ("false", "off")):
        with pytest.raises(SystemExit) as e:
            main(["--model", str(exp), "--data-dir", str(data), "--out-dir",
                  str(tmp_path / out), "--postfilter", flag])
        assert e.value.code == 0
    on = json.loads((tmp_path / "on" / "separate.json").read_text())
    off = json.loads((tmp_path / "off" / "separate.json").read_text())
    assert on["postfilter"]["beta"] == 3.0 and "postfilter" not in off
