"""The per-model streaming interface and the registry that finds a model's implementation.

A streaming implementation wraps one trained causal model and runs it block by block:

- ``init_state()`` returns a fresh state (everything the model carries from one block
  to the next: buffered input, convolution histories, norm statistics, RNN hidden
  state, overlap-add tails);
- ``step(block, state) -> (out, state)`` takes the next ``[time]`` float32 samples of
  the mixture, of any length (0 included), and returns ``[sources, m]``: the output
  samples that the input so far determines completely (``m`` varies from block to
  block; the total lags the input by at most ``window - 1`` samples);
- ``flush(state) -> out`` ends the stream: it pads the input with zeros exactly as
  the model's offline forward pads an input of that length and returns the rest, so
  the concatenated outputs have the input's length and equal the offline output.

``window`` is the model's look-ahead in samples (the encoder or STFT window): the
algorithmic latency of a stream is ``window`` plus the block length.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sepcore.errors import ConfigError

State = dict


class NotCausalError(ConfigError):
    """The model looks at future input, so it cannot run as a stream."""


class StreamingModel:
    """Base class of the per-model streaming implementations (see the module doc)."""

    num_sources: int
    window: int

    def __init__(self, model: nn.Module):
        self.model = model.eval()

    def init_state(self) -> State:
        raise NotImplementedError

    def step(self, block: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        raise NotImplementedError

    def flush(self, state: State) -> torch.Tensor:
        raise NotImplementedError


# model class → its streaming implementation; filled by the modules that define them
STREAMERS: dict[type, type[StreamingModel]] = {}

# why the models that cannot stream cannot (by class name)
NOT_STREAMABLE = {
    "DPRNN": "its intra-chunk RNN is a BLSTM (it reads every chunk backwards too) and its "
             "inter-chunk RNN spans the whole input; train a causal model (e.g. convtasnet "
             "with causal: true) to stream",
    "SuDORMRF": "its norms (gLN) and centred depthwise convs look at future frames; train a "
                "causal model (e.g. convtasnet with causal: true) to stream",
}


def register(model_cls: type):
    def wrap(cls: type[StreamingModel]) -> type[StreamingModel]:
        STREAMERS[model_cls] = cls
        return cls
    return wrap


def streamer_for(model: nn.Module, name: str | None = None) -> StreamingModel:
    """The streaming implementation of ``model``; NotCausalError if it cannot stream.

    ``name`` (e.g. the model file's path) is used in the error message.
    """
    label = f"{name} ({type(model).__name__})" if name else type(model).__name__
    for cls in type(model).__mro__:
        if cls in STREAMERS:
            return STREAMERS[cls](model, label)
    reason = NOT_STREAMABLE.get(type(model).__name__)
    raise NotCausalError(
        f"{label}: cannot run as a stream: "
        + (reason or "no streaming implementation for this model (see sepcore/streaming/)")
    )


def prelu(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``sepcore.nn.PReLU`` on ``[channels, frames]`` (forward only: torch's fused kernel)."""
    if weight.numel() == 1:
        return F.prelu(x, weight)
    return F.prelu(x.unsqueeze(0), weight).squeeze(0)


class CumulativeNormStep:
    """cLN over ``[channels, frames]`` blocks with the running sums carried between blocks.

    The offline norm accumulates its cumulative sums in float64 (torch's CPU cumsum
    does) and rounds each to float32; carrying the float64 totals gives the same
    statistics for a frame whatever block it arrives in.
    """

    def __init__(self, norm: nn.Module):
        self.gamma = norm.gamma.detach().reshape(-1, 1)
        self.beta = norm.beta.detach().reshape(-1, 1)
        self.eps = norm.eps
        self.channels = self.gamma.shape[0]

    def init_state(self) -> list:
        return [0.0, 0.0, 0]  # running sum, running sum of squares (float64), frames

    def __call__(self, x: torch.Tensor, st: list) -> torch.Tensor:
        frames = x.shape[1]
        if frames == 1:
            return self._one(x, st)
        if frames <= 3:  # fewer operations than the vectorised form below
            return torch.cat([self._one(x[:, i:i + 1], st) for i in range(frames)], 1)
        sums = torch.stack((x.sum(0), x.pow(2).sum(0)))  # [2, frames]
        cum = torch.cumsum(sums, 1, dtype=torch.float64)
        cum += torch.tensor([[st[0]], [st[1]]], dtype=torch.float64)
        st[0], st[1] = cum[:, -1].tolist()
        count = torch.arange(st[2] + 1, st[2] + frames + 1, dtype=x.dtype).mul_(self.channels)
        st[2] += frames
        stats = cum.to(x.dtype).div_(count)
        mean = stats[0]
        var = (stats[1] - mean.pow(2)).clamp_min_(0.0)
        return self.gamma * (x - mean) / torch.sqrt(var + self.eps) + self.beta

    def _one(self, x: torch.Tensor, st: list) -> torch.Tensor:
        """One frame (the common case of short blocks): the statistics as scalars.

        They are computed in float32 like the offline norm's (numpy scalars), and the
        frame is normalised by one fused ``addcmul`` instead of four tensor operations:
        most of a short block's time is per-operation overhead, not arithmetic.
        """
        f32 = np.float32
        v = x.view(-1)
        s, q = torch.stack((v.sum(), torch.dot(v, v))).tolist()
        st[0] += s
        st[1] += q
        st[2] += 1
        count = f32(st[2] * self.channels)
        mean = f32(st[0]) / count
        var = max(f32(st[1]) / count - mean * mean, f32(0.0))
        rstd = f32(1.0) / np.sqrt(var + f32(self.eps))
        scale = self.gamma * float(rstd)
        return torch.addcmul(torch.add(self.beta, scale, alpha=-float(mean)), x, scale)


class FrameNormStep:
    """A norm that looks at one frame at a time (chanLN): applied to each block as is."""

    def __init__(self, norm: nn.Module):
        self.norm = norm

    def init_state(self) -> None:
        return None

    def __call__(self, x: torch.Tensor, st) -> torch.Tensor:
        return self.norm(x.unsqueeze(0)).squeeze(0)
