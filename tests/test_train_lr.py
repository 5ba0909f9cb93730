"""sepcore.train.lr: the cosine schedule (over steps or wall time), checked at known points."""

import math

import pytest

from sepcore.train.lr import cosine_lr


@pytest.mark.parametrize("hold", [0.0, 0.5])
def test_cosine_lr_at_known_points(hold):
    budget, lr, low = 600.0, 3e-3, 1e-6
    start = hold * budget
    assert cosine_lr(0.0, budget, lr, low, hold) == lr
    assert cosine_lr(start, budget, lr, low, hold) == lr
    middle = start + (budget - start) / 2
    assert cosine_lr(middle, budget, lr, low, hold) == pytest.approx((lr + low) / 2)
    quarter = start + (budget - start) / 4
    expected = low + (lr - low) * 0.5 * (1 + math.cos(math.pi / 4))
    assert cosine_lr(quarter, budget, lr, low, hold) == pytest.approx(expected)
    assert cosine_lr(budget, budget, lr, low, hold) == pytest.approx(low)
    assert cosine_lr(2 * budget, budget, lr, low, hold) == pytest.approx(low)


def test_cosine_lr_holds_then_only_decreases():
    values = [cosine_lr(t, 100.0, 1e-3, 0.0, 0.3) for t in range(0, 101)]
    assert values[:31] == [1e-3] * 31
    assert all(b < a for a, b in zip(values[30:], values[31:]))


def test_cosine_over_steps_warms_up_then_reaches_min_lr_at_the_last_step():
    import torch

    from sepcore.train.lr import LRPolicy

    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    policy = LRPolicy(optimizer, {"lr": 2e-3, "warmup_steps": 4},
                      {"name": "cosine", "min_lr": 1e-5, "hold_fraction": 0.0}, None, 100)
    lrs = []
    for step in range(100):
        policy.before_step(step, elapsed=1e9)  # the wall clock plays no part
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs[:4] == pytest.approx([cosine_lr(s, 100, 2e-3, 1e-5) * (s + 1) / 4
                                     for s in range(4)])
    assert lrs[50] == pytest.approx((2e-3 + 1e-5) / 2)
    assert lrs[99] == pytest.approx(cosine_lr(99, 100, 2e-3, 1e-5))
    assert all(b < a for a, b in zip(lrs[4:], lrs[5:]))
    assert cosine_lr(100, 100, 2e-3, 1e-5) == pytest.approx(1e-5)
