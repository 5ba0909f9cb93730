"""TasNet building blocks on channels-last activations ``[batch, frames, channels]``.

In this layout a 1x1 convolution is one matrix product over ``batch * frames`` rows
(``F.linear``), which reaches the BLAS kernels' speed, where ``conv1d`` on
``[batch, channels, frames]`` does not; a depthwise convolution, and a gLN after a PReLU,
are compiled passes where sepcore/nn/tcn_kernels.py builds, and otherwise one oneDNN conv
over an image of the frames (centred taps, :class:`_DepthwiseConv`) or a sum of shifted
row blocks scaled per channel (contiguous, vectorised along the channels); the norms'
per-channel affine transforms fold into the weights of the product that follows, so
they cost no pass over the activations. Every function takes the parameters of the
standard modules (``nn.Conv1d``, the norms of sepcore/nn/norm.py), so model files are
unchanged; results equal the channels-first modules' up to float rounding (tested in
float64 in tests/test_fast_kernels.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sepcore.nn import onednn, tcn_kernels
from sepcore.nn.conv import overlap_add_frames
from sepcore.nn.norm import ChannelLayerNorm, CumulativeLayerNorm, GlobalLayerNorm


def has_channels_last_norm(norm: nn.Module) -> bool:
    return isinstance(norm, (GlobalLayerNorm, CumulativeLayerNorm, ChannelLayerNorm))


def normalize(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The norm of ``x`` ``[B, T, C]`` without its affine transform (see :func:`affine`)."""
    if isinstance(norm, GlobalLayerNorm):
        # statistics over frames and channels: layer_norm over the last two dims, one
        # fused kernel forward and backward
        return F.layer_norm(x, x.shape[1:], eps=norm.eps)
    if isinstance(norm, ChannelLayerNorm):
        return F.layer_norm(x, x.shape[2:], eps=norm.norm.eps)
    if isinstance(norm, CumulativeLayerNorm):
        channels, frames = x.shape[2], x.shape[1]
        count = torch.arange(1, frames + 1, device=x.device, dtype=x.dtype).view(1, -1, 1)
        count = count * channels
        mean = x.sum(dim=2, keepdim=True).cumsum(dim=1) / count
        power = x.pow(2).sum(dim=2, keepdim=True).cumsum(dim=1) / count
        var = (power - mean.pow(2)).clamp_min(0.0)
        return (x - mean) * torch.rsqrt(var + norm.eps)
    raise TypeError(f"no channels-last form of {type(norm).__name__}")


