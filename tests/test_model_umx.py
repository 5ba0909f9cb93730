"""Open-Unmix / X-UMX (sepcore/models/umx.py)."""

from __future__ import annotations

import pytest
import torch

from sepcore.errors import ConfigError
from sepcore.models import build_model, count_parameters
from sepcore.spectral.wiener import WienerFiltered

SMALL = {"name": "umx", "n_fft": 512, "hop": 128, "hidden_size": 32, "num_layers": 1,
         "sample_rate": 16000, "bandwidth": 6000.0}


def test_paper_defaults_cut_at_1487_bins_with_8_9_m_parameters_per_target():
    m = build_model({"name": "umx"})
    assert (m.max_bin, m.num_bins, m.audio_channels, m.num_sources) == (1487, 2049, 2, 4)
    assert m.stft.n_fft == 4096 and m.stft.hop == 1024
    assert count_parameters(m) == 4 * 8_893_348  # umxhq: 8.9 M per target
    small = build_model({"name": "umx", "joint": "shared", "n_fft": 2048, "hop": 512,
                         "hidden_size": 256, "num_layers": 2})
    assert small.max_bin == 744 and round(count_parameters(small) / 1e6, 2) == 3.43


@pytest.mark.parametrize("joint", ["separate", "bridge", "shared"])
@pytest.mark.parametrize("length", [1, 1000, 16001])
def test_stereo_of_any_length(joint, length):
    torch.manual_seed(0)
    m = build_model(dict(SMALL, joint=joint)).eval()
    x = torch.randn(2, 2, length)
    with torch.no_grad():
        y = m(x)
    assert y.shape == (2, 4, 2, length) and torch.isfinite(y).all()


def test_bridge_couples_the_targets_and_separate_does_not():
    torch.manual_seed(0)
    x = torch.randn(1, 2, 4000)
    for joint, coupled in [("separate", False), ("bridge", True)]:
        m = build_model(dict(SMALL, joint=joint)).eval()
        with torch.no_grad():
            before = m(x)
            m.encoders[0].fc.weight.mul_(2.0)  # change target 0's encoder only
            after = m(x)
        assert not torch.allclose(before[:, 0], after[:, 0])
        assert torch.allclose(before[:, 1:], after[:, 1:]) != coupled


def test_forward_is_the_masked_mixture_with_its_phase_and_wiener_refines_it():
    torch.manual_seed(0)
    m = build_model(dict(SMALL, joint="shared")).eval()
    x = torch.randn(1, 2, 8000)
    with torch.no_grad():
        v, X = m.spectrogram_estimates(x)
        assert v.shape == (1, 4, 2, 257, 1 + 8000 // 128) and (v >= 0).all()
        torch.testing.assert_close(WienerFiltered(m, 0)(x), m(x), atol=1e-5, rtol=0)
        y = WienerFiltered(m, 1, residual=True)(x)
    assert y.shape == (1, 5, 2, 8000)
    assert not torch.allclose(y[:, :4], m(x), atol=1e-3)


def test_mono_model_takes_batch_time():
    m = build_model(dict(SMALL, audio_channels=1, num_sources=2)).eval()
    with torch.no_grad():
        assert m(torch.randn(3, 5000)).shape == (3, 2, 5000)
        v, X = m.spectrogram_estimates(torch.randn(3, 5000))
    assert v.shape == (3, 2, 257, 40) and X.shape == (3, 257, 40)


def test_input_statistics_from_training_mixtures():
    m = build_model(dict(SMALL, joint="bridge"))
    g = torch.Generator().manual_seed(0)
    mixes = [0.1 * torch.randn(2, 16000, generator=g), 0.1 * torch.randn(3, 2, 8000, generator=g)]
    mean, std = m.fit_input_statistics(mixes)
    assert mean.shape == (m.max_bin,) and (std > 0).all()
    frames = [m.stft(x.reshape(-1, 2, x.shape[-1]).mean(1)).abs()[:, :m.max_bin] for x in mixes]
    flat = torch.cat([f.transpose(1, 2).reshape(-1, m.max_bin) for f in frames])
    torch.testing.assert_close(mean, flat.mean(0), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(m.input_mean[3], -flat.mean(0), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(m.input_scale[0], 1 / flat.std(0, unbiased=False),
                               atol=1e-3, rtol=1e-3)


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="model.joint"):
        build_model({"name": "umx", "joint": "both"})
    with pytest.raises(ConfigError, match="hidden_size must be even"):
        build_model({"name": "umx", "hidden_size": 33})
    with pytest.raises(ConfigError, match="unknown option"):
        build_model({"name": "umx", "nb_bins": 3})
    m = build_model(dict(SMALL)).eval()
    with pytest.raises(ValueError, match=r"expects \[batch, 2, time\]"):
        m(torch.randn(1, 1000))
