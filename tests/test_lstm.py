"""sepcore/nn/lstm.py: the step kernels compute torch's LSTM (values and every gradient),
fall back to the module where they do not apply, and choose between the two per machine."""

import json
import logging

import pytest
import torch
from torch import nn

from sepcore.errors import ConfigError
from sepcore.nn import lstm as L
from sepcore.nn.kernels import reference_kernels

pytestmark = pytest.mark.unit


@pytest.fixture
def steps(monkeypatch):
    monkeypatch.setenv("SEPCORE_LSTM", "steps")
    assert L.library() is not None, "the step kernels did not compile on this machine"


def _module(dtype, bidirectional=True, size=5, hidden=3, batch_first=True):
    torch.manual_seed(0)
    return nn.LSTM(size, hidden, batch_first=batch_first,
                   bidirectional=bidirectional).to(dtype)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("batch,steps_", [(4, 7), (1, 1), (3, 2)])
def test_steps_give_torchs_outputs_and_gradients_in_float64(steps, bidirectional, batch,
                                                             steps_, batch_first):
    m = _module(torch.float64, bidirectional, batch_first=batch_first)
    shape = (batch, steps_, 5) if batch_first else (steps_, batch, 5)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    assert L.usable(m, x)
    y, ref = L.lstm(m, x), m(x)[0]
    torch.testing.assert_close(y, ref, rtol=1e-12, atol=1e-14)
    g = torch.randn_like(y)
    inputs = [x, *m.parameters()]
    for a, b in zip(torch.autograd.grad(y, inputs, g), torch.autograd.grad(ref, inputs, g)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    with torch.no_grad():
        torch.testing.assert_close(L.lstm(m, x), ref, rtol=1e-12, atol=1e-14)


def test_steps_in_float32_are_torchs_up_to_rounding(steps):
    m = _module(torch.float32, size=32, hidden=16)
    x = 3 * torch.randn(6, 20, 32)  # saturating gates: the polynomial exp's range
    x.requires_grad_(True)
    y, ref = L.lstm(m, x), m(x)[0]
    torch.testing.assert_close(y, ref, rtol=0, atol=2e-6)
    g = torch.randn_like(y)
    for a, b in zip(torch.autograd.grad(y, [x, *m.parameters()], g),
                    torch.autograd.grad(ref, [x, *m.parameters()], g)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=2e-5)


def test_gradcheck(steps):
    m = _module(torch.float64, size=3, hidden=2)
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    params = list(m.parameters())
    assert torch.autograd.gradcheck(lambda x, *p: L._LSTM.apply(
        x, torch.stack([p[0], p[4]]), torch.stack([p[1], p[5]]),
        torch.stack([p[2] + p[3], p[6] + p[7]])), (x, *params))


def test_inference_in_row_blocks_is_the_same(steps, monkeypatch):
    m = _module(torch.float64)
    x = torch.randn(9, 6, 5, dtype=torch.float64)
    with torch.no_grad():
        whole = L.lstm(m, x)
        monkeypatch.setattr(L, "INFERENCE_GATE_BYTES", 2 * 12 * 6 * 8 * 2)  # 2 rows a block
        # the same up to the products' blocking of fewer rows
        torch.testing.assert_close(L.lstm(m, x), whole, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("case", ["gru", "two layers", "bf16 autocast", "reference",
                                  "torch chosen"])
def test_the_module_itself_where_the_steps_do_not_apply(monkeypatch, case):
    monkeypatch.setenv("SEPCORE_LSTM", "torch" if case == "torch chosen" else "steps")
    torch.manual_seed(0)
    m = {"gru": nn.GRU(5, 3, batch_first=True),
         "two layers": nn.LSTM(5, 3, num_layers=2, batch_first=True)}.get(
             case, nn.LSTM(5, 3, batch_first=True))
    x = torch.randn(2, 4, 5)
    if case == "bf16 autocast":
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert not L.usable(m, x)
        return
    with reference_kernels(case == "reference"):
        assert not L.usable(m, x)
        assert torch.equal(L.lstm(m, x), m(x)[0])


def test_torch_chosen_compiles_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("SEPCORE_LSTM", "torch")
    monkeypatch.setenv("SEPCORE_CACHE", str(tmp_path))
    monkeypatch.setattr(L, "_lib", False)
    assert not L.usable(_module(torch.float32), torch.randn(1, 2, 5))
    assert L._lib is False and list(tmp_path.iterdir()) == []


def test_the_choice_variable_is_checked(monkeypatch):
    monkeypatch.setenv("SEPCORE_LSTM", "fastest")
    with pytest.raises(ConfigError, match="SEPCORE_LSTM.*auto, torch, steps.*fastest"):
        L.usable(_module(torch.float32), torch.randn(1, 2, 5))


def test_auto_times_once_and_keeps_the_decision(monkeypatch, tmp_path):
    monkeypatch.setenv("SEPCORE_LSTM", "auto")
    monkeypatch.setattr(L, "_decisions", {})
    monkeypatch.setattr(L, "_lib", False)
    monkeypatch.setenv("SEPCORE_CACHE", str(tmp_path))
    calls = []

    def probe():
        calls.append(1)
        return {"train": {"torch": 1.0, "steps": 0.5}, "infer": {"torch": 1.0, "steps": 0.95}}

    monkeypatch.setattr(L, "probe", probe)
    assert L._steps_chosen(True) and not L._steps_chosen(False)
    [record] = tmp_path.glob("lstm-*-threads*.json")
    assert json.loads(record.read_text())["train"] is True
    monkeypatch.setattr(L, "_decisions", {})  # a new process reads the record: no timing
    assert L._steps_chosen(True) and not L._steps_chosen(False)
    assert len(calls) == 1


def test_probe_times_both_and_leaves_the_random_state_alone(steps):
    state = torch.get_rng_state()
    with torch.inference_mode():  # as the first use may be: separation
        times = L.probe(batch=2, steps=3, size=4, reps=1)
    assert torch.equal(torch.get_rng_state(), state)  # a training's draws do not change
    assert set(times) == {"train", "infer"}
    assert all(t > 0 for mode in times.values() for t in mode.values())


def test_without_a_compiler_torchs_lstm_is_used(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("SEPCORE_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", "/bin/false")
    with caplog.at_level(logging.WARNING, logger="sepcore.nn.lstm"):
        assert L._compile() is None
    assert "torch's nn.LSTM" in caplog.text
    assert list(tmp_path.iterdir()) == []  # no half-built library left behind


def test_dprnn_with_the_steps_has_torchs_loss_and_gradients(monkeypatch, float64):
    from sepcore.config import DEFAULTS
    from sepcore.losses import build_criterion
    from sepcore.models import build_model
    torch.manual_seed(0)
    model = build_model({"name": "dprnn", "num_sources": 2, "n_filters": 12, "kernel_size": 4,
                         "bn_chan": 8, "hid_size": 6, "chunk_size": 10, "n_repeats": 2})
    sources = torch.randn(2, 2, 120)
    results = []
    for choice in ("steps", "torch"):
        monkeypatch.setenv("SEPCORE_LSTM", choice)
        loss, _ = build_criterion(DEFAULTS["loss"])(model(sources.sum(1)), sources)
        results.append((loss, torch.autograd.grad(loss, list(model.parameters()))))
    (loss, grads), (ref_loss, ref_grads) = results
    torch.testing.assert_close(loss, ref_loss, rtol=1e-12, atol=1e-12)
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-12)
