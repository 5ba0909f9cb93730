"""Conv-TasNet's separation at inference, in time tiles that stay in the CPU's cache.

At training the TCN runs layer by layer over the whole batch (sepcore/nn/channels_last.py),
so every activation ``[frames, H]`` goes to memory and back several times: for a 10 s
mixture a 20 MB tensor per pass, which the 1x1 products and the elementwise passes all
wait on (float32, 2 threads: ~45 % of the matmul peak). Without gradients nothing needs
to be kept, and only the global layer norm (gLN) needs a whole-utterance view: its mean
and variance. So each block runs as two sweeps over tiles of ``tile`` frames:

1. the depthwise conv of the block's (already activated) input ``h``, the norm's affine
   transform and its statistics folded into the taps, PReLU, and the statistics of the
   result ``y`` for the next norm;
2. the residual + skip products of ``y`` with the second norm folded into their weights,
   the residual update, and straight away the next block's 1x1 conv + PReLU on the same
   tile, with the statistics for its norm.

Each tile's intermediate results are used while they are in cache; only ``h`` and ``y``
are written to memory, once each. The 1x1 products run through oneDNN
(sepcore/nn/onednn.py). The function is the same as the model's forward
(tests/test_tiled_tcn.py compares them in float64); in float32 the results differ by
rounding.

Used by :class:`sepcore.models.convtasnet.ConvTasNet` on the CPU whenever gradients are
off (the separation path, validation) and the model is in the supported shape: gLN norms,
PReLUs with one slope, a 2x-overlap decoder (:func:`applies`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sepcore.nn import channels_last as cl
from sepcore.nn import onednn
from sepcore.nn.norm import GlobalLayerNorm
from sepcore.nn.tasnet import mask_nonlinearity

# frames: 4 MB of H=512 float32 activations, well inside the L3 cache (1024-4096 frames
# ran within 3 % of each other on a 2-core Zen 5 with 32 MB of L3; 512 was 10 % slower)
TILE = 2048


def applies(model: nn.Module, mixture: torch.Tensor) -> bool:
    """Whether to run ``model(mixture)`` through :func:`separate`: without gradients, on
    the CPU (a GPU runs whole tensors faster than many small tiles), in float32 or float64
    (bfloat16 autocast keeps the whole-tensor path), for a supported model."""
    return (not torch.is_grad_enabled() and mixture.device.type == "cpu"
            and not torch.is_autocast_enabled("cpu") and supported(model))


def supported(model: nn.Module) -> bool:
    """Whether :func:`separate` computes ``model``'s forward (a ConvTasNet)."""
    if model.causal or model.encoder.in_channels != 1:
        return False
    norms = [model.in_norm] + [n for b in model.blocks for n in (b.norm1, b.norm2)]
    acts = [model.mask_act] + [a for b in model.blocks for a in (b.act1, b.act2)]
    decoder = model.decoder
    return (all(type(n) is GlobalLayerNorm for n in norms)
            and all(a.weight.numel() == 1 for a in acts)
            and decoder.weight.shape[1] == 1 and decoder.weight.shape[2] == 2 * decoder.stride[0]
            and not decoder.padding[0] and not decoder.output_padding[0]
            and decoder.dilation[0] == 1 and decoder.groups == 1)


class _Stats:
    """Mean and variance of one norm's input, tile by tile.

    Each tile gives its mean and its sum of squared deviations from that mean, combined in
    float64 (Chan, Golub & LeVeque 1979): E[x²] - E[x]² in float32 would lose the variance
    of activations whose mean is large against their spread.
    """

    def __init__(self):
        self.counts, self.means, self.squares = [], [], []

    def add(self, x: torch.Tensor) -> None:
        flat = x.reshape(-1)
        mean = flat.sum() / flat.numel()
        self.counts.append(flat.numel())
        self.means.append(mean)
        # torch's sum adds pairwise; BLAS's dot lost 1e-4 of a 1M-element sum of squares
        self.squares.append((flat - mean).pow_(2).sum())

    def fold(self, norm: GlobalLayerNorm) -> tuple[torch.Tensor, torch.Tensor]:
        """gLN(x) = gain * x + shift, per channel, from the statistics seen."""
        counts = torch.tensor(self.counts, dtype=torch.float64)
        means = torch.stack(self.means).double()
        total = counts.sum()
        mean = (counts * means).sum() / total
        var = (torch.stack(self.squares).double().sum()
               + (counts * (means - mean) ** 2).sum()) / total
        mean, inv = mean.item(), 1.0 / math.sqrt(var.item() + norm.eps)
        gamma, beta = norm.gamma.view(-1), norm.beta.view(-1)
        return gamma * inv, beta - gamma * (mean * inv)


def _tiles(frames: int, tile: int) -> list[tuple[int, int]]:
    return [(s, min(s + tile, frames)) for s in range(0, frames, tile)]


def _slope(act: nn.PReLU) -> float:
    return float(act.weight)


