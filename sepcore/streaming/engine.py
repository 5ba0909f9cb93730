"""The streaming engine: feeds blocks to a model's streaming implementation and times them."""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from sepcore.errors import ConfigError
from sepcore.streaming.base import streamer_for


class Stream:
    """One stream through a causal model: ``process`` blocks, then ``finish``.

    ``model`` is an ``nn.Module`` or a loaded ``sepcore.api.SeparationModel``. The
    per-block compute times (seconds) are kept in ``block_seconds`` and the block
    lengths (samples) in ``block_samples``; ``reset`` starts a new, independent stream.
    """

    def __init__(self, model, name: str | None = None):
        if not isinstance(model, nn.Module) and isinstance(getattr(model, "model", None),
                                                           nn.Module):
            name = name or getattr(model, "path", None)
            model = model.model
        self.impl = streamer_for(model, name)
        self.num_sources = self.impl.num_sources
        self.window = self.impl.window
        self.reset()

    def reset(self) -> None:
        self.state = self.impl.init_state()
        self.block_seconds: list[float] = []
        self.block_samples: list[int] = []

    def process(self, block: np.ndarray | torch.Tensor) -> torch.Tensor:
        """The next ``[time]`` float32 samples → ``[sources, m]`` output samples now final."""
        x = torch.as_tensor(block, dtype=torch.float32)
        if x.dim() != 1:
            raise ConfigError(f"a stream takes mono blocks of shape [time], got {tuple(x.shape)}")
        t0 = time.perf_counter()
        with torch.inference_mode():
            out, self.state = self.impl.step(x, self.state)
        self.block_seconds.append(time.perf_counter() - t0)
        self.block_samples.append(int(x.shape[0]))
        return out

    def finish(self) -> torch.Tensor:
        """End of input: the remaining output samples (the input's length in all)."""
        with torch.inference_mode():
            return self.impl.flush(self.state)

    def real_time_factor(self, sample_rate: int) -> float:
        audio = sum(self.block_samples) / sample_rate
        return sum(self.block_seconds) / audio if audio else 0.0

    def late_blocks(self, sample_rate: int) -> int:
        """Blocks whose compute took longer than their duration."""
        return sum(t > n / sample_rate for t, n in zip(self.block_seconds, self.block_samples))


def block_lengths(total: int, sizes: int | Iterable[int]) -> list[int]:
    """Cut ``total`` samples into blocks of ``sizes`` (one size, or a cycle of sizes)."""
    sizes = [sizes] if isinstance(sizes, int) else list(sizes)
    if not sizes or any(s < 1 for s in sizes):
        raise ConfigError(f"block sizes must be >= 1 sample, got {sizes}")
    out, i, done = [], 0, 0
    while done < total:
        n = min(sizes[i % len(sizes)], total - done)
        out.append(n)
        done += n
        i += 1
    return out


def stream_array(model, x: np.ndarray | torch.Tensor, sizes: int | Iterable[int],
                 stream: Stream | None = None) -> torch.Tensor:
    """Stream the whole ``[time]`` signal ``x`` in blocks of ``sizes``; ``[sources, time]``."""
    stream = stream or Stream(model)
    x = torch.as_tensor(x, dtype=torch.float32)
    outs, start = [], 0
    for n in block_lengths(x.shape[0], sizes):
        outs.append(stream.process(x[start:start + n]))
        start += n
    outs.append(stream.finish())
    return torch.cat(outs, 1)
