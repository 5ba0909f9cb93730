"""Conv-TasNet's tiled inference path (sepcore/nn/tiled_tcn.py) computes the model's
forward: in float64 against the reference kernels, on tiles smaller than the dilations,
on lengths that are no multiple of the tile, per utterance in a batch; and it runs only
where it applies."""

import copy

import pytest
import torch

import sepcore.nn.onednn
from sepcore.models import build_model
from sepcore.nn import tiled_tcn
from sepcore.nn.kernels import reference_kernels
from sepcore.nn.norm import GlobalLayerNorm
from sepcore.precision import autocast

SMALL = {"n_filters": 16, "kernel_size": 8, "bn_chan": 8, "hid_chan": 12, "n_blocks": 3,
         "n_repeats": 2, "skip_chan": 6}


def perturbed(cfg):
    torch.manual_seed(0)
    model = build_model({"name": "convtasnet", "num_sources": 2, **cfg}).eval()
    with torch.no_grad():  # away from the init's symmetries (unit gains, zero shifts)
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


@pytest.mark.parametrize("cfg", [
    SMALL,
    {**SMALL, "encoder_activation": "linear", "mask_nonlinear": "softmax"},
    # masks from the residual path; P=4 has no tap on the output frame at dilation 2
    {**SMALL, "skip_chan": 0, "conv_kernel_size": 4, "mask_nonlinear": "relu"},
], ids=["default", "linear-softmax", "noskip-P4"])
def test_tiled_path_is_the_reference_forward(float64, cfg):
    model = perturbed(cfg)
    assert tiled_tcn.supported(model)
    # the two utterances differ in scale: each has its own norm statistics
    mixture = torch.randn(2, 301) * torch.tensor([[1.0], [30.0]])
    with torch.inference_mode():
        with reference_kernels():
            expected = model(mixture)
        for tile in (1, 3, 7, 74, 512):  # one frame; smaller than the dilations; one tile
            out = tiled_tcn.separate(model, mixture, tile=tile)
            torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)
        short = torch.randn(5)  # shorter than the encoder's window: one padded frame
        with reference_kernels():
            expected = model(short)
        torch.testing.assert_close(tiled_tcn.separate(model, short, tile=3), expected,
                                   rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("onednn", [True, False], ids=["onednn", "F.linear"])
def test_float32_default_model_is_as_close_to_float64_as_the_whole_tensor_path(monkeypatch,
                                                                                 onednn):
    monkeypatch.setattr(sepcore.nn.onednn, "AVAILABLE", onednn and sepcore.nn.onednn.AVAILABLE)
    torch.manual_seed(1)
    model = build_model({"name": "convtasnet", "num_sources": 2}).eval()
    mixture = torch.randn(1, 8000)
    with torch.inference_mode():
        with reference_kernels():
            exact = copy.deepcopy(model).double()(mixture.double())
        whole = model._forward_channels_last(mixture).double()
        out = tiled_tcn.separate(model, mixture).double()
    scale = exact.abs().max()
    # measured 5.3e-7 (tiled) and 4.8e-7 (whole tensors)
    assert (out - exact).abs().max() <= 2e-6 * scale
    assert (whole - exact).abs().max() <= 2e-6 * scale


def test_forward_takes_the_tiled_path_only_without_gradients(monkeypatch):
    model = perturbed(SMALL)
    calls = []
    real = tiled_tcn.separate
    monkeypatch.setattr(tiled_tcn, "separate", lambda m, x: calls.append(1) or real(m, x))
    mixture = torch.randn(1, 200)
    model(mixture).sum().backward()  # training: whole tensors, with autograd
    assert calls == []
    with torch.inference_mode():
        model(mixture)
    assert calls == [1]
    with torch.no_grad(), reference_kernels():
        model(mixture)
    with torch.no_grad(), autocast("bf16"):  # autocast keeps the whole-tensor path
        model(mixture)
    assert calls == [1]


@pytest.mark.parametrize("cfg", [
    {**SMALL, "causal": True},
    {**SMALL, "norm": "chanLN"},
    {**SMALL, "norm": "BN"},
], ids=["causal-cLN", "chanLN", "BN"])
def test_models_outside_its_shape_are_not_tiled(cfg):
    assert not tiled_tcn.supported(build_model({"name": "convtasnet", "num_sources": 2, **cfg}))


def test_per_channel_prelu_is_not_tiled():
    model = build_model({"name": "convtasnet", "num_sources": 2, **SMALL})
    model.blocks[1].act2.weight = torch.nn.Parameter(torch.full((12,), 0.25))
    assert not tiled_tcn.supported(model)


def test_norm_statistics_keep_a_small_spread_under_a_large_mean():
    # float32 E[x²] - E[x]² would leave nothing of this variance (1e-4 under a mean² of 1e6)
    torch.manual_seed(2)
    x = 1000.0 + 0.01 * torch.randn(1000, 64)
    stats = tiled_tcn._Stats()
    for s, e in tiled_tcn._tiles(1000, 300):
        stats.add(x[s:e])
    norm = GlobalLayerNorm(64)
    gain, shift = stats.fold(norm)
    expected = x.double().var(unbiased=False) + norm.eps
    torch.testing.assert_close(gain.double(), expected.rsqrt().expand(64).float().double(),
                               rtol=1e-4, atol=0)
    torch.testing.assert_close(shift.double(), -x.double().mean() * expected.rsqrt().expand(64),
                               rtol=1e-4, atol=0)
