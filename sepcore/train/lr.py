"""The learning-rate policy: warm-up, then a plateau or a cosine schedule over a known
number of steps (``cosine``) or a wall-time budget (``cosine_time``).

``cosine_lr`` is a pure function of training progress (so testable at known points);
:class:`LRPolicy` applies the configured policy to an optimizer.
"""

from __future__ import annotations

import math


def cosine_lr(done: float, total: float, lr: float, min_lr: float,
              hold_fraction: float = 0.0) -> float:
    """``lr`` for the first ``hold_fraction`` of a budget of ``total`` steps or seconds,
    then a cosine decay that reaches ``min_lr`` exactly when ``done`` reaches ``total``."""
    progress = min(1.0, max(0.0, done / total - hold_fraction) / (1 - hold_fraction))
    return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


class LRPolicy:
    """The learning rate of every step, from the config's ``optim`` and ``scheduler``.

    Linear warm-up over ``optim.warmup_steps``; then with ``scheduler.name: plateau``
    torch's ReduceLROnPlateau (``factor``, ``patience``, ``min_lr``) at the end of each
    epoch; with ``cosine`` ``optim.lr`` for the first ``hold_fraction`` of
    ``training.max_steps`` and a cosine decay to ``min_lr`` at the last step; with
    ``cosine_time`` the same over the ``training.max_minutes`` budget, so the run ends
    annealed whenever the budget ends. Only the configured schedule is built.
    """

    def __init__(self, optimizer, optim_cfg: dict, scheduler_cfg: dict,
                 budget_minutes: float | None, max_steps: int | None = None):
        import torch

        self.optimizer, self.ocfg, self.scfg = optimizer, optim_cfg, scheduler_cfg
        self.budget = None if budget_minutes is None else 60 * float(budget_minutes)
        self.max_steps = max_steps
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
            done, total = ((steps, self.max_steps) if self.scfg["name"] == "cosine"
                           else (elapsed, self.budget))
            lr = cosine_lr(done, total, self.ocfg["lr"], self.scfg["min_lr"],
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
