"""sepcore.train.lr: the cosine-over-wall-time schedule, checked at known points."""

import math

import pytest

from sepcore.train.lr import cosine_time_lr


@pytest.mark.parametrize("hold", [0.0, 0.5])
def test_cosine_time_lr_at_known_points(hold):
    budget, lr, low = 600.0, 3e-3, 1e-6
    start = hold * budget
    assert cosine_time_lr(0.0, budget, lr, low, hold) == lr
    assert cosine_time_lr(start, budget, lr, low, hold) == lr
    middle = start + (budget - start) / 2
    assert cosine_time_lr(middle, budget, lr, low, hold) == pytest.approx((lr + low) / 2)
    quarter = start + (budget - start) / 4
    expected = low + (lr - low) * 0.5 * (1 + math.cos(math.pi / 4))
    assert cosine_time_lr(quarter, budget, lr, low, hold) == pytest.approx(expected)
    assert cosine_time_lr(budget, budget, lr, low, hold) == pytest.approx(low)
    assert cosine_time_lr(2 * budget, budget, lr, low, hold) == pytest.approx(low)


def test_cosine_time_lr_holds_then_only_decreases():
    values = [cosine_time_lr(t, 100.0, 1e-3, 0.0, 0.3) for t in range(0, 101)]
    assert values[:31] == [1e-3] * 31
    assert all(b < a for a, b in zip(values[30:], values[31:]))
