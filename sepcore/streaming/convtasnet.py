"""Causal ConvTasNet as a stream (sepcore/models/convtasnet.py, ``causal: true``).

State carried from block to block:

- the input samples not yet covering a whole encoder frame (fewer than ``L`` + hop);
- per cLN, the float64 running sums of the values and of their squares, and the frame
  count (the offline cLN's statistics at each frame, exactly);
- per dilated depthwise conv, its history: the last ``(P - 1) * dilation`` frames of
  its input, exactly what the next frame's taps reach back to (the offline conv's
  left zero padding is the initial history);
- the decoder's overlap: the last ``L - hop`` samples of the overlap-added frames,
  which the next frame still adds to.

An encoder frame is computed as soon as its ``L`` input samples are there; an output
sample is final once the last frame that covers it is decoded. Each step works on
all the frames its block completes at once (matrix products over frames), in 2-D
``[channels, frames]`` tensors, with the 1x1 convolutions as ``addmm``, the dilated
taps as one ``baddbmm`` and the skip convolutions of all blocks (summed, offline) as
one product over their stacked inputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sepcore.models.convtasnet import ConvTasNet
from sepcore.nn.norm import ChannelLayerNorm, CumulativeLayerNorm, GlobalLayerNorm
from sepcore.nn.tasnet import mask_nonlinearity
from sepcore.streaming.base import (
    CumulativeNormStep,
    FrameNormStep,
    NotCausalError,
    State,
    StreamingModel,
    prelu,
    register,
)


def norm_step(norm):
    if isinstance(norm, CumulativeLayerNorm):
        return CumulativeNormStep(norm)
    if isinstance(norm, ChannelLayerNorm):
        return FrameNormStep(norm)
    raise TypeError(type(norm).__name__)  # refused earlier by check_causal


def check_causal(model: ConvTasNet, label: str) -> None:
    reasons = []
    if not model.causal:
        reasons.append("its TCN pads on both sides, so every frame sees later frames "
                       "(causal: false)")
    norms = [model.in_norm] + [n for b in model.blocks for n in (b.norm1, b.norm2)]
    if any(isinstance(n, GlobalLayerNorm) for n in norms):
        reasons.append("gLN normalises every frame with statistics of the whole input, "
                       "later frames included (use cLN)")
    other = {type(n).__name__ for n in norms
             if not isinstance(n, (CumulativeLayerNorm, ChannelLayerNorm, GlobalLayerNorm))}
    if other:
        reasons.append(f"norm {', '.join(sorted(other))} has no streaming form (use cLN)")
    if reasons:
        raise NotCausalError(f"{label}: cannot run as a stream: it is not causal: "
                             + "; ".join(reasons)
                             + ". Train it with model.causal: true and norm: cLN")


def w2(conv) -> torch.Tensor:
    """A 1x1 conv's weight as a matrix."""
    return conv.weight.detach().reshape(conv.weight.shape[0], -1)


def b2(conv) -> torch.Tensor:
    return conv.bias.detach().reshape(-1, 1)


class _Block:
    """One TCN block's weights in the shapes the streamed step uses."""

    def __init__(self, block):
        self.in_w, self.in_b = w2(block.in_conv), b2(block.in_conv)
        self.a1 = block.act1.weight.detach()
        self.a2 = block.act2.weight.detach()
        self.norm1, self.norm2 = norm_step(block.norm1), norm_step(block.norm2)
        d = block.dconv
        self.taps, self.dilation = d.kernel_size[0], d.dilation[0]
        self.pad = (self.taps - 1) * self.dilation
        self.channels = d.weight.shape[0]
        self.dw = d.weight.detach().reshape(self.channels, self.taps, 1)
        self.db = d.bias.detach().reshape(self.channels, 1, 1)
        res = block.res_conv
        self.res_w, self.res_b = (w2(res), b2(res)) if res is not None else (None, None)

    def init_state(self) -> list:
        return [self.norm1.init_state(), self.norm2.init_state(),
                torch.zeros(self.channels, self.pad)]

    def __call__(self, x: torch.Tensor, st: list):
        y = self.norm1(prelu(torch.addmm(self.in_b, self.in_w, x), self.a1), st[0])
        # the depthwise conv's input: its history, then this block's frames
        h = torch.cat((st[2], y), 1)
        st[2] = h[:, h.shape[1] - self.pad:]
        # every output frame's taps: [H, frames, P] (a view), times the kernel [H, P, 1]
        taps = h.unfold(1, self.pad + 1, 1)[:, :, ::self.dilation]
        z = torch.baddbmm(self.db, taps, self.dw).view(self.channels, -1)
        z = self.norm2(prelu(z, self.a2), st[1])
        if self.res_w is not None:
            x = torch.addmm(self.res_b, self.res_w, z).add_(x)
        return x, z  # the skip convs of all blocks are one product, in the streamer


