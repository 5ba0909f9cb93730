"""Chunked separation with overlap-add: memory does not grow with the input's length.

A long input is cut into windows of ``window`` samples, ``hop`` apart; the model
separates each window on its own; the estimates are cross-faded into one
preallocated output. Only the output itself is O(length); the model's
activations are O(window).

How two neighbouring chunks are joined. Their overlap is ``overlap = window - hop``
samples. An output sample needs ``rf`` samples of context on each side (the
model's receptive field); near a chunk's cut edge that context is missing, so
within the overlap the first ``guard`` samples come from the earlier chunk only,
the last ``guard`` samples from the later chunk only, and the ``fade`` samples in
between are cross-faded with complementary sin²/cos² weights (they sum to 1
exactly). With ``guard >= rf`` every output sample is computed with its full
context, so for a model whose receptive field fits in the overlap (and which
has no global operation such as a global layer norm) the chunked result equals
the unchunked one up to float rounding (tested).

Separation models output their sources in an arbitrary order (permutation
invariant training), and that order may change from one chunk to the next; each
chunk's sources are reordered to best match the previous chunk by normalised
correlation over their overlap (Hungarian assignment).

An input of up to 60 s (``whole_seconds``) is separated in one pass, as
separation models are usually evaluated: a global layer norm or DPRNN's
inter-chunk RNN then sees the whole utterance, the time per second of audio does
not grow with the length up to there (no overlap is computed twice), and memory
stays bounded (at 60 s, 0.07-1.2 GB for each model at its defaults; bench/README.md).
A model with a ``chunk_seconds`` attribute bounds it at two of its chunks.
Defaults for longer inputs, derived from the receptive field ``rf`` (samples
per side, capped at 2 s for models with a global context such as DPRNN's
inter-chunk RNN):
``guard = rf``, ``fade = max(rf // 2, 50 ms)``, ``overlap = 2 * guard + fade``,
``window = max(4 s, 8 * overlap)``, ``hop = window - overlap`` — so at most a
seventh of the work is repeated (the earlier window of 4 overlaps repeated up to a
third). A model with a ``chunk_seconds`` attribute (e.g. ``umx``, whose chunks are
spectrogram-sized) caps that window, at no less than two overlaps.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from sepcore.errors import ConfigError
from sepcore.permutation import best_permutation as solve_permutation
from sepcore.precision import autocast

logger = logging.getLogger(__name__)

# Inputs up to this long are separated in one pass by default (memory stays bounded).
DEFAULT_WHOLE_SECONDS = 60.0

# A function returning the input samples [start, stop) as float32 [stop - start].
Reader = Callable[[int, int], np.ndarray]


@dataclass(frozen=True)
class ChunkPlan:
    """Window geometry, all in samples at the model's rate.

    An input of at most ``whole`` samples is separated in one pass, as the
    models are evaluated in the literature (a global layer norm or DPRNN's
    inter-chunk RNN then sees the whole utterance); longer ones in chunks.
    """

    window: int
    hop: int
    guard: int
    whole: int = 0

    @property
    def overlap(self) -> int:
        return self.window - self.hop


class ModelWrapper(torch.nn.Module):
    """Base of a module that runs ``model`` and post-processes its output (the Wiener
    filter, the post-filter): it keeps the attributes :func:`plan_chunks` and the
    separators read (``audio_channels``, ``stride``, ``chunk_seconds``,
    ``receptive_field()``) of the model it wraps; ``extra_context`` samples per side are
    added to the receptive field."""

    extra_context = 0

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model
        self.audio_channels = getattr(model, "audio_channels", 1)
        self.stride = getattr(model, "stride", 1)
        self.chunk_seconds = getattr(model, "chunk_seconds", None)

    def receptive_field(self):
        fn = getattr(self.model, "receptive_field", None)
        rf = fn() if callable(fn) else None
        return rf if rf is None or not self.extra_context else rf + self.extra_context


def model_receptive_field(model: torch.nn.Module, sample_rate: int) -> int:
    """Samples of context per side, from ``model.receptive_field()``; capped at 2 s.

    A model without the method, or one that reports an unbounded field (None,
    inf), gets 1 s.
    """
    rf = None
    fn = getattr(model, "receptive_field", None)
    if callable(fn):
        try:
            rf = fn()
        except (NotImplementedError, TypeError):
            rf = None
    if rf is None or not math.isfinite(float(rf)) or rf < 0:
        rf = sample_rate
    return int(min(int(rf), 2 * sample_rate))


def plan_chunks(
    model: torch.nn.Module,
    sample_rate: int,
    window_seconds: float | None = None,
    hop_seconds: float | None = None,
    whole_seconds: float | None = None,
) -> ChunkPlan:
    """Window and hop in samples; the defaults come from the model's receptive field.

    ``whole_seconds`` (default: 60 s, or two of the model's ``chunk_seconds`` if
    shorter, or 0 when ``window_seconds`` is given) is the longest input separated in
    one pass.
    """
    rf = model_receptive_field(model, sample_rate)
    stride = int(getattr(model, "stride", 1) or 1)
    if window_seconds is not None and window_seconds <= 0:
        raise ConfigError(f"window length must be > 0 seconds, got {window_seconds}")
    if hop_seconds is not None and hop_seconds <= 0:
        raise ConfigError(f"hop must be > 0 seconds, got {hop_seconds}")
    fade = max(rf // 2, int(0.05 * sample_rate))
    default_overlap = 2 * rf + fade
    if window_seconds is None:
        window = max(int(4 * sample_rate), 8 * default_overlap)
        cap = getattr(model, "chunk_seconds", None)  # a model's bound on memory per chunk
        if cap:
            window = min(window, max(int(cap * sample_rate), 2 * default_overlap))
        window = -(-window // stride) * stride
    else:
        window = int(round(window_seconds * sample_rate))
    if hop_seconds is None:
        overlap = default_overlap
        if window_seconds is not None:
            overlap = min(overlap, window // 2)
        hop = window - overlap
        hop = max(stride, hop - hop % stride)
    else:
        hop = int(round(hop_seconds * sample_rate))
    if hop > window or 2 * hop < window:
        raise ConfigError(
            f"hop ({hop / sample_rate:g} s) must be between half the window and the window "
            f"({window / sample_rate:g} s)"
        )
    if hop < 1 or window < 1:
        raise ConfigError(f"window ({window}) and hop ({hop}) must be at least one sample")
    overlap = window - hop
    if overlap >= 2 * rf:
        guard = rf
    else:
        guard = overlap // 4
        logger.warning(
            "overlap of %d samples is shorter than twice the model's receptive field (%d): "
            "chunk edges will differ slightly from whole-file separation",
            overlap, rf,
        )
    if whole_seconds is None:
        whole_seconds = DEFAULT_WHOLE_SECONDS if window_seconds is None else 0.0
        cap = getattr(model, "chunk_seconds", None)
        if cap:
            whole_seconds = min(whole_seconds, 2 * cap)
    return ChunkPlan(window=window, hop=hop, guard=guard,
                     whole=max(0, int(round(whole_seconds * sample_rate))))


def chunk_bounds(num_frames: int, plan: ChunkPlan) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``[0, num_frames)``, starts ``hop`` apart.

    Every chunk is ``window`` long except the last, which ends at the input's end
    and is still longer than the overlap.
    """
    if num_frames <= plan.whole:
        return [(0, num_frames)]
    bounds = []
    start = 0
    while True:
        stop = min(start + plan.window, num_frames)
        bounds.append((start, stop))
        if stop >= num_frames:
            return bounds
        start += plan.hop


