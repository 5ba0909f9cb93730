"""The Python API: sepcore.load(...).separate(waveform, sample_rate)."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers.inference import make_exp_dir, tone_mix

import sepcore
from sepcore.errors import ConfigError


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return sepcore.load(make_exp_dir(tmp_path_factory.mktemp("exp")))


def test_separate_returns_sources_at_input_rate_and_length(model):
    x = tone_mix(1.3, 16000)
    est = model.separate(torch.from_numpy(x), 16000)
    assert isinstance(est, torch.Tensor) and est.dtype == torch.float32
    assert est.shape == (2, len(x))
    assert float(est.abs().max()) <= 0.99 + 1e-6
    # rescaled to the mixture's level: the least-squares combination is close in energy
    assert 0.1 < float(est.sum(0).norm() / np.linalg.norm(x)) < 2.0


@pytest.mark.slow
def test_multichannel_layouts(model):
    x = tone_mix(0.7, 8000)
    both = np.stack([x, 0.5 * x])  # [channels, time]
    est = model.separate(both, 8000, rescale=False)
    assert est.shape == (2, 2, len(x))
    torch.testing.assert_close(est[:, 1], model.separate(0.5 * x, 8000, rescale=False))
    est_tc = model.separate(both.T, 8000)  # [time, channels], as soundfile reads it
    assert est_tc.shape == (2, len(x), 2)
    torch.testing.assert_close(est_tc, model.separate(both, 8000).transpose(1, 2))


def test_long_input_is_chunked_with_custom_window(model):
    x = tone_mix(3.0, 8000)
    a = model.separate(x, window_seconds=1.0, hop_seconds=0.75, rescale=False)
    b = model.separate(x, window_seconds=10.0, rescale=False)
    assert a.shape == b.shape == (2, len(x))
    # the tiny model's receptive field (~80 samples) fits the 0.25 s overlap; gLN is
    # global, so chunks differ a little from the whole-file result, but not grossly
    rel = float((a - b).norm() / b.norm())
    assert rel < 0.5
    with pytest.raises(ConfigError):
        model.separate(x, window_seconds=1.0, hop_seconds=0.2)


def test_repr_and_sources(model):
    assert model.sources == ["spk1", "spk2"] and model.num_sources == 2
    assert "convtasnet" in repr(model)


@pytest.mark.slow
def test_import_sepcore_is_light():
    code = ("import sys, sepcore; assert 'torch' not in sys.modules, 'torch imported'; "
            "assert callable(sepcore.load); print(sepcore.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == sepcore.__version__


def test_cuda_unavailable_is_a_clear_error(model):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ConfigError, match="cuda"):
        model.to("cuda")
