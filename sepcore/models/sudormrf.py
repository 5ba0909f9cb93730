"""SuDoRM-RF (Tzinis, Wang & Smaragdis, "Sudo rm -rf: Efficient networks for universal
audio source separation", IEEE MLSP 2020), in its improved form (the authors'
``improved_sudormrf.py``, Asteroid's ``SuDORMRFImprovedNet``).

A learned encoder (1-D conv, ``n_filters`` filters of ``kernel_size`` samples, hop
``kernel_size // 2``), gLN and a 1x1 bottleneck to ``bn_chan`` channels, ``num_blocks``
U-ConvBlocks, and one mask per source (PReLU, 1x1 conv, ``mask_nonlinear``) applied to
the encoding and decoded by a transposed conv. Each U-ConvBlock

- projects its ``bn_chan`` channels to ``hid_chan`` (1x1 conv, gLN, PReLU);
- runs ``upsampling_depth`` depthwise convs of 5 taps, each followed by gLN: the first
  at the block's frame rate, every further one with stride 2 on the previous one's
  output, so that level ``k`` sees the frames at ``1 / 2**k`` of the rate;
- adds the levels back up from the coarsest, each upsampled x2 (nearest) onto the next
  finer one;
- normalises (gLN, PReLU per channel), projects back to ``bn_chan`` (1x1 conv) and adds
  its input.

Most of the work happens at the coarse levels, which is where the model's efficiency
comes from: at the papers' sizes it takes 3.8 GFLOP per second of 8 kHz audio against
ConvTasNet's 9.8 (bench/model_flops.py). Defaults are the paper's (N=512, L=21, B=128,
H=512, 16 blocks, depth 4; 2.63 M parameters, as in Asteroid's model).

The network is non-causal: gLN and the centred convs look at future frames. With
``norm: chanLN`` an output frame depends only on the frames within
:meth:`receptive_field`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sepcore.errors import ConfigError
from sepcore.nn import channels_last as cl
from sepcore.nn.activations import PReLU
from sepcore.nn.kernels import use_reference
from sepcore.nn.norm import make_norm
from sepcore.nn.tasnet import check_mask_nonlinearity, encode_mask_decode, mask_nonlinearity

TAPS = 5  # the depthwise convs' kernel, at every level (the paper's)
NORMS = ("gLN", "chanLN")


class UConvBlock(nn.Module):
    """Project up, depthwise convs at ``depth`` frame rates, sum back up, project down,
    add the input (see the module doc). Input and output ``[batch, B, frames]``."""

    def __init__(self, B: int, H: int, depth: int, norm: str):
        super().__init__()
        self.proj = nn.Conv1d(B, H, 1)
        self.proj_norm = make_norm(norm, H)
        self.proj_act = PReLU()
        self.convs = nn.ModuleList(
            nn.Conv1d(H, H, TAPS, stride=1 if k == 0 else 2, padding=TAPS // 2, groups=H)
            for k in range(depth))
        self.norms = nn.ModuleList(make_norm(norm, H) for _ in range(depth))
        self.final_norm = make_norm(norm, H)
        self.final_act = nn.PReLU(H)
        self.res_conv = nn.Conv1d(H, B, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.proj_act(self.proj_norm(self.proj(x)))
        levels = [self.norms[0](self.convs[0](y))]
        for conv, norm in zip(self.convs[1:], self.norms[1:]):
            levels.append(norm(conv(levels[-1])))
        y = levels.pop()
        while levels:
            finer = levels.pop()
            y = finer + y.repeat_interleave(2, dim=-1)[..., :finer.shape[-1]]
        return x + self.res_conv(self.final_act(self.final_norm(y)))

    def forward_channels_last(self, x: torch.Tensor) -> torch.Tensor:
        """The same block on ``[batch, frames, B]``: the 1x1 convs are matrix products,
        the depthwise convs oneDNN's NHWC kernel over the frames as the image's width,
        the upsampling a broadcast add."""
        y = cl.prelu(_norm(self.proj_norm, cl.linear(x, self.proj)), self.proj_act)
        levels = [_norm(self.norms[0], _depthwise(y, self.convs[0]))]
        for conv, norm in zip(self.convs[1:], self.norms[1:]):
            levels.append(_norm(norm, _depthwise(levels[-1], conv)))
        y = levels.pop()
        while levels:
            y = _add_upsampled(levels.pop(), y)
        y = cl.prelu(_norm(self.final_norm, y), self.final_act)
        return x + cl.linear(y, self.res_conv)


def _norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``norm`` (gLN or chanLN) of channels-last ``[B, T, C]`` with its affine transform."""
    gain, shift = cl.affine(norm)
    return torch.addcmul(shift, cl.normalize(norm, x), gain)


