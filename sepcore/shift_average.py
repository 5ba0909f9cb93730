"""Test-time shift averaging: the mean of a model's estimates of its input delayed within
one frame hop (``--shifts`` of sepcore-separate and steps/separate.sh)."""

from __future__ import annotations

import torch

from sepcore.errors import ConfigError
from sepcore.inference import ModelWrapper, best_permutation


def shift_offsets(shifts: int, stride: int) -> list[int]:
    """The ``shifts`` delays of :class:`ShiftAveraged`, spread evenly over one ``stride``.

    Raises ConfigError when ``shifts`` is not in ``[1, stride]``: a delay of a whole hop
    moves the input by one frame exactly, which a strided model mostly repeats.
    """
    if isinstance(shifts, bool) or not isinstance(shifts, int) or shifts < 1:
        raise ConfigError(f"--shifts: expected a whole number >= 1, got {shifts!r}")
    if shifts > max(stride, 1):
        raise ConfigError(f"--shifts {shifts}: this model's frames are {stride} sample(s) "
                          f"apart, so at most {max(stride, 1)} different shifts (1: off)")
    return [k * stride // shifts for k in range(shifts)]


class ShiftAveraged(ModelWrapper):
    """The average of a model's estimates of its input delayed by fractions of a frame.

    A model with a strided encoder (ConvTasNet's hop ``L/2``) frames its input at fixed
    positions; delaying the input by ``d`` samples (zeros in front, ``0 <= d < stride``)
    frames it elsewhere and gives slightly different estimates, whose errors partly
    cancel in the mean. The test-time "shift trick" of Demucs (Défossez et al. 2019,
    "Music Source Separation in the Waveform Domain", arXiv:1911.13254), with the
    delays spread evenly over one hop (:func:`shift_offsets`) instead of drawn at random,
    so that the output is the same at every run. It costs ``shifts`` forward passes.

    Args:
        model (nn.Module): the separation model (``[B(, C), T]`` → ``[B, S(, C), T]``).
        shifts (int): number of delays (1: the model alone).
        align (bool): reorder each delayed estimate's sources to best match the sum of
            those before it, so all follow the undelayed one's order (models trained with
            PIT, whose source order is arbitrary); False for models with a fixed source
            order (music stems).
    """

    def __init__(self, model: torch.nn.Module, shifts: int, align: bool = True):
        super().__init__(model)
        self.offsets = shift_offsets(shifts, int(self.stride or 1))
        self.align = align
        self.num_sources = getattr(model, "num_sources", 1)  # separate_chunked's default
        self.extra_context = self.offsets[-1]

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        length = mixture.shape[-1]
        total = None
        for d in self.offsets:
            y = self.model(torch.nn.functional.pad(mixture, (d, 0)))[..., d:d + length].float()
            if total is None:
                total = y.clone()
                continue
            if self.align and y.shape[1] > 1:
                ref, cur = total.cpu().numpy(), y.cpu().numpy()
                for b in range(y.shape[0]):
                    perm = best_permutation(ref[b].reshape(y.shape[1], -1),
                                            cur[b].reshape(y.shape[1], -1))
                    y[b] = y[b, torch.as_tensor(perm, device=y.device)]
            total += y
        return total / len(self.offsets)