def _ramp(length: int, guard: int, dtype=np.float32) -> np.ndarray:
    """Fade-in weights over an overlap: 0 for ``guard``, sin² rise, 1 for ``guard``."""
    g = min(guard, length // 2)
    fade = length - 2 * g
    w = np.zeros(length, dtype=np.float64)
    if fade > 0:
        u = (np.arange(fade, dtype=np.float64) + 0.5) / fade
        w[g:g + fade] = np.sin(0.5 * np.pi * u) ** 2
    w[g + fade:] = 1.0
    return w.astype(dtype)


def source_correlation(a: np.ndarray, b: np.ndarray, block: int = 1 << 20) -> np.ndarray:
    """Normalised correlation ``[S(a), S(b)]`` of two ``[S, T]`` arrays, in blocks of time."""
    num = np.zeros((a.shape[0], b.shape[0]))
    na, nb = np.zeros(a.shape[0]), np.zeros(b.shape[0])
    for t0 in range(0, a.shape[1], block):
        x = a[:, t0:t0 + block].astype(np.float64)
        y = b[:, t0:t0 + block].astype(np.float64)
        num += x @ y.T
        na += np.einsum("st,st->s", x, x)
        nb += np.einsum("st,st->s", y, y)
    return num / np.maximum(np.sqrt(na)[:, None] * np.sqrt(nb)[None, :], 1e-12)


def best_permutation(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Order of ``cur``'s sources [S, T] that best matches ``prev`` [S, T].

    Returns ``perm`` such that ``cur[perm]`` lines up with ``prev`` (the most correlated
    assignment, sepcore/permutation.py); identity when the overlap carries no
    information (silence).
    """
    corr = source_correlation(prev, cur)  # [S(prev), S(cur)]
    perm = np.asarray(solve_permutation(corr.T), dtype=np.int64)
    identity = np.arange(corr.shape[0])
    # keep the current order on near-ties (e.g. silence), so nothing flips needlessly
    if corr[identity, identity].sum() >= corr[identity, perm].sum() - 1e-9:
        return identity
    return perm


def audio_channels(model: torch.nn.Module) -> int:
    """Channels a model takes: its ``audio_channels`` attribute (absent or 1: mono).

    A mono model maps ``[batch, time]`` to ``[batch, sources, time]``; a model with
    ``audio_channels = C > 1`` (e.g. stereo music models) maps ``[batch, C, time]`` to
    ``[batch, sources, C, time]``.
    """
    c = getattr(model, "audio_channels", 1)
    return int(c) if c else 1


@torch.inference_mode()
def separate_chunked(
    model: torch.nn.Module,
    read: Reader | np.ndarray | torch.Tensor,
    num_frames: int | None = None,
    plan: ChunkPlan | None = None,
    *,
    sample_rate: int | None = None,
    device: str | torch.device = "cpu",
    align: bool = True,
    out: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
    precision: str = "fp32",
) -> np.ndarray:
    """Separate a signal chunk by chunk; returns float32 ``[S, num_frames(, C)]``.

    For a mono model the signal is ``[T]``; for a model with ``audio_channels = C > 1``
    it is ``[T, C]`` (time first, as soundfile reads it) and the result
    ``[S, T, C]``. ``read`` is either the whole signal (array or tensor) or a
    function ``read(start, stop)`` that returns those samples (so a file can be
    streamed). ``plan`` defaults to :func:`plan_chunks` (``sample_rate`` is then
    required). ``out`` may be a preallocated float32 array of the result's shape to
    fill. ``align`` reorders each chunk's sources to match the previous chunk (turn it
    off for models with a fixed source order, e.g. music stems). ``precision`` ``bf16``
    runs the model under bfloat16 autocast (sepcore/precision.py; already resolved).
    """
    channels = audio_channels(model)
    shape = "[T]" if channels == 1 else f"[T, {channels}]"
    if isinstance(read, (np.ndarray, torch.Tensor)):
        signal = read.detach().cpu().numpy() if isinstance(read, torch.Tensor) else read
        if (channels == 1 and signal.ndim != 1) or (
                channels > 1 and (signal.ndim != 2 or signal.shape[1] != channels)):
            raise ValueError(f"separate_chunked expects a {shape} signal for this model, "
                             f"got shape {signal.shape}")
        num_frames = signal.shape[0]
        def read(start: int, stop: int, _s=signal) -> np.ndarray:  # noqa: E306
            return _s[start:stop]
    if num_frames is None:
        raise ValueError("num_frames is required when read is a function")
    if plan is None:
        if sample_rate is None:
            raise ValueError("give either plan or sample_rate")
        plan = plan_chunks(model, sample_rate)
    device = torch.device(device)
    tail = () if channels == 1 else (channels,)
    if num_frames == 0:
        n = int(getattr(model, "num_sources", 1))
        return out if out is not None else np.zeros((n, 0) + tail, dtype=np.float32)
    bounds = chunk_bounds(num_frames, plan)
    prev_tail: np.ndarray | None = None  # previous chunk's aligned estimates over the overlap
    prev_stop = 0
    for k, (start, stop) in enumerate(bounds):
        n = stop - start
        x = np.ascontiguousarray(read(start, stop), dtype=np.float32)
        if x.shape != (n,) + tail:
            raise ValueError(f"reader returned shape {x.shape} for [{start}, {stop}), "
                             f"expected {(n,) + tail}")
        xt = torch.from_numpy(x).to(device)
        xt = xt.unsqueeze(0) if channels == 1 else xt.T.unsqueeze(0)  # [1(, C), n]
        with autocast(precision, device):
            y = model(xt)
        want = f"[1, S, {n}]" if channels == 1 else f"[1, S, {channels}, {n}]"
        if y.dim() != 3 + len(tail) or y.shape[0] != 1 or y.shape[-1] != n or (
                tail and y.shape[2] != channels):
            raise ValueError(f"model output has shape {tuple(y.shape)}, expected {want}")
        y = y[0].float().cpu().numpy()
        if tail:
            y = y.transpose(0, 2, 1)  # [S, n, C], the layout of the output
        if out is None:
            out = np.zeros((y.shape[0], num_frames) + tail, dtype=np.float32)
        elif out.shape != (y.shape[0], num_frames) + tail:
            raise ValueError(f"out has shape {out.shape}, expected "
                             f"{(y.shape[0], num_frames) + tail}")
        ov = prev_stop - start if k > 0 else 0
        if align and prev_tail is not None and ov > 0 and y.shape[0] > 1:
            perm = best_permutation(prev_tail.reshape(y.shape[0], -1),
                                    y[:, :ov].reshape(y.shape[0], -1))
            y = y[perm]
        nxt = bounds[k + 1][0] if k + 1 < len(bounds) else stop
        w = np.ones(n, dtype=np.float32)
        if ov > 0:
            w[:ov] = _ramp(ov, plan.guard)
        if nxt < stop:
            w[nxt - start:] *= 1.0 - _ramp(stop - nxt, plan.guard)
        prev_tail = y[:, nxt - start:].copy() if nxt < stop else None
        y *= w.reshape((n,) + (1,) * len(tail))
        done = max(min(prev_stop, stop), start)  # [start, done) already holds earlier chunks
        out[:, start:done] += y[:, :done - start]
        out[:, done:stop] = y[:, done - start:]
        prev_stop = stop
        if progress is not None:
            progress(k + 1, len(bounds))
    return out
