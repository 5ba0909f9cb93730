"""The causal CRN enhancement model as a stream (sepcore/models/crn.py, ``causal: true``).

State carried from block to block:

- the STFT's input buffer (sepcore/streaming/stft.py): the samples from the next
  frame's start on;
- per encoder convolution, its last ``kernel_time - 1`` input frames (the offline
  model's left zero padding along time is the initial history);
- the GRU/LSTM hidden (and cell) state;
- the inverse STFT's overlap-add tails of the signal and of the window envelope.

Everything else (BatchNorm in eval mode, the decoder's one-frame-wide transposed
convolutions, the masks) acts on each frame on its own. Each step runs the model's own
layers on the frames its block completes.
"""

from __future__ import annotations

import torch

from sepcore.models.crn import CRN, _fit_bins
from sepcore.streaming.base import NotCausalError, State, StreamingModel, register
from sepcore.streaming.stft import StreamingISTFT, StreamingSTFT


@register(CRN)
class CRNStreamer(StreamingModel):
    """Streams a causal CRN; refuses ``causal: false`` (a bidirectional RNN)."""

    def __init__(self, model: CRN, label: str = "CRN"):
        if not model.causal:
            raise NotCausalError(
                f"{label}: cannot run as a stream: it is not causal: its RNN is bidirectional "
                f"(causal: false), so every frame depends on the last one. Train it with "
                f"model.causal: true")
        super().__init__(model)
        self.num_sources, self.window = model.num_sources, model.n_fft
        window = model.stft.window.detach().float()
        self.stft = StreamingSTFT(model.n_fft, model.hop, window)
        self.istft = StreamingISTFT(model.n_fft, model.hop, window)
        self.history = model.kernel_time - 1
        # the input shape of every encoder layer, for its zero history
        shapes, ch = [], 3 if model.mask == "complex" else 1
        for layer, bins in zip(model.encoder, model.bins):
            shapes.append((1, ch, bins, self.history))
            ch = layer[0].out_channels
        self.shapes = shapes

    def init_state(self) -> State:
        return {
            "stft": self.stft.init_state(),
            "enc": [torch.zeros(s) for s in self.shapes],
            "rnn": None,  # zeros, as offline
            "istft": self.istft.init_state((self.num_sources,)),
        }

    def _frames(self, X: torch.Tensor, st: State) -> torch.Tensor:
        """Complex ``[bins, frames]`` → the output samples now final, ``[sources, m]``."""
        m = self.model
        X = X.unsqueeze(0)
        h, encoded = m.features(X), []
        for i, layer in enumerate(m.encoder):
            h = torch.cat((st["enc"][i], h), dim=3)
            st["enc"][i] = h[..., h.shape[3] - self.history:]
            h = layer(h)
            encoded.append(h)
        _, C, Fb, T = h.shape
        r, st["rnn"] = m.rnn(h.permute(0, 3, 1, 2).reshape(1, T, C * Fb), st["rnn"])
        h = m.rnn_out(r).reshape(1, T, C, Fb).permute(0, 2, 3, 1)
        for i, (layer, skip) in enumerate(zip(m.decoder, reversed(encoded))):
            h = _fit_bins(layer(torch.cat((h, skip), dim=1)), m.bins[-2 - i])
        masks = h.reshape(1, self.num_sources, m.out_per_source, h.shape[2], T)
        return self.istft.step(m.apply_masks(X, masks)[0], st["istft"])

    def step(self, block: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        X = self.stft.step(block.reshape(-1).to(torch.float32), state["stft"])
        if X is None:
            return torch.zeros(self.num_sources, 0), state
        return self._frames(X, state), state

    def flush(self, state: State) -> torch.Tensor:
        if state["stft"]["seen"] == 0:
            return torch.zeros(self.num_sources, 0)
        X = self.stft.flush(state["stft"])
        parts = [] if X is None else [self._frames(X, state)]
        parts.append(self.istft.flush(state["istft"], state["stft"]["seen"]))
        return torch.cat(parts, 1)
