"""The DeMask model (sepcore/models/demask.py): shapes, a mask that can amplify, the
receptive field, parameters of the recipe's config, bad options."""

from __future__ import annotations

import pytest
import torch

from sepcore.errors import ConfigError
from sepcore.models import MODELS, build_model, count_parameters


def small(**kw):
    cfg = dict(name="demask", n_fft=64, hop=32, hidden=[16])
    cfg.update(kw)
    return build_model(cfg).eval()


@pytest.mark.parametrize("num_sources", [1, 2])
@pytest.mark.parametrize("length", [1000, 37])
@pytest.mark.parametrize("kernel_size", [1, 3])
def test_shapes(num_sources, length, kernel_size):
    torch.manual_seed(0)
    model = small(num_sources=num_sources, kernel_size=kernel_size)
    with torch.no_grad():
        y = model(torch.randn(2, length))
        y1 = model(torch.randn(length))
    assert y.shape == (2, num_sources, length) and y1.shape == (num_sources, length)
    assert torch.isfinite(y).all() and model.stride == 32
    assert MODELS["demask"].residual_name == "residual"


def test_a_relu_mask_can_amplify_a_sigmoid_mask_cannot():
    torch.manual_seed(0)
    x = torch.randn(1, 4000)
    for act, can_amplify in (("relu", True), ("sigmoid", False)):
        model = small(mask_act=act)
        with torch.no_grad():
            last = model.masker[-2]  # the output conv: a constant mask of 3 (relu) / ~1 (sigmoid)
            last.weight.zero_()
            last.bias.fill_(3.0)
            y = model(x)
        gain = float(y[0, 0, 200:-200].norm() / x[0, 200:-200].norm())
        assert (gain > 2.5) == can_amplify, (act, gain)


def test_receptive_field():
    assert small().receptive_field() is None  # gLN: whole-utterance statistics
    m = small(norm="cLN", kernel_size=3, hidden=[16, 16])
    assert m.receptive_field() == 64 + 2 * 1 * 32


def test_asteroid_sized_defaults():
    # Asteroid's DeMask: STFT 512/256, one hidden layer of 1024, per-frame
    m = build_model({"name": "demask"})
    bins = 257
    expected = (2 * bins) + (bins * 1024 + 1024) + 2 * 1024 + (1024 * bins + bins)
    assert count_parameters(m) == expected


@pytest.mark.parametrize("kw,match", [
    ({"kernel_size": 2}, "kernel_size must be an odd"),
    ({"mask_act": "tanh"}, "mask_act must be one of"),
    ({"activation": "swish"}, "activation must be one of"),
    ({"compress": 0}, "compress must be in"),
    ({"hidden": [0]}, "hidden must be a list of positive"),
    ({"norm": "XN"}, "unknown norm"),
    ({"dropout": 1.0}, "dropout must be in"),
])
def test_bad_options(kw, match):
    with pytest.raises(ConfigError, match=match):
        small(**kw)
