"""Activations with faster CPU kernels than torch's own (same parameters and state dict)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sepcore.nn.kernels import use_reference


class PReLU(nn.PReLU):
    """``nn.PReLU`` computed as ``relu(x) - a * relu(-x)``.

    Same function, parameter name and shape as ``nn.PReLU`` (model files are unchanged),
    but forward + backward on CPU takes ~1/3 of the time of torch 2.x's fused prelu
    kernel, whose gradient for the slope is a slow reduction (bench: 4x128x499 input,
    2 threads, 240 us vs 780 us).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if use_reference():
            return F.prelu(x, self.weight)
        slope = self.weight
        if slope.numel() > 1:
            slope = slope.view(1, -1, *([1] * (x.dim() - 2)))
        return F.relu(x) - slope * F.relu(-x)