@register(ConvTasNet)
class ConvTasNetStreamer(StreamingModel):
    """Streams a causal ConvTasNet (cLN or chanLN); refuses gLN or non-causal padding."""

    def __init__(self, model: ConvTasNet, label: str = "ConvTasNet"):
        check_causal(model, label)
        super().__init__(model)
        self.num_sources, self.N = model.num_sources, model.N
        self.window, self.hop = model.L, model.stride
        self.enc_w = model.encoder.weight.detach().reshape(model.N, model.L)  # [N, L]
        self.in_norm = norm_step(model.in_norm)
        self.bn_w = model.bottleneck.weight.detach().reshape(model.bottleneck.out_channels, -1)
        self.bn_b = model.bottleneck.bias.detach().reshape(-1, 1)
        self.blocks = [_Block(b) for b in model.blocks]
        self.use_skip = model.use_skip
        if self.use_skip:  # sum of every block's skip conv = one product over their outputs
            self.skip_w = torch.cat([w2(b.skip_conv) for b in model.blocks], 1)
            self.skip_b = sum(b2(b.skip_conv) for b in model.blocks)
        self.mask_a = model.mask_act.weight.detach()
        self.mask_w = model.mask_conv.weight.detach().reshape(model.mask_conv.out_channels, -1)
        self.mask_b = model.mask_conv.bias.detach().reshape(-1, 1)
        self.mask_nonlinear = model.mask_nonlinear
        # [L, N]; the decoder has no bias
        self.dec_w = model.decoder.weight.detach().reshape(model.N, model.L).t().contiguous()

    def init_state(self) -> State:
        return {
            "pending": torch.zeros(0),                 # input not yet in a whole frame
            "seen": 0,                                 # input samples so far
            "emitted": 0,                              # output samples so far
            "frames": 0,                               # encoder frames so far
            "in_norm": self.in_norm.init_state(),
            "blocks": [b.init_state() for b in self.blocks],
            "tail": torch.zeros(self.num_sources, self.window - self.hop),  # decoder overlap
        }

    def _frames(self, x: torch.Tensor, count: int, st: State) -> torch.Tensor:
        """Decode ``count`` frames from the start of ``x``; returns their final samples."""
        L, s = self.window, self.hop
        frames = x[:(count - 1) * s + L].unfold(0, L, s).t()  # [L, count]
        w = torch.relu(self.enc_w @ frames)  # [N, count]
        x = torch.addmm(self.bn_b, self.bn_w, self.in_norm(w, st["in_norm"]))
        outs = []
        for block, bst in zip(self.blocks, st["blocks"]):
            x, z = block(x, bst)
            outs.append(z)
        if self.use_skip:
            x = torch.addmm(self.skip_b, self.skip_w, torch.cat(outs))
        y = torch.addmm(self.mask_b, self.mask_w, prelu(x, self.mask_a))
        m = mask_nonlinearity(y.view(1, self.num_sources, self.N, count), self.mask_nonlinear)
        segs = torch.matmul(self.dec_w, m[0] * w)  # [S, L, count]
        length = (count - 1) * s + L
        out = F.fold(segs, (1, length), (1, L), stride=(1, s)).view(self.num_sources, length)
        out[:, :L - s] += st["tail"]
        st["tail"] = out[:, count * s:]
        st["frames"] += count
        return out[:, :count * s]

    def step(self, block: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        block = block.reshape(-1).to(torch.float32)
        state["seen"] += block.shape[0]
        # a copy: the caller may reuse its block's memory for the next one
        x = torch.cat((state["pending"], block))
        count = (x.shape[0] - self.window) // self.hop + 1 if x.shape[0] >= self.window else 0
        if count == 0:
            state["pending"] = x
            return torch.zeros(self.num_sources, 0), state
        out = self._frames(x, count, state)
        state["pending"] = x[count * self.hop:]
        state["emitted"] += out.shape[1]
        return out, state

    def flush(self, state: State) -> torch.Tensor:
        L, s, n = self.window, self.hop, state["seen"]
        if n == 0:
            return torch.zeros(self.num_sources, 0)
        # the offline forward zero-pads the input to a whole number of frames
        total = max(1, -(-(n - L) // s) + 1)
        count = total - state["frames"]
        parts = []
        if count > 0:
            x = F.pad(state["pending"], (0, (count - 1) * s + L - state["pending"].shape[0]))
            parts.append(self._frames(x, count, state))
        parts.append(state["tail"])
        out = torch.cat(parts, 1)[:, :n - state["emitted"]]
        state["emitted"] += out.shape[1]
        return out
