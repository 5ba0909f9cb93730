"""Float32 matrix products of the 1x1 convs through oneDNN on the CPU.

torch's ``F.linear`` multiplies float32 matrices with MKL's sgemm, which on the AMD CPUs of
the development machines ran well below oneDNN's kernel (2 threads, 16000 x 512 @ 512 x 256:
106 against 178 GFLOP/s; 2048^2: 127 against 188): MKL takes its AVX2 path there. oneDNN's
linear (``torch.ops.mkldnn._linear_pointwise``, the kernel inductor uses for CPU linears)
also applies a following leaky ReLU in the same pass. :func:`linear` uses it for the
forward product and the input's gradient; the weight's gradient stays with MKL
(``g.T @ x``), which was faster there (123 against 103 GFLOP/s).

Everything else (float64, bfloat16 autocast, other devices, a torch without oneDNN) takes
``F.linear``, so results only differ by float rounding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

AVAILABLE = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn,
                                                            "_linear_pointwise")


def usable(x: torch.Tensor) -> bool:
    return (AVAILABLE and x.dtype == torch.float32 and x.device.type == "cpu"
            and not torch.is_autocast_enabled("cpu"))


def _product(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
             slope: float | None = None) -> torch.Tensor:
    """oneDNN's ``x @ weight.T + bias`` (then a leaky ReLU) on ``[..., in]``."""
    flat = x.reshape(-1, x.shape[-1])
    if slope is None:
        y = torch.ops.mkldnn._linear_pointwise(flat, weight, bias, "none", [], "")
    else:
        y = torch.ops.mkldnn._linear_pointwise(flat, weight, bias, "leaky_relu", [slope], "")
    return y.view(*x.shape[:-1], weight.shape[0])


class _Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return _product(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        g = grad.reshape(-1, weight.shape[0])
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = _product(grad, weight.t(), None)
        if ctx.needs_input_grad[1]:
            grad_w = torch.mm(g.t(), x.reshape(-1, x.shape[-1]))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = g.sum(dim=0)
        return grad_x, grad_w, grad_b


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           slope: float | None = None) -> torch.Tensor:
    """``F.linear(x, weight, bias)``, then ``F.leaky_relu(., slope)`` if ``slope`` is given
    (a one-slope PReLU; fused into the product only without gradients)."""
    if usable(x):
        if not torch.is_grad_enabled():  # no autograd node to build (~1 % of a separation)
            return _product(x, weight, bias, slope)
        y = _Linear.apply(x, weight, bias)
    else:
        y = F.linear(x, weight, bias)
    return y if slope is None else F.leaky_relu(y, slope)
