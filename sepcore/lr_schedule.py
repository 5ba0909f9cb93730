"""Learning-rate schedules that are functions of training progress (pure, so testable)."""

from __future__ import annotations

import math


def cosine_time_lr(elapsed: float, budget: float, lr: float, min_lr: float,
                   hold_fraction: float = 0.0) -> float:
    """``lr`` for the first ``hold_fraction`` of a wall-time ``budget`` (seconds), then a
    cosine decay that reaches ``min_lr`` exactly when ``elapsed`` reaches the budget."""
    progress = min(1.0, max(0.0, elapsed / budget - hold_fraction) / (1 - hold_fraction))
    return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))
