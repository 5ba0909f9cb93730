"""The multi-resolution STFT loss and the loss.name choice, with numbers."""

from __future__ import annotations

import math

import pytest
import torch

from sepcore.config import DEFAULTS
from sepcore.errors import ConfigError
from sepcore.losses import PITLoss, build_criterion, build_loss, pairwise_neg_si_sdr
from sepcore.losses.mrstft import MultiResolutionSTFTLoss


def noise(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def test_identical_is_zero():
    x = noise(2, 8000)
    assert torch.allclose(MultiResolutionSTFTLoss()(x, x), torch.zeros(2, dtype=x.dtype))


@pytest.mark.parametrize("g", [0.5, 2.0, 0.9])
def test_scaled_copy_closed_form(g):
    # |STFT(g s)| = g |STFT(s)| in every bin: L_sc = |1 - g|, L_mag = |ln g|, per resolution
    x = noise(8000)
    got = float(MultiResolutionSTFTLoss()(g * x, x))
    assert got == pytest.approx(abs(1 - g) + abs(math.log(g)), rel=1e-6)
    one = MultiResolutionSTFTLoss([256], [64], [128])
    assert float(one(g * x, x)) == pytest.approx(abs(1 - g) + abs(math.log(g)), rel=1e-6)


def test_silent_estimate_is_finite_with_gradient():
    ref = noise(1, 4000)
    est = torch.zeros(1, 4000, dtype=torch.float64, requires_grad=True)
    loss = MultiResolutionSTFTLoss()(est, ref).sum()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(est.grad).all()
    assert float(loss.detach()) > 1.0  # spectral convergence alone is 1 for a zero estimate


def test_pairwise_and_pit():
    mr = MultiResolutionSTFTLoss([256, 128], [64, 32], [256, 100])
    refs = noise(3, 2, 4000, seed=1)
    est = refs.flip(1) * 0.8  # sources swapped
    pw = mr.pairwise(est, refs)
    assert pw.shape == (3, 2, 2)
    for k in range(2):
        for j in range(2):
            torch.testing.assert_close(pw[:, k, j], mr(est[:, k], refs[:, j]))
    loss, perm = PITLoss(mr.pairwise)(est, refs)
    assert perm.tolist() == [[1, 0]] * 3
    assert float(loss) == pytest.approx(0.2 + abs(math.log(0.8)), rel=1e-6)


def test_loss_names_from_config():
    cfg = dict(DEFAULTS["loss"])
    est, ref = noise(2, 1, 8000, seed=2), noise(2, 1, 8000, seed=3)
    est = ref + 0.3 * est
    sisdr = pairwise_neg_si_sdr(est, ref)
    assert build_loss(cfg) is pairwise_neg_si_sdr
    mr = build_loss({**cfg, "name": "mrstft"})(est, ref)
    comb = build_loss({**cfg, "name": "si_sdr+mrstft", "mrstft_weight": 2.5})(est, ref)
    torch.testing.assert_close(comb, sisdr + 2.5 * mr)
    assert float(sisdr.mean()) == pytest.approx(-10.46, abs=0.3)  # about 10 log10(1 / 0.09)


@pytest.mark.parametrize("cfg,match", [
    ({"name": "l1"}, "loss.name must be one of si_sdr, mrstft, si_sdr\\+mrstft, got 'l1'"),
    ({"name": "mrstft", "mrstft_hops": [120, 240]}, "one entry per resolution"),
    ({"name": "mrstft", "mrstft_fft_sizes": [100, 2048, 512]}, "resolution \\(fft 100"),
    ({"name": "si_sdr+mrstft", "mrstft_weight": -1}, "mrstft_weight must be a number >= 0"),
])
def test_bad_configs(cfg, match):
    with pytest.raises(ConfigError, match=match):
        build_loss({**DEFAULTS["loss"], **cfg})


def test_without_pit_estimate_k_is_scored_against_reference_k():
    torch.manual_seed(0)
    refs = torch.randn(2, 2, 4000)
    est = refs.flip(1) + 0.1 * torch.randn(2, 2, 4000)  # PIT would swap them
    cfg = {**DEFAULTS["loss"], "name": "si_sdr+mrstft", "pit": False}
    loss, perm = build_criterion(cfg)(est, refs)
    pairwise = build_loss(cfg)(est, refs)
    assert perm.tolist() == [[0, 1], [0, 1]]
    torch.testing.assert_close(loss, pairwise.diagonal(dim1=1, dim2=2).mean())
    pit_loss, pit_perm = build_criterion({**cfg, "pit": True})(est, refs)
    assert pit_perm.tolist() == [[1, 0], [1, 0]] and pit_loss < loss