def _depthwise(x: torch.Tensor, conv: nn.Conv1d) -> torch.Tensor:
    """A depthwise ``conv`` (any stride, centred padding) on channels-last ``[B, T, C]``:
    ``[B, C, 1, T]`` is an NHWC view of it, which oneDNN's depthwise kernel takes
    (forward, 2 threads, 4 x 3200 x 512, stride 1: 4.5 against 11 ms for ``conv1d``)."""
    stride = conv.stride[0]
    y = F.conv2d(x.transpose(1, 2).unsqueeze(2), conv.weight.unsqueeze(2), conv.bias,
                 stride=(1, stride), padding=(0, conv.padding[0]), groups=conv.groups)
    return y.squeeze(2).transpose(1, 2)


def _add_upsampled(finer: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
    """``finer + coarse`` upsampled x2 (nearest) to ``finer``'s frames, on ``[B, T, C]``."""
    b, frames, c = finer.shape
    even = frames - frames % 2
    out = finer.new_empty(finer.shape)
    out[:, :even].view(b, even // 2, 2, c).copy_(
        finer[:, :even].view(b, even // 2, 2, c) + coarse[:, :even // 2].unsqueeze(2))
    if even < frames:
        out[:, even:] = finer[:, even:] + coarse[:, even // 2:even // 2 + 1]
    return out


class SuDORMRF(nn.Module):
    """SuDoRM-RF (improved): learned encoder, U-ConvBlock mask estimator, learned decoder.

    Tzinis, Wang & Smaragdis, "Sudo rm -rf: Efficient networks for universal audio source
    separation", IEEE MLSP 2020 (arXiv:2007.06833). The defaults are the paper's
    (SuDoRM-RF 1.0x).

    Args:
        num_sources: number of sources to estimate (set from the data dir by training).
        n_filters: encoder filters / basis signals (512).
        kernel_size: encoder filter length in samples (21); the hop is half of it.
        bn_chan: channels between the blocks (the bottleneck, 128).
        hid_chan: channels inside each block (512).
        num_blocks: U-ConvBlocks (16).
        upsampling_depth: frame rates per block, each half the previous one (4).
        mask_nonlinear: ``relu`` (default, the improved model's), ``softmax`` (the
            original model's), ``sigmoid``, ``tanh`` or ``linear``.
        encoder_activation: ``linear`` (default, the improved model's) or ``relu`` (the
            original model's) after the encoder.
        norm: ``gLN`` (default, the paper's: statistics over the whole input) or
            ``chanLN`` (per frame, so that the context is :meth:`receptive_field`).
    """

    def __init__(
        self,
        num_sources: int = 2,
        n_filters: int = 512,
        kernel_size: int = 21,
        bn_chan: int = 128,
        hid_chan: int = 512,
        num_blocks: int = 16,
        upsampling_depth: int = 4,
        mask_nonlinear: str = "relu",
        encoder_activation: str = "linear",
        norm: str = "gLN",
    ):
        super().__init__()
        if num_sources < 1:
            raise ConfigError(f"num_sources must be >= 1, got {num_sources}")
        if kernel_size < 2:
            raise ConfigError(f"kernel_size (encoder window) must be >= 2, got {kernel_size}")
        for name, value in (("n_filters", n_filters), ("bn_chan", bn_chan),
                            ("hid_chan", hid_chan), ("num_blocks", num_blocks),
                            ("upsampling_depth", upsampling_depth)):
            if value < 1:
                raise ConfigError(f"{name} must be >= 1, got {value}")
        check_mask_nonlinearity(mask_nonlinear)
        if encoder_activation not in ("relu", "linear"):
            raise ConfigError(f"unknown encoder_activation {encoder_activation!r}; expected "
                              f"relu or linear")
        if norm not in NORMS:
            raise ConfigError(f"unknown norm {norm!r} for sudormrf; expected one of "
                              f"{', '.join(NORMS)}")
        self.num_sources, self.N, self.L = num_sources, n_filters, kernel_size
        self.hop = kernel_size // 2
        # the shift the output follows exactly: a whole frame at the coarsest level (chunked
        # separation aligns its chunks to it, sepcore/inference.py)
        self.stride = self.hop * 2 ** (upsampling_depth - 1)
        self.depth, self.mask_nonlinear = upsampling_depth, mask_nonlinear
        self.encoder_relu = encoder_activation == "relu"

        self.encoder = nn.Conv1d(1, n_filters, kernel_size, stride=self.hop, bias=False)
        self.in_norm = make_norm(norm, n_filters)
        self.bottleneck = nn.Conv1d(n_filters, bn_chan, 1)
        self.blocks = nn.ModuleList(
            UConvBlock(bn_chan, hid_chan, upsampling_depth, norm) for _ in range(num_blocks))
        self.mask_act = PReLU()
        self.mask_conv = nn.Conv1d(bn_chan, num_sources * n_filters, 1)
        self.decoder = nn.ConvTranspose1d(n_filters, 1, kernel_size, stride=self.hop,
                                          bias=False)

    def receptive_field(self) -> int:
        """Input samples on either side of an output sample that can influence it.

        Per block, level 0 reaches 2 frames either side, level ``k`` another ``2**k``,
        and the nearest upsampling from level ``k`` up to ``2**k - 1`` more to the left.
        """
        per_block = 2 + sum(2**k for k in range(1, self.depth)) + 2 ** (self.depth - 1) - 1
        return len(self.blocks) * per_block * self.hop + self.L

    def _masks(self, w: torch.Tensor) -> torch.Tensor:
        x = self.bottleneck(self.in_norm(w))
        for block in self.blocks:
            x = block(x)
        y = self.mask_conv(self.mask_act(x))
        y = y.view(y.shape[0], self.num_sources, self.N, -1)
        return mask_nonlinearity(y, self.mask_nonlinear)

    def _masks_channels_last(self, w: torch.Tensor) -> torch.Tensor:
        x = cl.norm_linear(self.in_norm, w, self.bottleneck.weight, self.bottleneck.bias)
        for block in self.blocks:
            x = block.forward_channels_last(x)
        y = cl.linear(cl.prelu(x, self.mask_act), self.mask_conv)
        y = y.view(y.shape[0], y.shape[1], self.num_sources, self.N)
        return mask_nonlinearity(y, self.mask_nonlinear, dim=2)

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """``[batch, time]`` (or ``[time]``) → ``[batch, sources, time]``.

        Without gradients (separation, validation) the blocks run channels-last,
        1.2-1.3x faster at the paper's size; in training the channels-first modules are faster
        (2 threads, 4 x 4 s: 5.7 against 6.2 s a step; the backward of oneDNN's NHWC
        depthwise conv is slow)."""
        if not use_reference() and not torch.is_grad_enabled():
            return cl.encode_mask_decode(mixture, self.encoder, self.decoder,
                                         self._masks_channels_last, self.encoder_relu)
        return encode_mask_decode(mixture, self.encoder, self.decoder, self._masks,
                                  self.num_sources, self.encoder_relu)
