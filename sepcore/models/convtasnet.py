"""Conv-TasNet (Luo & Mesgarani, "Conv-TasNet: Surpassing ideal time-frequency
magnitude masking for speech separation", IEEE/ACM TASLP 2019).

A learned encoder (1-D conv, ``n_filters`` filters of ``kernel_size`` samples, hop
``kernel_size // 2``), a temporal convolutional network (``n_repeats`` repeats of
``n_blocks`` dilated depthwise-separable blocks with ``hid_chan`` channels, kernel
``conv_kernel_size``, bottleneck ``bn_chan``, skip channels ``skip_chan``) that
estimates one mask per source, and a transposed-conv decoder.

Defaults are the paper's best non-causal configuration (Table II: N=512, L=16,
B=128, H=512, Sc=128, P=3, X=8, R=3, gLN; 4.98 M parameters: 5.05 M
in Asteroid, which keeps the last block's residual conv although nothing uses it).
The hyperparameters are named as Asteroid names them and as every sepcore model does
(``n_filters``, ``kernel_size``, ``bn_chan``, ...); the paper's letters are in the
class docstring. Model files of format 1 used the letters: sepcore/modelfile.py
renames them on load.

Causality: with ``causal: true`` the TCN pads only on the left and the norm is
cumulative (cLN), so no frame sees a later frame. As in the paper, the encoder
window itself is the algorithmic latency: an output sample depends on the input
up to ``L - 1`` samples after it (2 ms at 8 kHz for L=16), never further.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sepcore.errors import ConfigError
from sepcore.nn import channels_last as cl
from sepcore.nn import tiled_tcn
from sepcore.nn.activations import PReLU
from sepcore.nn.conv import depthwise_conv1d
from sepcore.nn.kernels import use_reference
from sepcore.nn.norm import CAUSAL_NORMS, make_norm
from sepcore.nn.tasnet import check_mask_nonlinearity, encode_mask_decode, mask_nonlinearity


class TCNBlock(nn.Module):
    """1x1 conv → PReLU → norm → dilated depthwise conv → PReLU → norm → residual/skip 1x1."""

    def __init__(
        self, B: int, H: int, P: int, dilation: int, Sc: int, norm: str, causal: bool,
        residual: bool = True,
    ):
        super().__init__()
        self.causal = causal
        self.pad = (P - 1) * dilation
        self.in_conv = nn.Conv1d(B, H, 1)
        self.act1 = PReLU()
        self.norm1 = make_norm(norm, H)
        self.dconv = nn.Conv1d(H, H, P, dilation=dilation, groups=H)
        self.act2 = PReLU()
        self.norm2 = make_norm(norm, H)
        # the last block's residual output is unused when skip connections feed the mask
        self.res_conv = nn.Conv1d(H, B, 1) if residual else None
        self.skip_conv = nn.Conv1d(H, Sc, 1) if Sc else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        y = self.norm1(self.act1(self.in_conv(x)))
        if self.causal:
            y = F.pad(y, (self.pad, 0))
        else:
            y = F.pad(y, (self.pad // 2, self.pad - self.pad // 2))
        y = self.norm2(self.act2(depthwise_conv1d(y, self.dconv)))
        skip = self.skip_conv(y) if self.skip_conv is not None else None
        return (x + self.res_conv(y) if self.res_conv is not None else x), skip

    def res_skip_product(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The residual and skip 1x1 convs as one product: weights stacked ``[B + Sc, H]``
        (either may be absent) and their biases."""
        convs = [c for c in (self.res_conv, self.skip_conv) if c is not None]
        return (torch.cat([c.weight.view(c.out_channels, -1) for c in convs]),
                torch.cat([c.bias for c in convs]))

    def forward_channels_last(self, x: torch.Tensor, skip_sum: torch.Tensor | None
                              ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The same block on ``[batch, frames, B]``; adds its skip output to ``skip_sum``.

        The residual and skip 1x1 convs are one matrix product (their weights stacked),
        and the norms' affine transforms are folded into the depthwise taps and that
        product (sepcore/nn/channels_last.py).
        """
        y = cl.prelu_norm(cl.linear(x, self.in_conv), self.act1, self.norm1)
        y = cl.depthwise(self.norm1, y, self.dconv, self.pad if self.causal else self.pad // 2)
        y = cl.prelu_norm(y, self.act2, self.norm2)
        out = cl.affine_linear(self.norm2, y, *self.res_skip_product())
        if self.res_conv is not None:
            x = x + out[..., :self.res_conv.out_channels]
        if self.skip_conv is not None:
            skip = out[..., out.shape[-1] - self.skip_conv.out_channels:]
            skip_sum = skip if skip_sum is None else skip_sum + skip
        return x, skip_sum


class ConvTasNet(nn.Module):
    """Conv-TasNet: learned encoder, TCN mask estimator, learned decoder.

    Luo & Mesgarani, "Conv-TasNet: Surpassing ideal time-frequency magnitude masking for
    speech separation", IEEE/ACM TASLP 27(8), 2019. The paper's letters are given with
    each argument; the defaults are its best non-causal configuration (Table II).

    Args:
        num_sources: number of sources to estimate (set from the data dir by training).
        n_filters: encoder filters / basis signals (N, 512).
        kernel_size: encoder filter length in samples (L, 16); even, the hop is half of it.
        bn_chan: bottleneck channels of the TCN's input and residual path (B, 128).
        hid_chan: channels inside each convolutional block (H, 512).
        conv_kernel_size: kernel of the dilated depthwise convolutions (P, 3).
        n_blocks: blocks per repeat, dilations 1, 2, ..., 2**(n_blocks - 1) (X, 8).
        n_repeats: repeats of those blocks (R, 3).
        skip_chan: skip-connection channels (Sc, 128); 0: the masks come from the
            residual path instead.
        norm: ``gLN`` (default), ``cLN`` (default when causal), ``chanLN`` or ``BN``.
        causal: pad the TCN on the left only and use a cumulative norm.
        mask_nonlinear: ``sigmoid`` (default), ``relu``, ``softmax`` or ``linear``.
        encoder_activation: ``relu`` (default, the paper's) or ``linear`` (Asteroid's
            default) after the encoder.
    """

    def __init__(
        self,
        num_sources: int = 2,
        n_filters: int = 512,
        kernel_size: int = 16,
        bn_chan: int = 128,
        hid_chan: int = 512,
        conv_kernel_size: int = 3,
        n_blocks: int = 8,
        n_repeats: int = 3,
        skip_chan: int = 128,
        norm: str | None = None,
        causal: bool = False,
        mask_nonlinear: str = "sigmoid",
        encoder_activation: str = "relu",
    ):
        super().__init__()
        N, L, B, H = n_filters, kernel_size, bn_chan, hid_chan  # the paper's letters
        P, X, R, Sc = conv_kernel_size, n_blocks, n_repeats, skip_chan
        if num_sources < 1:
            raise ConfigError(f"num_sources must be >= 1, got {num_sources}")
        if L < 2 or L % 2:
            raise ConfigError(f"kernel_size (encoder window) must be an even number >= 2, "
                              f"got {L}")
        check_mask_nonlinearity(mask_nonlinear)
        if encoder_activation not in ("relu", "linear"):
            raise ConfigError(f"unknown encoder_activation {encoder_activation!r}; expected "
                              f"relu or linear")
        self.encoder_relu = encoder_activation == "relu"
        norm = norm or ("cLN" if causal else "gLN")
        if causal and norm not in CAUSAL_NORMS:
            raise ConfigError(f"norm {norm!r} looks at future frames; with causal: true use cLN")
        self.num_sources, self.N, self.L, self.stride = num_sources, N, L, L // 2
        self.P, self.X, self.R, self.causal = P, X, R, causal
        self.mask_nonlinear = mask_nonlinear

        self.encoder = nn.Conv1d(1, N, L, stride=self.stride, bias=False)
        self.in_norm = make_norm(norm, N)
        self.bottleneck = nn.Conv1d(N, B, 1)
        dilations = [2**x for _ in range(R) for x in range(X)]
        self.blocks = nn.ModuleList(
            TCNBlock(B, H, P, d, Sc, norm, causal, residual=not (Sc and i == len(dilations) - 1))
            for i, d in enumerate(dilations)
        )
        self.use_skip = bool(Sc)
        self.mask_act = PReLU()
        self.mask_conv = nn.Conv1d(Sc if Sc else B, num_sources * N, 1)
        self.decoder = nn.ConvTranspose1d(N, 1, L, stride=self.stride, bias=False)

    def receptive_field(self) -> int:
        """Input samples on either side of an output sample that can influence it."""
        frames = self.R * (self.P - 1) * (2**self.X - 1)
        side = frames if self.causal else (frames + 1) // 2
        return side * self.stride + self.L

    def _masks(self, w: torch.Tensor) -> torch.Tensor:
        x = self.bottleneck(self.in_norm(w))
        skip_sum = 0.0
        for block in self.blocks:
            x, skip = block(x)
            if skip is not None:
                skip_sum = skip_sum + skip
        y = self.mask_conv(self.mask_act(skip_sum if self.use_skip else x))
        y = y.view(y.shape[0], self.num_sources, self.N, -1)
        return mask_nonlinearity(y, self.mask_nonlinear)

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """``[batch, time]`` (or ``[time]``) → ``[batch, sources, time]``."""
        if not use_reference() and self._channels_last_ok():
            if tiled_tcn.applies(self, mixture):
                return tiled_tcn.separate(self, mixture)
            return self._forward_channels_last(mixture)
        return encode_mask_decode(mixture, self.encoder, self.decoder, self._masks,
                                  self.num_sources, self.encoder_relu)

    def _channels_last_ok(self) -> bool:
        return cl.has_channels_last_norm(self.in_norm) and self.decoder.stride[0] * 2 == self.L

    def _forward_channels_last(self, mixture: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` on ``[batch, frames, channels]`` activations: every 1x1 conv is
        one matrix product (sepcore/nn/channels_last.py); same parameters and outputs."""
        return cl.encode_mask_decode(mixture, self.encoder, self.decoder,
                                     self._masks_channels_last, self.encoder_relu)

    def _masks_channels_last(self, w: torch.Tensor) -> torch.Tensor:
        x = cl.norm_linear(self.in_norm, w, self.bottleneck.weight, self.bottleneck.bias)
        skip_sum = None
        for block in self.blocks:
            x, skip_sum = block.forward_channels_last(x, skip_sum)
        y = cl.linear(cl.prelu(skip_sum if self.use_skip else x, self.mask_act), self.mask_conv)
        y = y.view(y.shape[0], y.shape[1], self.num_sources, self.N)
        return mask_nonlinearity(y, self.mask_nonlinear, dim=2)
