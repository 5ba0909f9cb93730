"""bfloat16 autocast as an option: chosen only where the hardware has native bfloat16,
float32 with a warning elsewhere; a bf16 forward is close to float32's."""

import logging

import numpy as np
import pytest
import torch

from sepcore import precision
from sepcore.api import SeparationModel
from sepcore.config import load_config
from sepcore.errors import ConfigError
from sepcore.models import build_model
from sepcore.precision import autocast, native_bf16, resolve_precision

TINY = {"name": "convtasnet", "num_sources": 2, "n_filters": 16, "kernel_size": 8,
        "bn_chan": 8, "hid_chan": 16, "n_blocks": 2, "n_repeats": 1, "skip_chan": 8}


@pytest.fixture
def cpu_without_bf16(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))


@pytest.fixture
def cpu_with_bf16(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))


def test_bf16_falls_back_to_float32_with_a_warning_without_native_support(
        cpu_without_bf16, caplog):
    assert not native_bf16("cpu")
    with caplog.at_level(logging.WARNING, logger="sepcore.precision"):
        assert resolve_precision("bf16", "cpu", "training.precision") == "fp32"
    assert "training.precision bf16" in caplog.text and "running float32" in caplog.text
    assert resolve_precision("fp32", "cpu") == "fp32"


def test_bf16_is_used_where_the_cpu_has_it(cpu_with_bf16, monkeypatch):
    assert resolve_precision("bf16", "cpu") == "bf16"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"amx_bf16"}))
    assert resolve_precision("bf16", "cpu") == "bf16"


def test_cpu_flags_come_from_proc_cpuinfo():
    flags = precision.cpu_flags()
    assert isinstance(flags, frozenset)
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        pytest.skip("no /proc/cpuinfo")
    assert ("avx512_bf16" in flags) == (" avx512_bf16" in text)


def test_unknown_precision_is_a_config_error():
    with pytest.raises(ConfigError, match="--precision: expected one of fp32, bf16, got 'fp16'"):
        resolve_precision("fp16", "cpu", "--precision")
    with pytest.raises(ConfigError, match="training.precision must be 'fp32' or 'bf16'"):
        load_config(None, ["--training.precision", "fp16"])
    assert load_config(None)["training"]["precision"] == "fp32"
    assert load_config(None, ["--training.precision", "bf16"])["training"]["precision"] == "bf16"


@pytest.mark.parametrize("name", ["convtasnet", "dprnn", "sudormrf"])
def test_a_bf16_autocast_forward_and_backward_are_close_to_float32(name):
    torch.manual_seed(0)
    cfg = {"convtasnet": TINY,
           "dprnn": {"name": "dprnn", "num_sources": 2, "n_filters": 16, "bn_chan": 8,
                     "hid_size": 8, "chunk_size": 10, "n_repeats": 1},
           "sudormrf": {"name": "sudormrf", "num_sources": 2, "n_filters": 16,
                        "kernel_size": 8, "bn_chan": 8, "hid_chan": 16, "num_blocks": 2}}[name]
    model = build_model(cfg)
    x = torch.randn(2, 1200)
    reference = model(x)
    with autocast("bf16"):
        out = model(x)
    assert out.dtype == torch.bfloat16 and out.shape == reference.shape
    err = (out.float() - reference).norm() / reference.norm()
    assert err < 0.03, err
    out.float().pow(2).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in model.parameters() if p.requires_grad)


def test_separation_precision_falls_back_and_bf16_separates(cpu_without_bf16, monkeypatch):
    torch.manual_seed(0)
    sep = SeparationModel(build_model(TINY), 8000, ["spk1", "spk2"])
    assert sep.set_precision("bf16").precision == "fp32"
    x = (0.1 * np.random.default_rng(0).standard_normal(4000)).astype(np.float32)
    fp32 = sep.separate(x, 8000, rescale=False).numpy()
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert sep.set_precision("bf16").precision == "bf16"
    bf16 = sep.separate(x, 8000, rescale=False).numpy()
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape
    assert np.linalg.norm(bf16 - fp32) / np.linalg.norm(fp32) < 0.03


@pytest.mark.parametrize("native", [False, True])
def test_sepcore_separate_precision_option(tmp_path, monkeypatch, capsys, native):
    import soundfile as sf
    from helpers.inference import make_exp_dir, tone_mix

    from sepcore.bin.separate import main

    flags = {"avx512_bf16"} if native else {"avx2"}
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    exp = make_exp_dir(tmp_path / "exp")
    sf.write(tmp_path / "a.wav", tone_mix(0.5, 8000), 8000)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        main(["--model", str(exp), "--out-dir", str(out), "--precision", "bf16",
              "--no-progress", str(tmp_path / "a.wav")])
    assert e.value.code == 0
    err = capsys.readouterr().err
    assert ("--precision bf16: this cpu has no native bfloat16" in err) == (not native)
    y, rate = sf.read(out / "a_spk1.wav")
    assert rate == 8000 and len(y) == 4000 and np.isfinite(y).all()
    with pytest.raises(SystemExit) as e:
        main(["--model", str(exp), "--out-dir", str(out), "--precision", "fp16",
              str(tmp_path / "a.wav")])
    assert e.value.code == 2
