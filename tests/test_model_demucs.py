"""Demucs waveform U-Net (sepcore/models/demucs.py)."""

from __future__ import annotations

import math

import pytest
import torch

from sepcore.errors import ConfigError
from sepcore.models import build_model, count_parameters

SMALL = {"name": "demucs", "channels": 8, "depth": 3, "lstm_layers": 1, "sample_rate": 16000}


@pytest.mark.parametrize("length", [1, 63, 1000, 40001])
def test_stereo_of_any_length(length):
    torch.manual_seed(0)
    m = build_model(SMALL).eval()
    with torch.no_grad():
        y = m(torch.randn(2, 2, length))
    assert y.shape == (2, 4, 2, length) and torch.isfinite(y).all()


def test_the_output_follows_the_input_level_and_offset():
    torch.manual_seed(0)
    m = build_model(SMALL).eval()
    x = torch.randn(1, 2, 4096)
    with torch.no_grad():
        torch.testing.assert_close(m(3 * x + 0.5), 3 * m(x) + 0.5, atol=1e-4, rtol=1e-4)


def test_mono_model_and_parameter_counts():
    m = build_model(dict(SMALL, audio_channels=1, num_sources=2)).eval()
    with torch.no_grad():
        assert m(torch.randn(3, 5000)).shape == (3, 2, 5000)
    small = build_model({"name": "demucs", "channels": 16, "depth": 4, "lstm_layers": 1})
    assert count_parameters(small) == 645_800


@pytest.mark.slow
def test_a_few_steps_fit_a_fixed_example():
    torch.manual_seed(0)
    m = build_model(SMALL)
    t = torch.arange(2048) / 16000
    tone = torch.sin(2 * math.pi * 150 * t)
    square = 0.5 * torch.sign(torch.sin(2 * math.pi * 40 * t))
    src = torch.stack([tone, square, 0 * t, 0 * t])[None, :, None].repeat(2, 1, 2, 1)
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    losses = []
    for _ in range(30):
        loss = (m(src.sum(1)) - src).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.85 * losses[0]  # measured: 0.315 -> 0.22


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="kernel_size"):
        build_model({"name": "demucs", "kernel_size": 7})
    with pytest.raises(ConfigError, match="context must be odd"):
        build_model({"name": "demucs", "context": 2})
    with pytest.raises(ValueError, match=r"expects \[batch, 2, time\]"):
        build_model(SMALL)(torch.randn(1, 3, 100))
