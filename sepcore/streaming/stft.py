"""sepcore.spectral's STFT and inverse STFT, computed frame by frame as the input arrives.

The STFT's frames are centred with zero padding (frame ``f`` covers samples
``[f*hop - n_fft/2, f*hop + n_fft/2)``; a ``T``-sample signal has ``1 + T // hop``
frames) and a periodic Hann window; the inverse overlap-adds ``irfft(Y) * w`` and
divides by the overlap-added ``w**2``, as ``torch.istft`` does.

Streamed: :class:`StreamingSTFT` keeps the input samples of the next frame's start
onwards (at first the ``n_fft / 2`` zeros of the left padding) and emits a frame as
soon as its last sample is there; :class:`StreamingISTFT` keeps the overlap-add tail of
the signal and of the window envelope (the last ``n_fft - hop`` samples, which later
frames still add to) and emits the samples no later frame touches. An output sample
is final once the input is ``n_fft - 1`` samples past it at most: the STFT window is
the algorithmic latency. ``flush`` pads the end as the offline transform does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class StreamingSTFT:
    def __init__(self, n_fft: int, hop: int, window: torch.Tensor):
        self.n_fft, self.hop, self.window = n_fft, hop, window

    def init_state(self) -> dict:
        return {"buf": torch.zeros(self.n_fft // 2), "frames": 0, "seen": 0}

    def _frames(self, x: torch.Tensor, count: int) -> torch.Tensor:
        frames = x[:(count - 1) * self.hop + self.n_fft].unfold(0, self.n_fft, self.hop)
        return torch.fft.rfft(frames * self.window, dim=-1).t()  # [bins, count]

    def step(self, block: torch.Tensor, st: dict) -> torch.Tensor | None:
        """``[time]`` → the ``[bins, frames]`` now complete (None if no frame is)."""
        st["seen"] += block.shape[0]
        x = torch.cat((st["buf"], block))  # a copy: the caller may reuse the block's memory
        count = (x.shape[0] - self.n_fft) // self.hop + 1 if x.shape[0] >= self.n_fft else 0
        st["buf"] = x[count * self.hop:]
        if count == 0:
            return None
        st["frames"] += count
        return self._frames(x, count)

    def flush(self, st: dict) -> torch.Tensor | None:
        """The frames of the end, over the right zero padding."""
        count = 1 + st["seen"] // self.hop - st["frames"]
        if count <= 0:
            return None
        buf = st["buf"]
        x = F.pad(buf, (0, max(0, (count - 1) * self.hop + self.n_fft - buf.shape[0])))
        st["frames"] += count
        return self._frames(x, count)


class StreamingISTFT:
    def __init__(self, n_fft: int, hop: int, window: torch.Tensor):
        self.n_fft, self.hop, self.window = n_fft, hop, window
        self._env: dict[int, torch.Tensor] = {}  # frames → overlap-added w**2

    def init_state(self, lead: tuple[int, ...] = ()) -> dict:
        overlap = self.n_fft - self.hop
        return {"tail": torch.zeros(lead + (overlap,)), "env": torch.zeros(overlap),
                "skip": self.n_fft // 2, "emitted": 0}

    def _envelope(self, count: int) -> torch.Tensor:
        if count not in self._env:
            w2 = (self.window * self.window).reshape(1, self.n_fft, 1).expand(1, self.n_fft, count)
            length = (count - 1) * self.hop + self.n_fft
            self._env[count] = F.fold(w2, (1, length), (1, self.n_fft),
                                      stride=(1, self.hop)).reshape(length)
        return self._env[count]

    def _emit(self, out: torch.Tensor, env: torch.Tensor, st: dict) -> torch.Tensor:
        y = out / env
        skip = min(st["skip"], y.shape[-1])
        st["skip"] -= skip
        y = y[..., skip:]
        st["emitted"] += y.shape[-1]
        return y

    def step(self, Y: torch.Tensor, st: dict) -> torch.Tensor:
        """Complex ``[..., bins, frames]`` → the ``[..., samples]`` now final."""
        lead, count = Y.shape[:-2], Y.shape[-1]
        frames = torch.fft.irfft(Y.transpose(-1, -2), n=self.n_fft, dim=-1) * self.window
        length = (count - 1) * self.hop + self.n_fft
        out = F.fold(frames.reshape(-1, count, self.n_fft).transpose(1, 2), (1, length),
                     (1, self.n_fft), stride=(1, self.hop)).reshape(lead + (length,))
        overlap, done = self.n_fft - self.hop, count * self.hop
        out[..., :overlap] += st["tail"]
        env = self._envelope(count).clone()
        env[:overlap] += st["env"]
        st["tail"], st["env"] = out[..., done:], env[done:]
        return self._emit(out[..., :done], env[:done], st)

    def flush(self, st: dict, length: int) -> torch.Tensor:
        """The rest of an output of ``length`` samples (the tail after the last frame)."""
        need = max(0, length - st["emitted"])
        y = self._emit(st["tail"], st["env"].clamp_min(1e-11), st)
        return y[..., :need]
