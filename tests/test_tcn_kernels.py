"""sepcore/nn/tcn_kernels.py (csrc/tcn.c) against the torch functions they replace: values
and every gradient in float64 and float32, results independent of the thread count, and
torch's kernels where nothing compiles."""

import logging

import pytest
import torch
import torch.nn.functional as F

from sepcore.models import build_model
from sepcore.nn import channels_last as cl
from sepcore.nn import tcn_kernels as K
from sepcore.nn.norm import GlobalLayerNorm


@pytest.fixture
def compiled():
    assert K.library() is not None, "csrc/tcn.c did not compile on this machine"


def _tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 1e-11,
                                                                       "atol": 1e-11}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("slope", [0.25, 0.0, -0.3])
@pytest.mark.parametrize("shape", [(3, 40, 6), (2, 700, 5)])  # one block of sums, several
def test_prelu_norm_is_layer_norm_of_prelu(compiled, dtype, slope, shape):
    torch.manual_seed(0)
    h = torch.randn(*shape, dtype=dtype, requires_grad=True)
    a = torch.tensor([slope], dtype=dtype, requires_grad=True)
    grad = torch.randn(*shape, dtype=dtype)
    got = K.prelu_norm(h, a, 1e-8)
    expected = F.layer_norm(F.prelu(h, a), shape[1:], eps=1e-8)
    torch.testing.assert_close(got, expected, **_tol(dtype))
    for g, e in zip(torch.autograd.grad(got, (h, a), grad),
                    torch.autograd.grad(expected, (h, a), grad)):
        torch.testing.assert_close(g, e, **_tol(dtype))


# centred (the non-causal blocks), one-sided (causal), a dilation past the frames (the
# taps read only padding), one tap, and five taps (the general loop)
OFFSETS = [(-1, 0, 1), (-16, 0, 16), (-8, -4, 0), (-128, 0, 128), (0,), (-6, -3, 0, 3, 6)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("offsets", OFFSETS)
def test_depthwise_is_the_sum_of_shifted_copies(compiled, dtype, offsets):
    torch.manual_seed(0)
    x = torch.randn(3, 61, 7, dtype=dtype, requires_grad=True)
    taps = len(offsets)
    weight, offset, bias = (torch.randn(*s, dtype=dtype, requires_grad=True)
                            for s in ((7, taps), (7, taps), (7,)))
    grad = torch.randn(3, 61, 7, dtype=dtype)
    outs = []
    for f in (K.depthwise, cl._Depthwise.apply):
        y = f(x, weight, offset, bias, offsets)
        outs.append((y, *torch.autograd.grad(y, (x, weight, offset, bias), grad)))
    for got, expected in zip(*outs):
        torch.testing.assert_close(got, expected, **_tol(dtype))


def test_results_do_not_depend_on_the_thread_count(compiled):
    """Each example is computed alone and the batch's sums are added in order: a training
    step gives the same bits on 1 or 2 threads (through these kernels; torch's own
    products are not part of this)."""
    torch.manual_seed(0)
    h = torch.randn(4, 300, 16, requires_grad=True)
    a = torch.tensor([0.2], requires_grad=True)
    w, off, b = (torch.randn(*s, requires_grad=True) for s in ((16, 3), (16, 3), (16,)))
    grad = torch.randn(4, 300, 16)
    threads = torch.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            y = K.depthwise(K.prelu_norm(h, a, 1e-8), w, off, b, (-4, 0, 4))
            results.append((y, *torch.autograd.grad(y, (h, a, w, off, b), grad)))
    finally:
        torch.set_num_threads(threads)
    for one, two in zip(*results):
        assert torch.equal(one, two)


def test_the_block_runs_them_where_they_apply(compiled, monkeypatch):
    """A gLN ConvTasNet's blocks go through the kernels; a per-channel PReLU or another
    norm goes through torch's."""
    calls = []
    monkeypatch.setattr(K, "prelu_norm", lambda *a: calls.append(1) or
                        F.layer_norm(F.prelu(a[0], a[1]), a[0].shape[1:], eps=a[2]))
    act, norm = torch.nn.PReLU(), GlobalLayerNorm(6)
    x = torch.randn(2, 10, 6)
    cl.prelu_norm(x, act, norm)
    assert calls == [1]
    cl.prelu_norm(x, torch.nn.PReLU(6), norm)
    cl.prelu_norm(x.double(), act.double(), norm)  # float64 is computed too
    assert calls == [1, 1]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not K.available(x)


def test_without_a_compiler_convtasnet_runs_on_torchs_kernels(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("SEPCORE_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", "/bin/false")
    monkeypatch.setattr(K, "_lib", False)  # not tried yet in this process
    torch.manual_seed(0)
    model = build_model({"name": "convtasnet", "num_sources": 2, "n_filters": 16,
                         "kernel_size": 8, "bn_chan": 8, "hid_chan": 12, "n_blocks": 2,
                         "n_repeats": 1})
    mixture = torch.randn(2, 200)
    with caplog.at_level(logging.WARNING, logger="sepcore.nn.tcn_kernels"):
        without = model(mixture)
    assert "torch's kernels" in caplog.text
    assert list(tmp_path.iterdir()) == []  # no half-built library left behind
    monkeypatch.setattr(K, "_lib", False)
    monkeypatch.delenv("CC")
    torch.testing.assert_close(model(mixture), without, rtol=1e-5, atol=1e-6)
