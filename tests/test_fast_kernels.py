"""The models' fast path (channels-last matrix products, folded norms, custom backward
passes) computes the same loss and gradients as the plain reference modules, and the
reference path still reproduces the frozen format-1 fixture bit for bit (on the CPU kind
it was frozen on; within 1e-6 on another)."""

from pathlib import Path

import numpy as np
import pytest
import torch

import sepcore
from sepcore.config import DEFAULTS
from sepcore.errors import ConfigError
from sepcore.losses import build_criterion
from sepcore.models import build_model
from sepcore.nn import kernels
from sepcore.nn.kernels import reference_kernels, use_reference
from sepcore.precision import cpu_flags

DATA = Path(__file__).resolve().parent / "data"

SMALL = {"n_filters": 16, "kernel_size": 8, "bn_chan": 8, "hid_chan": 12, "n_blocks": 3,
         "n_repeats": 2, "skip_chan": 6}
SLOW = pytest.mark.slow  # float64 autograd through the whole model: a few seconds
CASES = [
    pytest.param("convtasnet", SMALL, marks=SLOW),
    pytest.param("convtasnet", {**SMALL, "causal": True}, marks=SLOW),
    ("convtasnet", {**SMALL, "norm": "chanLN", "conv_kernel_size": 4, "skip_chan": 0,
                    "mask_nonlinear": "softmax"}),
    ("convtasnet", {**SMALL, "encoder_activation": "linear", "n_repeats": 1}),
    pytest.param("dprnn", {"n_filters": 12, "kernel_size": 4, "bn_chan": 8, "hid_size": 6,
                           "chunk_size": 10, "n_repeats": 2}, marks=SLOW),
    ("sudormrf", {"n_filters": 16, "kernel_size": 8, "bn_chan": 8, "hid_chan": 12,
                  "num_blocks": 2, "upsampling_depth": 4}),
    ("sudormrf", {"n_filters": 16, "kernel_size": 7, "bn_chan": 8, "hid_chan": 12,
                  "num_blocks": 1, "upsampling_depth": 2, "norm": "chanLN",
                  "mask_nonlinear": "softmax", "encoder_activation": "relu"}),
]


def loss_and_grads(model, mixture, sources):
    loss, _ = build_criterion(DEFAULTS["loss"])(model(mixture), sources)
    return loss.detach(), torch.autograd.grad(loss, list(model.parameters()))


@pytest.mark.parametrize("name,cfg", CASES, ids=["convtasnet-gLN", "convtasnet-causal-cLN",
                                                   "convtasnet-chanLN-noskip", "convtasnet-linear",
                                                   "dprnn", "sudormrf", "sudormrf-chanLN"])
def test_fast_path_has_the_reference_loss_and_gradients(float64, name, cfg):
    torch.manual_seed(0)
    model = build_model({"name": name, "num_sources": 2, **cfg})
    with torch.no_grad():  # away from the init's symmetries (unit gains, zero shifts)
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    for length in (240, 61):  # a whole number of frames, and an input that needs padding
        sources = torch.randn(2, 2, length)
        mixture = sources.sum(dim=1)
        loss, grads = loss_and_grads(model, mixture, sources)
        with reference_kernels():
            assert use_reference()
            ref_loss, ref_grads = loss_and_grads(model, mixture, sources)
        assert not use_reference()
        torch.testing.assert_close(loss, ref_loss, rtol=1e-10, atol=1e-10)
        for (key, _), g, r in zip(model.named_parameters(), grads, ref_grads):
            torch.testing.assert_close(g, r, rtol=1e-8, atol=1e-10, msg=key)


def _fixture_input():
    t = np.arange(800) / 8000.0
    return (0.5 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 97 * t)).astype(
        np.float32)


# The CPU kind the fixture was frozen on. Float32 convolutions and matrix products are
# bit-reproducible only on the same kind of CPU: oneDNN and MKL pick kernels (and so the
# order of the sums) by vendor and instruction set, so an Intel machine with AMX rounds
# the last bit of a few samples differently from these AMD ones (measured: 1 to 3 ulp).
FROZEN_ON = ("AuthenticAMD", "AVX512", False)


