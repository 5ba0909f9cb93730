"""DPRNN-TasNet (Luo, Chen & Yoshioka, "Dual-path RNN: efficient long sequence
modeling for time-domain single-channel speech separation", ICASSP 2020).

A learned encoder (1-D conv, ``n_filters`` filters of ``kernel_size`` samples, hop
``kernel_size // 2``), a dual-path RNN mask estimator and a transposed-conv decoder:

- the encoder frames (after gLN and a 1x1 bottleneck to ``bn_chan``) are cut into
  chunks of ``chunk_size`` frames with hop ``hop_size`` (50 % overlap by default);
- each of the ``n_repeats`` blocks runs a BLSTM *inside* every chunk (intra-chunk,
  local) and then an (optionally bidirectional) LSTM *across* chunks at each
  position (inter-chunk, global), each followed by a linear projection, a norm and
  a residual connection;
- the chunks are overlap-added back, gated (tanh x sigmoid) and projected to one
  mask per source.

Defaults follow the paper / Asteroid's ``DPRNNTasNet`` (64 filters, kernel 16,
chunk 100, 6 blocks, 128 units; about 3.6 M parameters). The paper's best setting
is kernel 2 with chunk 250.

Context: the inter-chunk RNN sees the whole input, so the model is global: every
output sample depends on every input sample. ``receptive_field()`` therefore returns
``UNBOUNDED`` (2**31 - 1 samples); chunked inference (sepcore/inference.py) caps it at
its largest context, so long inputs are separated in long windows with long overlaps.
The part of the context seen by the intra-chunk RNN alone is ``local_context()``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sepcore.errors import ConfigError
from sepcore.nn import channels_last as cl
from sepcore.nn import onednn
from sepcore.nn.activations import PReLU
from sepcore.nn.kernels import use_reference
from sepcore.nn.lstm import lstm
from sepcore.nn.norm import make_norm
from sepcore.nn.tasnet import check_mask_nonlinearity, encode_mask_decode, mask_nonlinearity

ENCODER_ACTIVATIONS = ("linear", "relu")
RNN_TYPES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
DPRNN_NORMS = ("gLN", "chanLN", "BN")
UNBOUNDED = 2**31 - 1


class DualPathBlock(nn.Module):
    """Intra-chunk RNN → linear → norm → residual, then the same across chunks.

    Input and output ``[batch, channels, chunk_size, num_chunks]``.
    """

    def __init__(
        self, channels: int, hid_size: int, norm: str, bidirectional: bool, rnn_type: str,
        num_layers: int, dropout: float,
    ):
        super().__init__()
        rnn = RNN_TYPES[rnn_type]
        drop = dropout if num_layers > 1 else 0.0
        # time-major ([time, batch, features], the RNNs' own layout): no transposes inside
        self.intra_rnn = rnn(channels, hid_size, num_layers, bidirectional=True, dropout=drop)
        self.intra_linear = nn.Linear(2 * hid_size, channels)
        self.intra_norm = make_norm(norm, channels)
        self.inter_rnn = rnn(channels, hid_size, num_layers, bidirectional=bidirectional,
                             dropout=drop)
        self.inter_linear = nn.Linear((2 if bidirectional else 1) * hid_size, channels)
        self.inter_norm = make_norm(norm, channels)

    @staticmethod
    def _norm(norm: nn.Module, y: torch.Tensor) -> torch.Tensor:
        b, c, k, s = y.shape
        return norm(y.reshape(b, c, k * s)).reshape(b, c, k, s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, k, s = x.shape
        # intra-chunk: sequences of length k, one per (batch, chunk)
        y = x.permute(0, 3, 2, 1).reshape(b * s, k, c)
        y = self.intra_linear(self.intra_rnn(y.transpose(0, 1))[0].transpose(0, 1))
        y = y.reshape(b, s, k, c).permute(0, 3, 2, 1)
        x = x + self._norm(self.intra_norm, y)
        # inter-chunk: sequences of length s, one per (batch, position in chunk)
        y = x.permute(0, 2, 3, 1).reshape(b * k, s, c)
        y = self.inter_linear(self.inter_rnn(y.transpose(0, 1))[0].transpose(0, 1))
        y = y.reshape(b, k, s, c).permute(0, 3, 1, 2)
        return x + self._norm(self.inter_norm, y)

    def forward_channels_last(self, x: torch.Tensor) -> torch.Tensor:
        """The same block on ``[batch, num_chunks, chunk_size, channels]``: each RNN reads
        one time-major copy (``[time, batch, channels]``, the RNNs' own layout, so nothing
        is transposed inside them), and the projections and norms (statistics over all but
        the batch) run on their time-major outputs as views. LSTMs go through
        sepcore/nn/lstm.py (torch's or its step kernels, whichever is faster here)."""
        b, s, k, c = x.shape
        y = lstm(self.intra_rnn, x.permute(2, 0, 1, 3).reshape(k, b * s, c))
        y = _linear(y, self.intra_linear).view(k, b, s, c).permute(1, 2, 0, 3)
        x = _add_norm(x, self.intra_norm, y)
        y = lstm(self.inter_rnn, x.transpose(0, 1).reshape(s, b * k, c))
        y = _linear(y, self.inter_linear).view(s, b, k, c).transpose(0, 1)
        return _add_norm(x, self.inter_norm, y)


def _linear(x: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
    return onednn.linear(x, layer.weight, layer.bias)


def _add_norm(x: torch.Tensor, norm: nn.Module, y: torch.Tensor) -> torch.Tensor:
    """``x + norm(y)`` for gLN / chanLN on ``[B, ..., C]`` (``y`` may be a transposed view)."""
    gain, shift = cl.affine(norm)
    if isinstance(norm, cl.GlobalLayerNorm):
        n = F.layer_norm(y.contiguous(), y.shape[1:], eps=norm.eps)
    else:
        n = F.layer_norm(y, y.shape[-1:], eps=norm.norm.eps)
    return torch.addcmul(x + shift, n, gain)


class DPRNN(nn.Module):
    """DPRNN-TasNet: learned encoder, dual-path RNN mask estimator, learned decoder.

    Luo, Chen & Yoshioka, "Dual-path RNN: efficient long sequence modeling for
    time-domain single-channel speech separation", ICASSP 2020. Defaults as Asteroid's
    ``DPRNNTasNet`` (the paper's best: ``kernel_size=2``, ``chunk_size=250``).

    Args:
        num_sources: number of sources to estimate (set from the data dir by training).
        n_filters: encoder filters (64).
        kernel_size: encoder filter length in samples (16); even, the hop is half of it.
        bn_chan: bottleneck channels the dual-path blocks work on (128).
        hid_size: units of each RNN (128).
        chunk_size: frames per chunk (100).
        hop_size: hop between chunks in frames (default ``chunk_size // 2``).
        n_repeats: dual-path blocks (6).
        norm: ``gLN`` (default), ``chanLN`` or ``BN``, after each RNN's projection.
        bidirectional: whether the inter-chunk RNN is bidirectional (the intra-chunk one
            always is).
        rnn_type: ``lstm`` (default), ``gru`` or ``rnn``.
        num_layers: layers of each RNN (1).
        dropout: dropout between RNN layers (with ``num_layers > 1``).
        mask_nonlinear: ``sigmoid`` (default), ``relu``, ``softmax`` or ``linear``.
        encoder_activation: ``linear`` (default) or ``relu`` after the encoder.
    """

    def __init__(
        self,
        num_sources: int = 2,
        n_filters: int = 64,
        kernel_size: int = 16,
        bn_chan: int = 128,
        hid_size: int = 128,
        chunk_size: int = 100,
        hop_size: int | None = None,
        n_repeats: int = 6,
        norm: str = "gLN",
        bidirectional: bool = True,
        rnn_type: str = "lstm",
        num_layers: int = 1,
        dropout: float = 0.0,
        mask_nonlinear: str = "sigmoid",
        encoder_activation: str = "linear",
    ):
        super().__init__()
        if num_sources < 1:
            raise ConfigError(f"num_sources must be >= 1, got {num_sources}")
        if kernel_size < 2 or kernel_size % 2:
            raise ConfigError(f"kernel_size must be an even number >= 2, got {kernel_size}")
        hop_size = chunk_size // 2 if hop_size is None else hop_size
        if chunk_size < 2 or not 1 <= hop_size <= chunk_size:
            raise ConfigError(
                f"need chunk_size >= 2 and 1 <= hop_size <= chunk_size, got chunk_size "
                f"{chunk_size}, hop_size {hop_size}"
            )
        check_mask_nonlinearity(mask_nonlinear)
        if encoder_activation not in ENCODER_ACTIVATIONS:
            raise ConfigError(f"unknown encoder_activation {encoder_activation!r}; expected one "
                              f"of {', '.join(ENCODER_ACTIVATIONS)}")
        if rnn_type.lower() not in RNN_TYPES:
            raise ConfigError(f"unknown rnn_type {rnn_type!r}; expected one of "
                              f"{', '.join(RNN_TYPES)}")
        if norm not in DPRNN_NORMS:
            raise ConfigError(f"norm {norm!r} is not usable in DPRNN (chunks are processed "
                              f"out of time order); expected one of {', '.join(DPRNN_NORMS)}")
        self.num_sources, self.N, self.L, self.stride = (
            num_sources, n_filters, kernel_size, kernel_size // 2)
        self.chunk_size, self.hop_size = chunk_size, hop_size
        self.mask_nonlinear, self.encoder_activation = mask_nonlinear, encoder_activation

        self.encoder = nn.Conv1d(1, n_filters, kernel_size, stride=self.stride, bias=False)
        self.in_norm = make_norm(norm, n_filters)
        self.bottleneck = nn.Conv1d(n_filters, bn_chan, 1)
        self.blocks = nn.ModuleList(
            DualPathBlock(bn_chan, hid_size, norm, bidirectional, rnn_type.lower(), num_layers,
                          dropout)
            for _ in range(n_repeats)
        )
        self.out_act = PReLU()
        self.out_conv = nn.Conv2d(bn_chan, num_sources * bn_chan, 1)
        self.gate_tanh = nn.Conv1d(bn_chan, bn_chan, 1)
        self.gate_sigmoid = nn.Conv1d(bn_chan, bn_chan, 1)
        self.mask_conv = nn.Conv1d(bn_chan, n_filters, 1, bias=False)
        self.decoder = nn.ConvTranspose1d(n_filters, 1, kernel_size, stride=self.stride,
                                          bias=False)

    def receptive_field(self) -> int:
        """The model is global (see the module doc): ``UNBOUNDED``."""
        return UNBOUNDED

    def local_context(self) -> int:
        """Samples per side within one chunk (what the intra-chunk RNN sees)."""
        return self.chunk_size * self.stride + self.L

    def _chunk(self, x: torch.Tensor) -> tuple[torch.Tensor, int]:
        """``[B, C, F]`` → ``[B, C, chunk, S]``; returns the padded length too."""
        k, p = self.chunk_size, self.hop_size
        frames = x.shape[-1]
        # pad one hop in front and enough at the back for whole chunks
        total = max(frames + 2 * p, k)
        total = k + -(-(total - k) // p) * p
        x = F.pad(x, (p, total - frames - p))
        return x.unfold(-1, k, p).transpose(2, 3), total

    def _unchunk(self, y: torch.Tensor, total: int, frames: int) -> torch.Tensor:
        """Overlap-add ``[B, C, chunk, S]`` back to ``[B, C, frames]``."""
        b, c, k, s = y.shape
        y = F.fold(y.reshape(b, c * k, s), output_size=(total, 1), kernel_size=(k, 1),
                   stride=(self.hop_size, 1))
        return y.reshape(b, c, total)[..., self.hop_size:self.hop_size + frames]

    def _masks(self, w: torch.Tensor) -> torch.Tensor:
        b, _, frames = w.shape
        x = self.bottleneck(self.in_norm(w))
        x, total = self._chunk(x)
        for block in self.blocks:
            x = block(x)
        y = self.out_conv(self.out_act(x))  # [B, S*bn, chunk, chunks]
        y = y.reshape(b * self.num_sources, -1, y.shape[-2], y.shape[-1])
        y = self._unchunk(y, total, frames)  # [B*S, bn, frames]
        y = torch.tanh(self.gate_tanh(y)) * torch.sigmoid(self.gate_sigmoid(y))
        y = self.mask_conv(y).reshape(b, self.num_sources, self.N, frames)
        return mask_nonlinearity(y, self.mask_nonlinear)

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """``[batch, time]`` (or ``[time]``) → ``[batch, sources, time]``."""
        if not use_reference() and isinstance(self.in_norm, (cl.GlobalLayerNorm,
                                                             cl.ChannelLayerNorm)) \
                and self.decoder.stride[0] * 2 == self.L:
            return self._forward_channels_last(mixture)
        return encode_mask_decode(mixture, self.encoder, self.decoder, self._masks,
                                  self.num_sources, self.encoder_activation == "relu")

    def _forward_channels_last(self, mixture: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` on channels-last activations (sepcore/nn/channels_last.py): the
        1x1 convs are matrix products, the chunks ``[B, S, K, C]`` feed the intra-chunk RNN
        without a copy; same parameters and outputs."""
        return cl.encode_mask_decode(mixture, self.encoder, self.decoder,
                                     self._masks_channels_last,
                                     self.encoder_activation == "relu")

    def _masks_channels_last(self, w: torch.Tensor) -> torch.Tensor:
        (b, frames, _), k, p = w.shape, self.chunk_size, self.hop_size
        x = cl.norm_linear(self.in_norm, w, self.bottleneck.weight, self.bottleneck.bias)
        total = max(frames + 2 * p, k)
        total = k + -(-(total - k) // p) * p
        x = F.pad(x, (0, 0, p, total - frames - p))
        x = x.unfold(1, k, p).transpose(2, 3).contiguous()  # [B, S, K, C]
        for block in self.blocks:
            x = block.forward_channels_last(x)
        y = onednn.linear(cl.prelu(x, self.out_act), self.out_conv.weight.flatten(1),
                          self.out_conv.bias)  # [B, S, K, sources * C]
        y = _overlap_add(y, p)[:, p:p + frames]  # [B, T, sources * C]
        y = y.reshape(b, frames, self.num_sources, -1)
        gates = torch.cat([self.gate_tanh.weight, self.gate_sigmoid.weight]).flatten(1)
        g = onednn.linear(y, gates, torch.cat([self.gate_tanh.bias, self.gate_sigmoid.bias]))
        half = g.shape[-1] // 2
        y = torch.tanh(g[..., :half]) * torch.sigmoid(g[..., half:])
        return mask_nonlinearity(cl.linear(y, self.mask_conv), self.mask_nonlinear, dim=2)


def _overlap_add(y: torch.Tensor, hop: int) -> torch.Tensor:
    """Overlap-add chunks ``[B, S, K, C]`` placed ``hop`` frames apart → ``[B, frames, C]``."""
    b, s, k, c = y.shape
    if k == 2 * hop:  # half overlap: each hop is one chunk's first half + the previous' second
        out = F.pad(y[:, :, :hop], (0, 0, 0, 0, 0, 1)) + F.pad(y[:, :, hop:], (0, 0, 0, 0, 1, 0))
        return out.reshape(b, (s + 1) * hop, c)
    total = (s - 1) * hop + k
    out = F.fold(y.permute(0, 3, 2, 1).reshape(b, c * k, s), output_size=(total, 1),
                 kernel_size=(k, 1), stride=(hop, 1))
    return out.view(b, c, total).transpose(1, 2)
