"""The learning-rate policy: warm-up, then a plateau or a cosine-over-wall-time schedule.

``cosine_time_lr`` is a pure function of training progress (so testable at known
points); :class:`LRPolicy` applies the configured policy to an optimizer.
"""

from __future__ import annotations

import math


def cosine_time_lr(elapsed: float, budget: float, lr: float, min_lr: float,
                   hold_fraction: float = 0.0) -> float:
    """``lr`` for the first ``hold_fraction`` of a wall-time ``budget`` (seconds), then a
    cosine decay that reaches ``min_lr`` exactly when ``elapsed`` reaches the budget."""
    progress = min(1.0, max(0.0, elapsed / budget - hold_fraction) / (1 - hold_fraction))
    return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


class LRPolicy:
    """The learning rate of every step, from the config's ``optim`` and ``scheduler``.

    Linear warm-up over ``optim.warmup_steps``; then with ``scheduler.name: plateau``
    torch's ReduceLROnPlateau (``factor``, ``patience``, ``min_lr``) at the end of each
    epoch, or with ``cosine_time`` ``optim.lr`` for the first ``hold_fraction`` of the
    ``training.max_minutes`` budget and a cosine decay to ``min_lr`` over the rest, so
    the run ends annealed whenever the budget ends. Only the configured schedule is built.
    """

    def __init__(self, optimizer, optim_cfg: dict, scheduler_cfg: dict,
                 budget_minutes: float | None):
        import torch

        self.optimizer, self.ocfg, self.scfg = optimizer, optim_cfg, scheduler_cfg
        self.budget = None if budget_minutes is None else 60 * float(budget_minutes)
        self.plateau = None
        if scheduler_cfg["name"] == "plateau":
            self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="min", factor=scheduler_cfg["factor"],
                patience=scheduler_cfg["patience"], min_lr=scheduler_cfg["min_lr"],
            )

    def before_step(self, steps: int, elapsed: float) -> None:
        """Set the LR of the optimizer step about to be taken (``steps`` taken so far)."""
        warmup = self.ocfg["warmup_steps"]
        if self.plateau is None:
            lr = cosine_time_lr(elapsed, self.budget, self.ocfg["lr"], self.scfg["min_lr"],
                                float(self.scfg["hold_fraction"]))
        elif warmup and steps <= warmup:
            lr = self.ocfg["lr"]
        else:
            return  # the plateau scheduler owns the LR
        if warmup and steps < warmup:
            lr *= (steps + 1) / warmup
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def end_epoch(self, valid_loss: float) -> None:
        if self.plateau is not None:
            self.plateau.step(valid_loss)

    def state_dict(self) -> dict | None:
        return None if self.plateau is None else self.plateau.state_dict()

    def load_state_dict(self, state: dict | None) -> None:
        if self.plateau is not None and state:
            self.plateau.load_state_dict(state)
