"""The CPU-fast forms of gLN, PReLU, depthwise conv and the decoder equal torch's reference
modules, forward and backward (model files trained with either stay interchangeable)."""

import pytest
import torch
from torch import nn

from sepcore.nn.activations import PReLU
from sepcore.nn.conv import depthwise_conv1d, overlap_add_decode
from sepcore.nn.norm import GlobalLayerNorm


def grads(out, inputs, seed=0):
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    return torch.autograd.grad(out, inputs, g)


def assert_same(fast, reference, inputs):
    torch.testing.assert_close(fast, reference, rtol=1e-9, atol=1e-9)
    for a, b in zip(grads(fast, inputs), grads(reference, inputs)):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


@pytest.fixture(autouse=True)
def float64():
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    yield
    torch.set_default_dtype(default)


@pytest.mark.slow
def test_global_layer_norm_is_the_paper_formula():
    norm = GlobalLayerNorm(6)
    with torch.no_grad():
        norm.gamma.normal_()
        norm.beta.normal_()
    x = (torch.randn(3, 6, 50) * 4 + 2).requires_grad_()
    mean = x.mean(dim=(1, 2), keepdim=True)
    var = (x - mean).pow(2).mean(dim=(1, 2), keepdim=True)
    reference = norm.gamma * (x - mean) / torch.sqrt(var + norm.eps) + norm.beta
    assert_same(norm(x), reference, (x, norm.gamma, norm.beta))
    assert norm.gamma.shape == (1, 6, 1)  # the parameter layout of saved models


@pytest.mark.parametrize("channels", [1, 5])
def test_prelu_equals_torch_prelu(channels):
    fast, reference = PReLU(channels), nn.PReLU(channels)
    with torch.no_grad():
        fast.weight.copy_(torch.rand(channels))
        reference.weight.copy_(fast.weight)
    x = torch.randn(2, 5, 40, requires_grad=True)
    out_fast, out_ref = fast(x), reference(x)
    torch.testing.assert_close(out_fast, out_ref)
    g_fast = grads(out_fast, (x, fast.weight))
    g_ref = grads(out_ref, (x, reference.weight))
    for a, b in zip(g_fast, g_ref):
        torch.testing.assert_close(a, b)
    assert list(fast.state_dict()) == ["weight"]


@pytest.mark.slow
@pytest.mark.parametrize("dilation", [1, 2, 7, 32])
@pytest.mark.parametrize("taps", [2, 3, 5])
@pytest.mark.parametrize("bias", [True, False])
def test_depthwise_conv_equals_conv1d(dilation, taps, bias):
    conv = nn.Conv1d(8, 8, taps, dilation=dilation, groups=8, bias=bias)
    x = torch.randn(2, 8, 100 + (taps - 1) * dilation, requires_grad=True)
    params = (x, conv.weight) + ((conv.bias,) if bias else ())
    out = depthwise_conv1d(x, conv)
    assert out.shape == (2, 8, 100)
    assert_same(out, conv(x), params)


@pytest.mark.parametrize("window,stride,frames", [(16, 8, 1), (16, 8, 37), (64, 32, 20), (6, 2, 9)])
def test_overlap_add_decode_equals_conv_transpose(window, stride, frames):
    decoder = nn.ConvTranspose1d(12, 1, window, stride=stride, bias=False)
    x = torch.randn(3, 12, frames, requires_grad=True)
    out = overlap_add_decode(x, decoder)
    assert out.shape == (3, 1, (frames - 1) * stride + window)
    assert_same(out, decoder(x), (x, decoder.weight))


def test_overlap_add_decode_falls_back_for_other_decoders():
    decoder = nn.ConvTranspose1d(12, 2, 8, stride=4)
    x = torch.randn(1, 12, 10)
    torch.testing.assert_close(overlap_add_decode(x, decoder), decoder(x))