def affine(norm: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """The norm's per-channel (gain, bias), each ``[C]``."""
    if isinstance(norm, ChannelLayerNorm):
        return norm.norm.weight, norm.norm.bias
    return norm.gamma.view(-1), norm.beta.view(-1)


def prelu_norm(x: torch.Tensor, act: nn.PReLU, norm: nn.Module) -> torch.Tensor:
    """``normalize(norm, prelu(x, act))``: one compiled pass forward and backward for a
    gLN after a one-slope PReLU (sepcore/nn/tcn_kernels.py) where it is available."""
    if (isinstance(norm, GlobalLayerNorm) and act.weight.numel() == 1
            and tcn_kernels.available(x)):
        return tcn_kernels.prelu_norm(x, act.weight, norm.eps)
    return normalize(norm, prelu(x, act))


def norm_linear(norm: nn.Module, x: torch.Tensor, weight: torch.Tensor,
                bias: torch.Tensor | None) -> torch.Tensor:
    """``linear(norm(x))`` with the norm's affine transform folded into the weights."""
    return affine_linear(norm, normalize(norm, x), weight, bias)


def affine_linear(norm: nn.Module, x: torch.Tensor, weight: torch.Tensor,
                  bias: torch.Tensor | None) -> torch.Tensor:
    """``linear(gain * x + shift)`` for the norm's (gain, shift) and a normalized ``x``."""
    weight, bias = fold(weight.reshape(weight.shape[0], -1), bias, *affine(norm))
    return onednn.linear(x, weight, bias)


def fold(weight: torch.Tensor, bias: torch.Tensor | None, gain: torch.Tensor,
         shift: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``(weight, bias)`` of ``linear(gain * x + shift)`` as one ``linear(x)``."""
    folded_bias = weight @ shift
    return weight * gain, folded_bias if bias is None else folded_bias + bias


def linear(x: torch.Tensor, conv: nn.Conv1d) -> torch.Tensor:
    """A 1x1 ``conv`` on channels-last ``x``."""
    return onednn.linear(x, conv.weight.reshape(conv.out_channels, -1), conv.bias)


def _valid(offset: int, frames: int) -> tuple[int, int]:
    """The output frames [lo, hi) whose input frame ``t + offset`` exists."""
    lo = min(max(0, -offset), frames)
    return lo, max(min(frames, frames - offset), lo)


class _Depthwise(torch.autograd.Function):
    """``y[t] = bias + sum_k (w_k * x[t + o_k] + c_k)`` over the taps ``k`` whose input
    frame ``t + o_k`` exists (zero padding outside), on ``[B, T, C]``.

    Written out with in-place slice updates and an explicit backward: autograd through
    in-place slices would clone the whole gradient once per tap.
    """

    @staticmethod
    def forward(ctx, x, weight, offset, bias, offsets):
        frames = x.shape[1]
        const = bias + offset.sum(dim=1)
        y = None
        for k, o in enumerate(offsets):
            if o == 0:
                y = torch.addcmul(const, x, weight[:, k])
                break
        if y is None:
            y = const.expand_as(x).clone()
        for k, o in enumerate(offsets):
            lo, hi = _valid(o, frames)
            if o != 0 and hi > lo:
                y[:, lo:hi].addcmul_(x[:, lo + o:hi + o], weight[:, k])
        _drop_edge_offsets(y, offset, offsets)
        ctx.offsets = offsets
        ctx.save_for_backward(x, weight)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        offsets, frames = ctx.offsets, x.shape[1]
        grad_x = torch.zeros_like(x) if ctx.needs_input_grad[0] else None
        grad_w = weight.new_zeros(weight.shape)
        total = _column_sum(grad)
        for k, o in enumerate(offsets):
            lo, hi = _valid(o, frames)
            if hi <= lo:
                continue
            g = grad[:, lo:hi]
            xs = x[:, lo + o:hi + o]
            if grad_x is not None:
                grad_x[:, lo + o:hi + o].addcmul_(g, weight[:, k])
            grad_w[:, k] = _column_sum(g * xs)
        return grad_x, grad_w, _offset_grad(grad, total, offsets), total, None


def _drop_edge_offsets(y: torch.Tensor, offset: torch.Tensor, offsets) -> None:
    """Subtract tap ``k``'s offset (added everywhere with the bias) from the frames of
    ``y`` where its input falls on the zero padding."""
    frames = y.shape[1]
    for k, o in enumerate(offsets):
        lo, hi = _valid(o, frames)
        if lo > 0:
            y[:, :lo] -= offset[:, k]
        if hi < frames:
            y[:, hi:] -= offset[:, k]


def _offset_grad(grad: torch.Tensor, total: torch.Tensor, offsets) -> torch.Tensor:
    """The gradient of the depthwise convs' per-tap offsets ``[C, taps]``: tap ``k``'s
    offset is added at the frames where its input exists."""
    out = total.new_zeros(total.shape[0], len(offsets))
    for k, o in enumerate(offsets):
        lo, hi = _valid(o, grad.shape[1])
        if hi > lo:
            out[:, k] = total - _column_sum(grad[:, :lo]) - _column_sum(grad[:, hi:])
    return out


class _DepthwiseConv(torch.autograd.Function):
    """:class:`_Depthwise` for centred taps ``o_k = (k - (taps - 1) / 2) * d``, as one
    oneDNN depthwise conv, ~3x faster forward + backward (2 threads, 4 x 4000 x 512).

    oneDNN has no fast dilated depthwise kernel (torch falls back to a generic one, ~20x
    slower), so the dilation is folded into the layout instead: frames ``t = i * d + j``
    of ``[B, T, C]`` (zero-padded to a multiple of ``d``) are the rows ``i`` and columns
    ``j`` of an NHWC image ``[B, C, T / d, d]``, over which the taps are an undilated
    ``taps x 1`` conv. The view costs no copy when ``d`` divides ``T``.
    """

    @staticmethod
    def forward(ctx, x, weight, offset, bias, offsets):
        taps, dilation = len(offsets), offsets[1] - offsets[0]
        x4, frames = _as_image(x, dilation), x.shape[1]
        ctx.geometry = ((taps - 1) // 2, frames, dilation, offsets)
        w4 = weight.reshape(-1, 1, taps, 1)
        y4 = torch.ops.aten.convolution(x4, w4, bias + offset.sum(dim=1), [1, 1],
                                        [(taps - 1) // 2, 0], [1, 1], False, [0, 0],
                                        x.shape[2])
        y = _from_image(y4, frames)
        _drop_edge_offsets(y, offset, offsets)
        ctx.save_for_backward(x4, w4)
        return y

    @staticmethod
    def backward(ctx, grad):
        x4, w4 = ctx.saved_tensors
        pad, frames, dilation, offsets = ctx.geometry
        grad_x4, grad_w4, total = torch.ops.aten.convolution_backward(
            _as_image(grad, dilation), x4, w4, [w4.shape[0]], [1, 1], [pad, 0], [1, 1],
            False, [0, 0], w4.shape[0], [ctx.needs_input_grad[0], True, True])
        grad_x = None if grad_x4 is None else _from_image(grad_x4, frames)
        return (grad_x, grad_w4.view(w4.shape[0], -1), _offset_grad(grad, total, offsets),
                total, None)


def _as_image(x: torch.Tensor, dilation: int) -> torch.Tensor:
    """``[B, T, C]`` as the NHWC image ``[B, C, ceil(T / d), d]`` (see :class:`_DepthwiseConv`)."""
    b, frames, c = x.shape
    rows = -(-frames // dilation)
    if rows * dilation != frames or not x.is_contiguous():
        padded = x.new_empty(b, rows * dilation, c)  # F.pad would write the frames twice
        padded[:, :frames] = x
        padded[:, frames:] = 0
        x = padded
    return x.view(b, rows, dilation, c).permute(0, 3, 1, 2)


def _from_image(x4: torch.Tensor, frames: int) -> torch.Tensor:
    """The first ``frames`` frames of an NHWC image ``[B, C, H, W]`` as ``[B, T, C]``."""
    b, c, h, w = x4.shape
    return x4.permute(0, 2, 3, 1).reshape(b, h * w, c)[:, :frames]


def _column_sum(x: torch.Tensor) -> torch.Tensor:
    """``x.sum(dim=(0, 1))`` of ``[B, T, C]``, by batch: on a slice along ``T`` torch's
    reduction over both dims is ~20x slower than over each contiguous ``[T, C]`` block."""
    if x.shape[1] == 0:
        return x.new_zeros(x.shape[2])
    total = x[0].sum(dim=0)
    for b in range(1, x.shape[0]):
        total = total + x[b].sum(dim=0)
    return total


def depthwise(norm: nn.Module, x: torch.Tensor, conv: nn.Conv1d, pad_left: int) -> torch.Tensor:
    """``conv(pad(gain * x + shift))`` for a depthwise ``conv`` on channels-last ``x``, the
    output of :func:`normalize` (or :func:`prelu_norm`), and the norm's (gain, shift).

    ``pad_left`` frames of zeros before and enough after to keep the length; the norm's
    affine transform is folded into the taps (its shift only where a tap sees a frame).
    """
    gain, shift = affine(norm)
    taps, dilation = conv.kernel_size[0], conv.dilation[0]
    w = conv.weight.view(-1, taps)
    offsets = tuple(k * dilation - pad_left for k in range(taps))
    bias = conv.bias if conv.bias is not None else w.new_zeros(w.shape[0])
    args = (x, w * gain[:, None], w * shift[:, None], bias, offsets)
    if tcn_kernels.available(x):
        return tcn_kernels.depthwise(*args)
    centred = taps > 1 and taps % 2 == 1 and pad_left == dilation * (taps - 1) // 2
    return (_DepthwiseConv if centred and _conv_ok(x) else _Depthwise).apply(*args)


def _conv_ok(x: torch.Tensor) -> bool:
    """On the CPU outside autocast (which would run the conv in bfloat16), in float32
    (oneDNN) or float64 (torch's generic kernel: the float64 tests go through this path)."""
    return (x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
            and not torch.is_autocast_enabled("cpu"))


class _PReLU(torch.autograd.Function):
    """PReLU with one slope; backward in a few fused passes (torch's prelu backward is
    ~5x slower on CPU, its slope gradient a slow reduction)."""

    @staticmethod
    def forward(ctx, x, slope):
        y = F.prelu(x, slope.to(x.dtype))
        # with a positive slope the output's sign is the input's, and the output is enough
        ctx.from_output = float(slope) > 0
        ctx.save_for_backward(y if ctx.from_output else x, slope)
        return y

    @staticmethod
    def backward(ctx, grad):
        saved, slope = ctx.saved_tensors
        a = float(slope)
        if ctx.from_output:  # saved = y; x = y / a where y < 0
            grad_x = torch.ops.aten.leaky_relu_backward(grad, saved, a, True)
            grad_slope = torch.dot(saved.clamp(max=0).reshape(-1), grad.reshape(-1)) / a
        else:  # saved = x
            grad_x = torch.ops.aten.threshold_backward(grad, saved, 0)  # grad where x > 0
            negative = grad - grad_x
            grad_slope = torch.dot(negative.reshape(-1), saved.reshape(-1))
            grad_x.add_(negative, alpha=a)
        return grad_x, grad_slope.reshape(slope.shape).to(slope.dtype)


def prelu(x: torch.Tensor, act: nn.PReLU) -> torch.Tensor:
    """``act(x)`` for a PReLU with one slope or one per channel (the last dim here)."""
    if act.weight.numel() == 1:
        return _PReLU.apply(x, act.weight)
    # clamps rather than torch.where, which is ~10x slower on CPU here (4 x 500 x 256)
    return torch.addcmul(x.clamp(min=0), x.clamp(max=0), act.weight)


def encode_mask_decode(mixture: torch.Tensor, encoder: nn.Conv1d, decoder: nn.ConvTranspose1d,
                       masks, encoder_relu: bool) -> torch.Tensor:
    """sepcore/nn/tasnet.py's ``encode_mask_decode`` on channels-last activations: ``masks``
    maps the encoded ``[B, frames, N]`` to ``[B, frames, sources, N]``."""
    squeeze = mixture.dim() == 1
    if squeeze:
        mixture = mixture.unsqueeze(0)
    length = mixture.shape[-1]
    window, stride = encoder.kernel_size[0], encoder.stride[0]
    frames = max(1, -(-(length - window) // stride) + 1)
    w = encode(mixture, encoder, frames)  # [B, T, N]
    if encoder_relu:
        w = F.relu(w)
    out = decode(w.unsqueeze(2) * masks(w), decoder)[..., :length]
    return out[0] if squeeze else out


def encode(mixture: torch.Tensor, encoder: nn.Conv1d, frames: int) -> torch.Tensor:
    """The encoder conv on ``[B, samples]`` → channels-last ``[B, frames, N]``."""
    window, stride = encoder.kernel_size[0], encoder.stride[0]
    padded = (frames - 1) * stride + window
    x = F.pad(mixture, (0, padded - mixture.shape[-1]))
    return F.linear(x.unfold(-1, window, stride), encoder.weight.view(encoder.out_channels, -1))


def decode(masked: torch.Tensor, decoder: nn.ConvTranspose1d) -> torch.Tensor | None:
    """The decoder on ``[B, frames, S, N]`` → ``[B, S, (frames - 1) * stride + L]``.

    One matrix product makes every frame's ``L`` samples, :func:`overlap_add` adds them
    up (``F.fold`` where ``L`` is not twice the hop). None for decoders other than a
    one-channel, unpadded one (use the channels-first path).
    """
    channels, out_channels, window = decoder.weight.shape
    stride = decoder.stride[0]
    if out_channels != 1 or decoder.padding[0] or decoder.output_padding[0] \
            or decoder.dilation[0] != 1 or decoder.groups != 1:
        return None
    frames = torch.matmul(masked, decoder.weight.view(channels, window))  # [B, T, S, L]
    if window == 2 * stride:
        return overlap_add(frames, decoder)
    b, count, sources, _ = frames.shape
    out = overlap_add_frames(frames.permute(0, 2, 3, 1).reshape(b * sources, window, count),
                             stride).view(b, sources, -1)
    return out if decoder.bias is None else out + decoder.bias


def overlap_add(frames: torch.Tensor, decoder: nn.ConvTranspose1d) -> torch.Tensor:
    """Decoded frames ``[B, T, S, L]`` of a ``L = 2 * stride`` decoder → ``[B, S, samples]``:
    each output hop is the first half of one frame plus the second half of the previous
    (two shifted adds)."""
    b, count, sources, window = frames.shape
    stride = window // 2
    y = frames.view(b, count, sources, 2, stride)
    out = F.pad(y[:, :, :, 0], (0, 0, 0, 0, 0, 1)) + F.pad(y[:, :, :, 1], (0, 0, 0, 0, 1, 0))
    out = out.permute(0, 2, 1, 3).reshape(b, sources, (count + 1) * stride)
    if decoder.bias is not None:
        out = out + decoder.bias
    return out
