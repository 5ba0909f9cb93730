"""Compiled CPU kernels for the middle of a ConvTasNet block (``csrc/tcn.c``).

Two functions, each with its backward, on contiguous channels-last ``[B, T, C]``
activations in float32 or float64:

- :func:`prelu_norm`: a one-slope PReLU followed by gLN's normalisation (statistics over
  each example's frames and channels; the affine transform is folded into the weights
  that follow, sepcore/nn/channels_last.py);
- :func:`depthwise`: a depthwise conv with any taps, zero-padded, its norm's shift folded
  into per-tap offsets.

On 2 threads they take a mini-recipe training step (``egs/mini/convtasnet``) from 60 to
~50 ms: torch spends a dozen kernels on the same work, each a pass over memory. The
loops over the batch run on torch's OpenMP threads; the results do not depend on their
number. channels_last.py calls these where :func:`available` says so, and torch's
kernels otherwise (no compiler, autocast, other devices and dtypes, the reference kernels).
"""
from __future__ import annotations

import ctypes
import logging

import torch

from sepcore.nn import cbuild

log = logging.getLogger("sepcore.nn.tcn_kernels")

_lib: ctypes.CDLL | None | bool = False  # False: not tried yet
_SUFFIX = {torch.float32: "f32", torch.float64: "f64"}


def library() -> ctypes.CDLL | None:
    """The compiled kernels, or None where they could not be built (logged once)."""
    global _lib
    if _lib is False:
        _lib = None
        fallback = "ConvTasNet blocks run through torch's kernels"
        # -fopenmp: the library's parallel loops use the OpenMP runtime torch has loaded
        path = cbuild.build("tcn", ["-fopenmp"], log, fallback)
        try:
            lib = ctypes.CDLL(str(path)) if path is not None else None
        except OSError as e:
            log.warning("cannot load %s (%s): %s", path, e, fallback)
            lib = None
        if lib is not None:
            i, p, n, d = ctypes.c_int, ctypes.c_void_p, ctypes.c_long, ctypes.c_double
            for dtype, sfx in _SUFFIX.items():
                real = ctypes.c_float if dtype == torch.float32 else d
                for name, args in (("prelu_norm_fwd", [i, i, n, p, real, d, p, p]),
                                   ("prelu_norm_bwd", [i, i, n, p, real, p, p, p, p, p]),
                                   ("dw_fwd", [i, i, i, i, i, p, p, p, p, p, p, p]),
                                   ("dw_bwd", [i, i, i, i, i, p, p, p, p, p, p])):
                    f = getattr(lib, f"{name}_{sfx}")
                    f.argtypes, f.restype = args, None
            _lib = lib
    return _lib


def available(x: torch.Tensor) -> bool:
    """Whether the kernels compute on ``x`` (the caller checks the reference kernels)."""
    return (x.device.type == "cpu" and x.dtype in _SUFFIX and x.dim() == 3
            and not torch.is_autocast_enabled("cpu") and library() is not None)


def _fn(name: str, x: torch.Tensor):
    return getattr(library(), f"{name}_{_SUFFIX[x.dtype]}")


class _PReLUNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, slope, eps):
        h = h.contiguous()
        y = torch.empty_like(h)
        stats = torch.empty(h.shape[0], 2, dtype=torch.float64)
        a = float(slope)
        _fn("prelu_norm_fwd", h)(torch.get_num_threads(), h.shape[0], h[0].numel(),
                                 h.data_ptr(), a, eps, y.data_ptr(), stats.data_ptr())
        ctx.slope = a
        ctx.save_for_backward(h, y, stats, slope)
        return y

    @staticmethod
    def backward(ctx, grad):
        h, y, stats, slope = ctx.saved_tensors
        grad = grad.contiguous()
        grad_h = torch.empty_like(h)
        grad_slope = torch.empty(h.shape[0], dtype=torch.float64)
        _fn("prelu_norm_bwd", h)(torch.get_num_threads(), h.shape[0], h[0].numel(),
                                 h.data_ptr(), ctx.slope, y.data_ptr(), stats.data_ptr(),
                                 grad.data_ptr(), grad_h.data_ptr(), grad_slope.data_ptr())
        return grad_h, grad_slope.sum().to(slope.dtype).reshape(slope.shape), None


def prelu_norm(h: torch.Tensor, slope: torch.Tensor, eps: float) -> torch.Tensor:
    """``layer_norm(prelu(h, slope), h.shape[1:], eps=eps)`` without affine transform, for
    a one-value ``slope``."""
    return _PReLUNorm.apply(h, slope, eps)


class _Depthwise(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, offset, bias, offsets):
        x = x.contiguous()
        b, frames, channels = x.shape
        taps = len(offsets)
        w, off = weight.t().contiguous(), offset.t().contiguous()  # [taps, C]: C innermost
        u = torch.empty_like(x)
        scratch = x.new_empty(channels)
        offs = (ctypes.c_int * taps)(*offsets)
        _fn("dw_fwd", x)(torch.get_num_threads(), b, frames, channels, taps, offs,
                         x.data_ptr(), w.data_ptr(), off.data_ptr(),
                         bias.contiguous().data_ptr(), u.data_ptr(), scratch.data_ptr())
        ctx.offsets = offsets
        ctx.save_for_backward(x, w)
        return u

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        b, frames, channels = x.shape
        taps = len(ctx.offsets)
        grad = grad.contiguous()
        grad_x = torch.empty_like(x)
        part = x.new_empty(b, 2 * taps * channels + channels)
        offs = (ctypes.c_int * taps)(*ctx.offsets)
        _fn("dw_bwd", x)(torch.get_num_threads(), b, frames, channels, taps, offs,
                         x.data_ptr(), w.data_ptr(), grad.data_ptr(), grad_x.data_ptr(),
                         part.data_ptr())
        total = part.sum(dim=0)  # the examples' shares, added up in order
        grad_w, grad_off, grad_bias = total.split([taps * channels] * 2 + [channels])
        return (grad_x, grad_w.view(taps, channels).t(), grad_off.view(taps, channels).t(),
                grad_bias, None)


def depthwise(x: torch.Tensor, weight: torch.Tensor, offset: torch.Tensor,
              bias: torch.Tensor, offsets: tuple[int, ...]) -> torch.Tensor:
    """``y[t] = bias + sum_k (weight[:, k] * x[t + offsets[k]] + offset[:, k])`` over the
    taps ``k`` whose frame ``t + offsets[k]`` exists, on ``[B, T, C]``; ``weight`` and
    ``offset`` are ``[C, taps]`` (channels_last._Depthwise's function)."""
    return _Depthwise.apply(x, weight, offset, bias, offsets)