def separate(model: nn.Module, mixture: torch.Tensor, tile: int = TILE) -> torch.Tensor:
    """``model(mixture)`` (``[batch, time]`` or ``[time]``), without autograd."""
    squeeze = mixture.dim() == 1
    if squeeze:
        mixture = mixture.unsqueeze(0)
    length = mixture.shape[-1]
    window, stride = model.encoder.kernel_size[0], model.encoder.stride[0]
    frames = max(1, -(-(length - window) // stride) + 1)
    encoded = cl.encode(mixture, model.encoder, frames)  # [B, T, N]
    if model.encoder_relu:
        encoded = F.relu(encoded)
    decoded = torch.stack([_decode_frames(model, w, tile) for w in encoded])  # [B, T, S, L]
    out = cl.overlap_add(decoded, model.decoder)[..., :length]
    return out[0] if squeeze else out


def _decode_frames(model: nn.Module, w: torch.Tensor, tile: int) -> torch.Tensor:
    """One utterance's encoded ``[T, N]`` → its decoded frames ``[T, S, L]``."""
    frames = w.shape[0]
    tiles = _tiles(frames, tile)
    blocks = model.blocks
    first = blocks[0]
    bn, hid = first.in_conv.in_channels, first.in_conv.out_channels
    x = w.new_empty(frames, bn)
    h, y = w.new_empty(frames, hid), w.new_empty(frames, hid)
    skip = None

    stats = _Stats()
    for s, e in tiles:
        stats.add(w[s:e])
    weight, bias = cl.fold(model.bottleneck.weight.view(bn, -1), model.bottleneck.bias,
                           *stats.fold(model.in_norm))
    stats = _Stats()
    for s, e in tiles:
        x[s:e] = onednn.linear(w[s:e], weight, bias)
        _in_conv(first, x[s:e], h[s:e], stats)

    for i, block in enumerate(blocks):
        stats = _depthwise(block, h, y, stats, tiles)
        weight, bias = cl.fold(*block.res_skip_product(), *stats.fold(block.norm2))
        res = block.res_conv.out_channels if block.res_conv is not None else 0
        if block.skip_conv is not None and skip is None:
            skip = w.new_zeros(frames, block.skip_conv.out_channels)
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        stats = _Stats()
        for s, e in tiles:
            out = onednn.linear(y[s:e], weight, bias)
            if res:
                x[s:e] += out[:, :res]
            if block.skip_conv is not None:
                skip[s:e] += out[:, res:]
            if following is not None:
                _in_conv(following, x[s:e], h[s:e], stats)

    return _masked_decode(model, w, skip if model.use_skip else x, tiles)


def _in_conv(block: nn.Module, x: torch.Tensor, h: torch.Tensor, stats: _Stats) -> None:
    """``h = PReLU(in_conv(x))`` on one tile, and its statistics for the block's first norm."""
    conv = block.in_conv
    weight = conv.weight.view(conv.out_channels, -1)
    h.copy_(onednn.linear(x, weight, conv.bias, _slope(block.act1)))
    stats.add(h)


def _depthwise(block: nn.Module, h: torch.Tensor, y: torch.Tensor, stats: _Stats,
               tiles: list[tuple[int, int]]) -> _Stats:
    """``y = PReLU(dconv(pad(norm1(h))))``, tile by tile; returns the statistics of ``y``."""
    frames = h.shape[0]
    gain, shift = stats.fold(block.norm1)
    conv = block.dconv
    taps, dilation = conv.kernel_size[0], conv.dilation[0]
    w = conv.weight.view(-1, taps).t()  # [taps, H]: each tap's weights contiguous
    scaled = (w * gain).contiguous()  # the norm's gain on each tap
    edge = (w * shift).contiguous()  # its shift, only where a tap sees a frame (zero padding)
    const = edge.sum(dim=0)
    if conv.bias is not None:
        const = const + conv.bias
    offsets = [k * dilation - block.pad // 2 for k in range(taps)]
    slope = _slope(block.act2)
    out_stats = _Stats()
    # the tap on the output frame itself (if any) starts each tile's sum
    centre = offsets.index(0) if 0 in offsets else None
    # backwards: the tiles of h written last by the forward sweep are still in cache, and
    # those of y written last are where the next (forward) sweep starts
    for s, e in reversed(tiles):
        out = y[s:e]
        if centre is None:
            out.copy_(const.expand_as(out))
        else:
            torch.addcmul(const, h[s:e], scaled[centre], out=out)
        for k, o in enumerate(offsets):
            lo, hi = max(s, -o), min(e, frames - o)  # output frames whose input exists
            if hi > lo and k != centre:
                out[lo - s:hi - s].addcmul_(h[lo + o:hi + o], scaled[k])
            if lo > s:
                out[:min(lo, e) - s] -= edge[k]
            if hi < e:
                out[max(hi, s) - s:] -= edge[k]
        F.leaky_relu_(out, slope)
        out_stats.add(out)
    return out_stats


def _masked_decode(model: nn.Module, w: torch.Tensor, features: torch.Tensor,
                   tiles: list[tuple[int, int]]) -> torch.Tensor:
    """The masks from ``features``, applied to ``w`` and decoded, tile by tile: ``[T, S, L]``."""
    sources, channels = model.num_sources, w.shape[1]
    conv, decoder = model.mask_conv, model.decoder
    weight = conv.weight.view(conv.out_channels, -1)
    basis = decoder.weight.view(channels, -1)
    out = w.new_empty(w.shape[0], sources, basis.shape[1])
    slope = _slope(model.mask_act)
    for s, e in tiles:
        masks = onednn.linear(F.leaky_relu(features[s:e], slope), weight, conv.bias)
        masks = mask_nonlinearity(masks.view(e - s, sources, channels), model.mask_nonlinear,
                                  dim=1)
        masks.mul_(w[s:e, None])
        torch.matmul(masks, basis, out=out[s:e])
    return out
