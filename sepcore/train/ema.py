"""Exponential moving average of a model's weights (Polyak averaging)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """A copy of ``model`` whose weights follow ``ema = decay * ema + (1 - decay) * w``
    after every optimizer step.

    Short, high-learning-rate runs end with weights that jitter around a good point;
    their average is a better model at no training cost. The decay ramps up as
    ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so the random initial
    weights are forgotten within the first few dozen steps. Buffers (e.g. BatchNorm
    statistics) are copied, not averaged.
    """

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        weight = 1.0 - min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(list(self.model.parameters()), list(model.parameters()), weight)
        for average, current in zip(self.model.buffers(), model.buffers()):
            average.copy_(current)

    @torch.no_grad()
    def reset(self, model: nn.Module) -> None:
        """Start again from ``model``'s weights."""
        self.updates = 0
        self.model.load_state_dict(model.state_dict())

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])
