"""sepcore/metrics/registry.py: one table that scoring and show_results read."""

from __future__ import annotations

import numpy as np
import pytest

from sepcore.metrics import METRIC_SETS, METRICS, Metric, parse_metrics, score_utterance
from sepcore.metrics.registry import register_metric


def compute_energy_ratio(u, est, mix):
    """A toy metric: estimate energy over reference energy, in dB."""
    def ratio(x):
        return [10 * np.log10(np.sum(x[j] ** 2) / np.sum(u.refs[j] ** 2))
                for j in range(u.refs.shape[0])]
    return ({"energy_ratio": ratio(u.ests)} if est else {},
            {"energy_ratio": ratio(np.stack([u.mix] * u.refs.shape[0]))} if mix else {})


def test_every_metric_is_described():
    assert set(METRIC_SETS["default"]) <= set(METRICS)
    for m in METRICS.values():
        assert m.family in ("speech", "music", "enhancement")
        assert m.summary in ("mean", "median") and m.channels in ("mono", "any")
        assert ":" in m.compute and m.doc
    assert METRICS["sdr_mdx"].summary == "median" and METRICS["si_sdr"].higher_is_better
    assert METRICS["pesq"].rates == (8000, 16000)
    assert parse_metrics("music") == list(METRIC_SETS["music"])
    with pytest.raises(ValueError, match="unknown metric 'nope'"):
        parse_metrics("si_sdr,nope")


def test_a_registered_metric_is_scored_with_its_input_score(monkeypatch):
    monkeypatch.setitem(METRICS, "energy_ratio", METRICS["si_sdr"])  # restored afterwards
    register_metric(Metric("energy_ratio", "enhancement",
                           "test_metrics_registry:compute_energy_ratio", doc="toy"))
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((2, 800))
    est = ref[::-1] * 0.5  # swapped, half amplitude
    res = score_utterance(est, ref, ref.sum(0), 8000, ["si_sdr", "energy_ratio"])
    assert res.perm == [1, 0]
    np.testing.assert_allclose(res.values["energy_ratio"], [20 * np.log10(0.5)] * 2)
    assert len(res.inputs["energy_ratio"]) == 2
    no_input = Metric("energy_ratio", "enhancement", "test_metrics_registry:compute_energy_ratio",
                      input_score=False, doc="toy")
    register_metric(no_input)
    res = score_utterance(est, ref, ref.sum(0), 8000, ["energy_ratio"])
    assert "energy_ratio" not in res.inputs
