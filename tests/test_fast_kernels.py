"""The models' fast path (channels-last matrix products, folded norms, custom backward
passes) computes the same loss and gradients as the plain reference modules, and the
reference path still reproduces the frozen format-1 fixture bit for bit."""

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
]


def loss_and_grads(model, mixture, sources):
    loss, _ = build_criterion(DEFAULTS["loss"])(model(mixture), sources)
    return loss.detach(), torch.autograd.grad(loss, list(model.parameters()))


@pytest.mark.parametrize("name,cfg", CASES, ids=["convtasnet-gLN", "convtasnet-causal-cLN",
                                                   "convtasnet-chanLN-noskip", "convtasnet-linear",
                                                   "dprnn"])
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


def test_reference_path_gives_the_frozen_fixture_bit_for_bit():
    model = sepcore.load(DATA / "model_v1.pt")
    x = torch.from_numpy(_fixture_input())[None]
    expected = np.load(DATA / "model_v1_expected.npy")
    with reference_kernels(), torch.inference_mode():
        out = model.model(x)[0].numpy()
    assert np.array_equal(out, expected)
    with torch.inference_mode():  # the fast path: the same up to float32 rounding
        fast = model.model(x)[0].numpy()
    np.testing.assert_allclose(fast, expected, atol=1e-5)


def test_the_kernels_variable_is_checked(monkeypatch):
    monkeypatch.setenv("SEPCORE_KERNELS", "reference")
    assert kernels._from_env()
    monkeypatch.setenv("SEPCORE_KERNELS", "fastest")
    with pytest.raises(ConfigError, match="SEPCORE_KERNELS.*fast, reference.*fastest"):
        kernels._from_env()
