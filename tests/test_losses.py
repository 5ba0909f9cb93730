import itertools

import numpy as np
import pytest
import torch

from sepcore.losses import PITLoss, pairwise_neg_si_sdr, reorder_sources, si_sdr
from sepcore.losses.pit import best_permutations


def test_si_sdr_closed_form():
    # reference and an orthogonal, zero-mean disturbance: SI-SDR = 10 log10(|s|^2 / |n|^2)
    t = torch.arange(8000, dtype=torch.float64)
    ref = torch.sin(2 * np.pi * 5 * t / 8000)
    noise = torch.cos(2 * np.pi * 5 * t / 8000) * 0.1
    expected = 10 * np.log10(float(ref.pow(2).sum() / noise.pow(2).sum()))
    assert float(si_sdr(ref + noise, ref)) == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(20.0, abs=1e-6)


def test_si_sdr_is_scale_invariant():
    rng = torch.Generator().manual_seed(0)
    ref = torch.randn(4000, generator=rng, dtype=torch.float64)
    est = ref + 0.3 * torch.randn(4000, generator=rng, dtype=torch.float64)
    base = float(si_sdr(est, ref))
    assert float(si_sdr(17.0 * est, ref)) == pytest.approx(base, abs=1e-9)
    assert float(si_sdr(est, 0.01 * ref)) == pytest.approx(base, abs=1e-5)
    other = torch.randn(4000, generator=rng, dtype=torch.float64)
    assert base > 9 and float(si_sdr(est, other)) < -15


@pytest.mark.parametrize("num_sources", [2, 3, 4])
def test_pit_finds_the_permutation(num_sources):
    torch.manual_seed(0)
    refs = torch.randn(6, num_sources, 2000)
    all_perms = list(itertools.permutations(range(num_sources)))
    perms = torch.tensor([all_perms[(7 * b) % len(all_perms)] for b in range(6)])
    # estimate i of example b is reference inverse(perm)[i], plus a little noise
    est = torch.stack([refs[b, torch.argsort(perms[b])] for b in range(6)])
    est = est + 0.05 * torch.randn_like(est)
    loss, found = PITLoss(pairwise_neg_si_sdr)(est, refs)
    assert torch.equal(found, perms)
    assert float(loss) < -20
    assert torch.allclose(reorder_sources(est, found), refs, atol=0.3)
    # without PIT the loss of the unpermuted order is much worse
    identity = -si_sdr(est, refs).mean()
    assert float(identity) > float(loss) + 10


def test_pit_hungarian_matches_brute_force_beyond_eight_sources():
    torch.manual_seed(1)
    pairwise = torch.rand(2, 9, 9)
    perm = best_permutations(pairwise)
    assert sorted(perm[0].tolist()) == list(range(9))
    # optimality: no swap of two references lowers the cost
    def cost(b, p):
        return float(sum(pairwise[b, p[j], j] for j in range(9)))

    for b in range(2):
        base = cost(b, perm[b].tolist())
        for i, j in itertools.combinations(range(9), 2):
            p = perm[b].tolist()
            p[i], p[j] = p[j], p[i]
            assert cost(b, p) >= base - 1e-6


def test_pit_loss_has_gradient():
    est = torch.randn(2, 2, 1000, requires_grad=True)
    loss, _ = PITLoss(pairwise_neg_si_sdr)(est, torch.randn(2, 2, 1000))
    loss.backward()
    assert est.grad is not None and torch.isfinite(est.grad).all()
