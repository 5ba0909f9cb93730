import pytest
import torch

from sepcore.errors import ConfigError
from sepcore.models import build_model, count_parameters

SMALL = {"name": "convtasnet", "n_filters": 32, "kernel_size": 16, "bn_chan": 16, "hid_chan": 32,
         "conv_kernel_size": 3, "n_blocks": 3, "n_repeats": 2, "skip_chan": 16}


def test_paper_default_size():
    # Luo & Mesgarani 2019, Table II best non-causal config (5.1 M in the paper; Asteroid's
    # 5,050,545 includes the unused residual conv of the last block, 65,664 parameters)
    model = build_model({"name": "convtasnet"})
    assert count_parameters(model) == 5_050_545 - 65_664
    assert model.num_sources == 2 and model.stride == 8


@pytest.mark.parametrize("num_sources", [1, 2, 3, 4])
@pytest.mark.parametrize("length", [16, 100, 1001, 4000])
def test_output_shape_equals_input(num_sources, length):
    model = build_model({**SMALL, "num_sources": num_sources})
    out = model(torch.randn(2, length))
    assert out.shape == (2, num_sources, length)
    assert model(torch.randn(length)).shape == (num_sources, length)


@pytest.mark.parametrize("mask", ["sigmoid", "relu", "softmax", "tanh", "linear"])
def test_gradient_flows_to_every_parameter(mask):
    model = build_model({**SMALL, "mask_nonlinear": mask})
    model(torch.randn(2, 800)).pow(2).mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_causal_output_ignores_the_future():
    torch.manual_seed(0)
    model = build_model({**SMALL, "causal": True}).eval()
    x = torch.randn(1, 4000)
    t = 2000
    changed = x.clone()
    changed[:, t:] = torch.randn(1, 4000 - t)
    with torch.no_grad():
        a, b = model(x), model(changed)
    # the only look-ahead is the encoder window (L - 1 samples), as in the paper
    latency = model.L - 1
    assert torch.equal(a[..., : t - latency], b[..., : t - latency])
    assert not torch.equal(a[..., t:], b[..., t:])


def test_non_causal_output_sees_the_future():
    torch.manual_seed(0)
    model = build_model(SMALL).eval()
    x = torch.randn(1, 4000)
    changed = x.clone()
    changed[:, 3000:] += 1.0
    with torch.no_grad():
        assert not torch.allclose(model(x)[..., :2000], model(changed)[..., :2000])


def test_receptive_field_bounds_the_influence():
    # with a per-frame norm (gLN and cLN see the whole past/utterance) the context is local
    torch.manual_seed(0)
    model = build_model({**SMALL, "norm": "chanLN"}).eval()
    rf = model.receptive_field()
    x = torch.randn(1, 3 * rf + 400)
    changed = x.clone()
    changed[:, -1] += 10.0
    with torch.no_grad():
        a, b = model(x), model(changed)
    cut = x.shape[-1] - 1 - rf
    assert torch.equal(a[..., :cut], b[..., :cut])


def test_bad_configs_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown option"):
        build_model({**SMALL, "hid_size": 3})  # a DPRNN option
    with pytest.raises(ConfigError, match="unknown model"):
        build_model({"name": "tasnet9000"})
    with pytest.raises(ConfigError, match="causal"):
        build_model({**SMALL, "causal": True, "norm": "gLN"})
    with pytest.raises(ConfigError, match="mask_nonlinear"):
        build_model({**SMALL, "mask_nonlinear": "softplus"})