def _cpu_kind() -> tuple[str, str, bool]:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    vendor = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                   if line.startswith("vendor_id")), "")
    return vendor, torch.backends.cpu.get_cpu_capability(), "amx_tile" in cpu_flags()


def test_reference_path_gives_the_frozen_fixture_bit_for_bit():
    model = sepcore.load(DATA / "model_v1.pt")
    x = torch.from_numpy(_fixture_input())[None]
    expected = np.load(DATA / "model_v1_expected.npy")
    with reference_kernels(), torch.inference_mode():
        out = model.model(x)[0].numpy()
    if _cpu_kind() == FROZEN_ON:
        assert np.array_equal(out, expected)
    else:  # another CPU kind: torch's own kernels round differently, by a few ulp at most
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6,
                                   err_msg=f"CPU {_cpu_kind()}, fixture frozen on {FROZEN_ON}")
    with torch.inference_mode():  # the fast path: the same up to float32 rounding
        fast = model.model(x)[0].numpy()
    np.testing.assert_allclose(fast, expected, atol=1e-5)


def test_the_kernels_variable_is_checked(monkeypatch):
    monkeypatch.setenv("SEPCORE_KERNELS", "reference")
    assert kernels._from_env()
    monkeypatch.setenv("SEPCORE_KERNELS", "fastest")
    with pytest.raises(ConfigError, match="SEPCORE_KERNELS.*fast, reference.*fastest"):
        kernels._from_env()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("frames,dilation", [(40, 1), (61, 4), (64, 16), (61, 128)])
def test_depthwise_as_an_image_conv_is_the_sum_of_shifted_copies(dtype, frames, dilation):
    """channels_last._DepthwiseConv (the dilation folded into an NHWC layout, padded when it
    does not divide the frames) against _Depthwise: values and every gradient."""
    from sepcore.nn.channels_last import _Depthwise, _DepthwiseConv
    torch.manual_seed(0)
    x = torch.randn(2, frames, 6, dtype=dtype, requires_grad=True)
    weight, offset, bias = (torch.randn(*s, dtype=dtype, requires_grad=True)
                            for s in ((6, 3), (6, 3), (6,)))
    offsets = (-dilation, 0, dilation)
    grad = torch.randn(2, frames, 6, dtype=dtype)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {}
    outs = []
    for fn in (_DepthwiseConv, _Depthwise):
        y = fn.apply(x, weight, offset, bias, offsets)
        outs.append((y, *torch.autograd.grad(y, (x, weight, offset, bias), grad)))
    for got, expected in zip(*outs):
        torch.testing.assert_close(got, expected, **tol)


@pytest.mark.parametrize("slope", [0.25, 1e-3, 0.0, -0.3])
def test_channels_last_prelu_gradients_are_torch_prelu(float64, slope):
    """With a positive slope the backward works from the saved output, otherwise from the
    input: both give F.prelu's gradients."""
    from sepcore.nn.channels_last import prelu
    torch.manual_seed(0)
    act = torch.nn.PReLU(1, init=slope)
    x = torch.randn(2, 30, 5, requires_grad=True)
    grad = torch.randn(2, 30, 5)
    got = prelu(x, act)
    expected = torch.nn.functional.prelu(x, act.weight)
    torch.testing.assert_close(got, expected)
    for a, b in zip(torch.autograd.grad(got, (x, act.weight), grad),
                    torch.autograd.grad(expected, (x, act.weight), grad)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_channels_last_prelu_with_a_slope_per_channel(float64):
    from sepcore.nn.channels_last import prelu
    torch.manual_seed(0)
    act = torch.nn.PReLU(5)
    with torch.no_grad():
        act.weight.copy_(torch.tensor([0.25, 1e-3, 0.0, -0.3, 2.0]))
    x = torch.randn(2, 30, 5, requires_grad=True)
    grad = torch.randn(2, 30, 5)
    got = prelu(x, act)
    # torch's prelu takes the channels as dim 1
    expected = torch.nn.functional.prelu(x.transpose(1, 2), act.weight).transpose(1, 2)
    torch.testing.assert_close(got, expected)
    for a, b in zip(torch.autograd.grad(got, (x, act.weight), grad),
                    torch.autograd.grad(expected, (x, act.weight), grad)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
