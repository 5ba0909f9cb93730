"""Chunked overlap-add separation (sepcore.inference) with tiny stand-in models."""

import numpy as np
import pytest
import torch
from helpers.reference import fit_to_range_float64
from torch import nn

from sepcore.errors import ConfigError
from sepcore.inference import (
    ChunkPlan,
    best_permutation,
    chunk_bounds,
    plan_chunks,
    separate_chunked,
)
from sepcore.io import fit_to_range


class ConvSep(nn.Module):
    """Two stacked 'same' convolutions: receptive field k1 + k2 samples per side."""

    def __init__(self, num_sources=2, k1=5, k2=7, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.num_sources = num_sources
        self.k1, self.k2 = k1, k2
        self.c1 = nn.Conv1d(1, 4, 2 * k1 + 1, padding=k1)
        self.c2 = nn.Conv1d(4, num_sources, 2 * k2 + 1, padding=k2)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)

    def receptive_field(self):
        return self.k1 + self.k2

    def forward(self, x):
        return self.c2(torch.tanh(self.c1(x.unsqueeze(1))))


class Swapping(nn.Module):
    """Wraps a model and reverses its source order on every other call (like PIT)."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.calls = inner, 0
        self.num_sources = inner.num_sources

    def receptive_field(self):
        return self.inner.receptive_field()

    def forward(self, x):
        self.calls += 1
        y = self.inner(x)
        return y.flip(1) if self.calls % 2 == 0 else y


def _signal(n, seed=1):
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


def test_chunk_bounds_cover_everything_once_per_hop():
    plan = ChunkPlan(window=100, hop=70, guard=5)
    b = chunk_bounds(1000, plan)
    assert b[0] == (0, 100) and b[-1][1] == 1000
    assert all(s2 - s1 == 70 for (s1, _), (s2, _) in zip(b, b[1:]))
    assert all(e1 - s2 >= 30 for (_, e1), (s2, _) in zip(b, b[1:]))
    assert chunk_bounds(50, plan) == [(0, 50)]


def test_chunked_equals_unchunked_when_receptive_field_fits():
    model = ConvSep().eval()
    x = _signal(5000)
    with torch.inference_mode():
        full = model(torch.from_numpy(x)[None])[0].numpy()
    plan = ChunkPlan(window=400, hop=300, guard=model.receptive_field())  # overlap 100 >= 2*12
    est = separate_chunked(model, x, plan=plan)
    assert len(chunk_bounds(5000, plan)) > 10
    assert est.shape == (2, 5000)
    assert np.max(np.abs(est - full)) < 1e-4


def test_streaming_reader_gives_the_same_result():
    model = ConvSep().eval()
    x = _signal(3001)
    plan = ChunkPlan(window=500, hop=350, guard=12)
    a = separate_chunked(model, x, plan=plan)
    calls = []

    def read(s, e):
        calls.append((s, e))
        return x[s:e]

    b = separate_chunked(model, read, num_frames=len(x), plan=plan)
    np.testing.assert_array_equal(a, b)
    assert max(e - s for s, e in calls) == 500


def test_chunks_are_reordered_to_match_their_neighbours():
    inner = ConvSep(seed=3).eval()
    x = _signal(4000, seed=2)
    with torch.inference_mode():
        full = inner(torch.from_numpy(x)[None])[0].numpy()
    plan = ChunkPlan(window=400, hop=300, guard=12)
    est = separate_chunked(Swapping(inner), x, plan=plan)
    assert np.max(np.abs(est - full)) < 1e-4
    unaligned = separate_chunked(Swapping(inner), x, plan=plan, align=False)
    assert np.max(np.abs(unaligned - full)) > 0.1


def test_best_permutation():
    rng = np.random.default_rng(0)
    prev = rng.standard_normal((3, 200))
    assert list(best_permutation(prev, prev[[2, 0, 1]])) == [1, 2, 0]
    assert list(best_permutation(np.zeros((3, 50)), np.zeros((3, 50)))) == [0, 1, 2]


def test_default_plan_from_receptive_field():
    model = ConvSep(k1=400, k2=400)  # rf 800 samples = 0.1 s at 8 kHz
    plan = plan_chunks(model, 8000)
    assert plan.guard == 800
    assert plan.overlap >= 2 * 800
    assert plan.window >= 4 * 8000 and plan.window >= 8 * 800
    assert plan.window <= 2 * plan.hop
    with pytest.raises(ConfigError):
        plan_chunks(model, 8000, window_seconds=1.0, hop_seconds=2.0)


def test_a_model_can_cap_the_default_window():
    from sepcore.models.umx import UMX
    from sepcore.spectral.wiener import WienerFiltered

    umx = UMX(n_fft=512, hop=128, hidden_size=8, num_layers=1)
    for model in (umx, WienerFiltered(umx, 1)):
        plan = plan_chunks(model, 44100)  # rf 1 s: overlap 2.5 s, uncapped window 20 s
        assert (plan.window, plan.overlap) == (441000, 110250)
    assert plan_chunks(umx, 44100, window_seconds=30.0).window == 1323000  # asked for
    model = ConvSep(k1=400, k2=400)
    model.chunk_seconds = 0.1  # never below two overlaps
    assert plan_chunks(model, 8000).window == 2 * plan_chunks(model, 8000).overlap


@pytest.mark.parametrize("case", ["separated", "orthogonal", "silent", "loud_float", "random"])
@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
def test_fit_to_range_in_blocks_matches_the_float64_rule(case, subtype):
    rng = np.random.default_rng(0)
    src = rng.standard_normal((2, 3000, 2)).astype(np.float32) * np.array([0.3, 0.1])[:, None, None]
    mix = src.sum(0)
    est = src * np.array([-500.0, 2000.0], dtype=np.float32)[:, None, None]
    if case == "orthogonal":
        est[1] = rng.standard_normal((3000, 2))  # then made orthogonal to the mixture
        est[1] -= (est[1].ravel() @ mix.ravel()) / (mix.ravel() @ mix.ravel()) * mix
    elif case == "silent":
        est[1] = 0
    elif case == "loud_float":
        mix = mix * 8
    elif case == "random":
        est = (rng.standard_normal((2, 3000, 2)) * 500).astype(np.float32)
    want = fit_to_range_float64(est, mix, subtype)
    got = fit_to_range(est.copy(), mix, subtype, block=700)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    limit = 0.99 if subtype == "PCM_16" else max(0.99, float(np.abs(mix).max()))
    assert np.max(np.abs(got)) <= limit + 1e-6


def test_channels_get_the_first_channels_source_order():
    from sepcore.api import SeparationModel

    inner = ConvSep(seed=5).eval()
    model = SeparationModel(Swapping(inner), 8000, ["a", "b"])
    x = _signal(3000, seed=4)
    stereo = np.stack([x, x], axis=1)
    est = model.separate_array(stereo, 8000)  # one chunk per channel: channel 1 comes swapped
    assert model.model.calls == 2
    np.testing.assert_array_equal(est[:, :, 0], est[:, :, 1])
    with torch.inference_mode():
        np.testing.assert_allclose(est[:, :, 0], inner(torch.from_numpy(x)[None])[0].numpy(),
                                   atol=1e-5)


def test_short_inputs_are_separated_whole():
    model = ConvSep(k1=400, k2=400)
    plan = plan_chunks(model, 8000)
    assert plan.whole == 60 * 8000
    assert chunk_bounds(60 * 8000, plan) == [(0, 480000)]
    assert len(chunk_bounds(60 * 8000 + 1, plan)) > 1
    model.chunk_seconds = 10.0  # a model's bound on its chunks bounds the one pass too
    assert plan_chunks(model, 8000).whole == 20 * 8000
    assert plan_chunks(model, 8000, window_seconds=5.0).whole == 0
    assert plan_chunks(model, 8000, whole_seconds=0).whole == 0
