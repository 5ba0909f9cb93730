"""SuDoRM-RF (sepcore/models/sudormrf.py): the paper's size, shapes for any length, the
receptive field, bad options."""

import pytest
import torch

from sepcore.errors import ConfigError
from sepcore.models import build_model, count_parameters
from sepcore.nn.kernels import reference_kernels

SMALL = {"name": "sudormrf", "n_filters": 32, "kernel_size": 16, "bn_chan": 8, "hid_chan": 16,
         "num_blocks": 2, "upsampling_depth": 3}


def test_paper_default_size():
    # Tzinis et al. 2020, SuDoRM-RF 1.0x: N=512, L=21, B=128, H=512, 16 blocks, depth 4
    # (Asteroid's SuDORMRFImprovedNet(n_src=2) has 2,630,801 too)
    model = build_model({"name": "sudormrf"})
    assert count_parameters(model) == 2_630_801
    assert model.num_sources == 2 and model.hop == 10 and len(model.blocks) == 16
    assert model.stride == 80  # the coarsest level's frame: 2**3 hops


@pytest.mark.parametrize("num_sources", [1, 3])
@pytest.mark.parametrize("length", [16, 101, 1001, 4003])
def test_output_shape_equals_input(num_sources, length):
    # lengths whose frames are odd at some level: the upsampled level is cut to the finer one
    model = build_model({**SMALL, "num_sources": num_sources})
    assert model(torch.randn(2, length)).shape == (2, num_sources, length)
    assert model(torch.randn(length)).shape == (num_sources, length)


@pytest.mark.parametrize("mask", ["relu", "softmax", "sigmoid"])
def test_gradient_flows_to_every_parameter(mask):
    model = build_model({**SMALL, "mask_nonlinear": mask, "encoder_activation": "relu"})
    model(torch.randn(2, 800)).pow(2).mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, \
            name


@pytest.mark.parametrize("cfg", [{}, {"kernel_size": 7, "norm": "chanLN", "upsampling_depth": 1}],
                         ids=["gLN", "odd-window-chanLN"])
@pytest.mark.parametrize("length", [800, 613])
def test_channels_last_separation_is_the_reference(float64, cfg, length):
    """Without gradients the blocks run channels-last: the plain modules' outputs."""
    torch.manual_seed(0)
    model = build_model({**SMALL, **cfg}).eval()
    with torch.no_grad():  # away from the init's symmetries (unit gains, zero shifts)
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    x = torch.randn(2, length)
    with torch.no_grad():
        got = model(x)
        with reference_kernels():
            expected = model(x)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_receptive_field_bounds_the_influence():
    # with a per-frame norm the context is the convs' reach (gLN sees the whole input)
    torch.manual_seed(0)
    model = build_model({**SMALL, "norm": "chanLN"}).eval()
    rf = model.receptive_field()
    # per block: 2 + 2 + 4 frames of convs and 3 of nearest upsampling, 8 samples a frame
    assert rf == 2 * 11 * 8 + 16
    x = torch.randn(1, 3 * rf + 400)
    for where in (0, x.shape[-1] - 1):
        changed = x.clone()
        changed[:, where] += 10.0
        with torch.no_grad():
            diff = (model(x) - model(changed)).abs().amax(dim=(0, 1))
        reached = diff.nonzero().flatten()
        assert (reached - where).abs().max() <= rf
        assert (reached - where).abs().max() > rf // 2  # the bound is not loose


def test_gln_output_sees_the_whole_input():
    torch.manual_seed(0)
    model = build_model(SMALL).eval()
    x = torch.randn(1, 4000)
    changed = x.clone()
    changed[:, 3000:] += 1.0
    with torch.no_grad():
        assert not torch.allclose(model(x)[..., :1000], model(changed)[..., :1000])


def test_bad_configs_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown option.*n_blocks"):
        build_model({**SMALL, "n_blocks": 3})  # a ConvTasNet option
    with pytest.raises(ConfigError, match="norm 'cLN' for sudormrf; expected one of gLN, chanLN"):
        build_model({**SMALL, "norm": "cLN"})
    with pytest.raises(ConfigError, match="upsampling_depth must be >= 1, got 0"):
        build_model({**SMALL, "upsampling_depth": 0})
    with pytest.raises(ConfigError, match="kernel_size"):
        build_model({**SMALL, "kernel_size": 1})
    with pytest.raises(ConfigError, match="mask_nonlinear"):
        build_model({**SMALL, "mask_nonlinear": "softplus"})


def test_separates_long_inputs_in_chunks_like_one_pass():
    """Through the users' path: chunks overlapping by the receptive field give the one-pass
    output where the norms are per frame."""
    from sepcore.api import SeparationModel
    torch.manual_seed(0)
    sep = SeparationModel(build_model({**SMALL, "norm": "chanLN"}).eval(), 8000, ["spk1", "spk2"])
    x = (0.1 * torch.randn(8000 * 3)).numpy()
    whole = sep.separate(x, 8000, rescale=False).numpy()
    chunked = sep.separate(x, 8000, whole_seconds=1.0, window_seconds=1.0,
                           rescale=False).numpy()
    assert whole.shape == chunked.shape == (2, x.size)
    assert abs(whole - chunked).max() < 1e-4 * abs(whole).max()


def test_bf16_autocast_separation_is_close_to_float32():
    """The channels-last path (no gradients) under bfloat16 autocast, as --precision bf16."""
    from sepcore.precision import autocast
    torch.manual_seed(0)
    model = build_model(SMALL).eval()
    x = torch.randn(1, 3001)
    with torch.no_grad():
        reference = model(x)
        with autocast("bf16"):
            out = model(x)
    assert out.shape == reference.shape
    assert (out.float() - reference).norm() / reference.norm() < 0.03
