"""sepcore/nn/onednn.py: the oneDNN products and their gradients are F.linear's (float32,
to rounding), and everything oneDNN does not take falls back to F.linear."""

import pytest
import torch
import torch.nn.functional as F

from sepcore.nn import onednn
from sepcore.precision import autocast

needs_onednn = pytest.mark.skipif(not onednn.AVAILABLE, reason="torch without oneDNN")


@needs_onednn
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_product_and_gradients_are_f_linear(bias):
    torch.manual_seed(0)
    x = torch.randn(3, 50, 24, requires_grad=True)
    weight = torch.randn(40, 24, requires_grad=True)
    b = torch.randn(40, requires_grad=True) if bias else None
    grad = torch.randn(3, 50, 40)
    leaves = [t for t in (x, weight, b) if t is not None]
    out = onednn.linear(x, weight, b)
    assert out.shape == (3, 50, 40) and out.grad_fn.name().endswith("LinearBackward")
    got = torch.autograd.grad(out, leaves, grad)
    expected_out = F.linear(x, weight, b)
    expected = torch.autograd.grad(expected_out, leaves, grad)
    torch.testing.assert_close(out, expected_out, rtol=1e-5, atol=1e-5)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-4)


@needs_onednn
def test_fused_leaky_relu_without_gradients():
    x, weight, b = torch.randn(70, 16), torch.randn(8, 16), torch.randn(8)
    expected = F.leaky_relu(F.linear(x, weight, b), 0.25)
    with torch.inference_mode():
        torch.testing.assert_close(onednn.linear(x, weight, b, 0.25), expected)
    out = onednn.linear(x, weight.requires_grad_(), b, 0.25)  # with autograd: not fused
    torch.testing.assert_close(out, expected)
    out.sum().backward()
    assert weight.grad is not None


def test_what_onednn_does_not_take_falls_back():
    x64, w64 = torch.randn(5, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    assert not onednn.usable(x64)
    torch.testing.assert_close(onednn.linear(x64, w64, None, 0.5),
                               F.leaky_relu(F.linear(x64, w64), 0.5))
    x, w = torch.randn(5, 4), torch.randn(3, 4)
    with autocast("bf16"):  # autocast casts F.linear's inputs; oneDNN would not
        assert not onednn.usable(x)
        assert onednn.linear(x, w).dtype == torch.bfloat16
