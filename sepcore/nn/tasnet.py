"""The encoder → masks → decoder frame shared by TasNet-style models (ConvTasNet, DPRNN).

A 1-D conv encoder (window ``L``, hop ``stride``) turns the waveform into ``N``
channels; the model's separator estimates one mask per source; each masked
representation is decoded by a transposed conv back to a waveform of the input's
length.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from sepcore.errors import ConfigError
from sepcore.nn.conv import overlap_add_decode

MASK_NONLINEARITIES = ("sigmoid", "relu", "softmax", "tanh", "linear")


def check_mask_nonlinearity(name: str) -> None:
    if name not in MASK_NONLINEARITIES:
        raise ConfigError(
            f"unknown mask_nonlinear {name!r}; expected one of {', '.join(MASK_NONLINEARITIES)}"
        )


def mask_nonlinearity(y: torch.Tensor, name: str, dim: int = 1) -> torch.Tensor:
    """Masks from ``[batch, sources, N, frames]`` logits; softmax is across sources (``dim``)."""
    if name == "sigmoid":
        return torch.sigmoid(y)
    if name == "relu":
        return F.relu(y)
    if name == "softmax":
        return torch.softmax(y, dim=dim)
    if name == "tanh":
        return torch.tanh(y)
    return y


def encode_mask_decode(
    mixture: torch.Tensor,
    encoder: nn.Conv1d,
    decoder: nn.ConvTranspose1d,
    masks: Callable[[torch.Tensor], torch.Tensor],
    num_sources: int,
    encoder_relu: bool = True,
) -> torch.Tensor:
    """``[batch, time]`` (or ``[time]``) → ``[batch, sources, time]`` of the same length.

    The input is zero-padded at the end to a whole number of frames; ``masks`` maps
    the encoded ``[batch, N, frames]`` to ``[batch, sources, N, frames]``.
    """
    squeeze = mixture.dim() == 1
    if squeeze:
        mixture = mixture.unsqueeze(0)
    window, stride = encoder.kernel_size[0], encoder.stride[0]
    length = mixture.shape[-1]
    frames = max(1, -(-(length - window) // stride) + 1)
    padded = (frames - 1) * stride + window
    w = encoder(F.pad(mixture, (0, padded - length)).unsqueeze(1))  # [B, N, frames]
    if encoder_relu:
        w = F.relu(w)
    masked = w.unsqueeze(1) * masks(w)  # [B, S, N, frames]
    out = overlap_add_decode(masked.reshape(-1, w.shape[1], frames), decoder)
    out = out.view(mixture.shape[0], num_sources, -1)[..., :length]
    return out[0] if squeeze else out
