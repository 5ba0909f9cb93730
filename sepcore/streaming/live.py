"""Run a loaded model as a stream from a source to sinks, block by block, and time it.

Scaling (a scale-invariant loss leaves each output's gain arbitrary, see
:func:`sepcore.io.fit_to_range`): ``scale="end"`` applies sepcore-separate's rule
(projection gains and peak limit over the whole output) after the last block, so a
file streamed to files gives sepcore-separate's samples; it keeps the whole output in
memory until then (as sepcore-separate does), so only file outputs take it. A live
stream cannot look ahead: ``scale="running"`` uses the same projection gains computed
over the output so far (updated every block) and clips the rare sample beyond the
limit (0.99; the mixture's peak so far for float outputs), counting them;
``scale="none"`` writes the model's output as it is (PCM outputs clip at full scale,
counted). Models trained at the sources' scale (``match_levels`` false) keep their
levels in every mode; only the peak limit applies.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sepcore.errors import ConfigError, DataError
from sepcore.io.audio import fit_to_range, wav_subtype
from sepcore.streaming.audio import DeviceSink, FileSink, RawSink, open_source
from sepcore.streaming.engine import Stream

logger = logging.getLogger("sepcore.stream")

SCALES = ("end", "running", "none")


@dataclass
class StreamReport:
    sample_rate: int
    block: int                      # samples at the input's rate
    window_seconds: float           # the model's look-ahead
    samples: int = 0                # input samples streamed
    block_seconds: list = field(default_factory=list)  # compute time of each block
    cpu_seconds: float = 0.0        # the same in this thread's CPU time (others' load aside)
    late_blocks: int = 0
    clipped: int = 0

    @property
    def audio_seconds(self) -> float:
        return self.samples / self.sample_rate

    @property
    def latency_seconds(self) -> float:
        return self.window_seconds + self.block / self.sample_rate

    @property
    def real_time_factor(self) -> float:
        return sum(self.block_seconds) / self.audio_seconds if self.audio_seconds else 0.0

    def summary(self) -> str:
        times = self.block_seconds or [0.0]
        cpu = self.cpu_seconds / self.audio_seconds if self.audio_seconds else 0.0
        text = (f"real-time factor {self.real_time_factor:.3f} ({sum(times):.2f} s of compute "
                f"for {self.audio_seconds:.2f} s of audio; {cpu:.3f} in CPU time); per block of "
                f"{1000 * self.block / self.sample_rate:.1f} ms: mean "
                f"{1000 * float(np.mean(times)):.2f} ms, worst {1000 * max(times):.2f} ms")
        if self.late_blocks:
            text += (f"; {self.late_blocks} of {len(self.block_seconds)} blocks took longer "
                     f"than their duration")
        if self.clipped:
            text += f"; {self.clipped} samples clipped"
        return text


class RunningGain:
    """sepcore.io.fit_to_range's projection gains over everything streamed so far.

    ``match_levels=False`` (models trained at the sources' scale) keeps the levels and
    only clips.
    """

    def __init__(self, num_sources: int, limit: float, float_output: bool,
                 match_levels: bool = True):
        self.energy, self.dot = np.zeros(num_sources), np.zeros(num_sources)
        self.mix_energy, self.mix_peak = 0.0, 0.0
        self.limit, self.float_output, self.match_levels = limit, float_output, match_levels

    def __call__(self, est: np.ndarray, mix: np.ndarray) -> tuple[np.ndarray, int]:
        e, m = est.astype(np.float64), mix.astype(np.float64)
        self.energy += np.einsum("st,st->s", e, e)
        self.dot += e @ m
        self.mix_energy += float(m @ m)
        if m.size:
            self.mix_peak = max(self.mix_peak, float(np.abs(m).max()))
        gains = np.ones(len(self.energy))
        n = len(gains)
        for i in range(n if self.match_levels else 0):
            if self.energy[i] == 0.0 or self.mix_energy == 0.0:
                continue
            g = self.dot[i] / self.energy[i]
            if abs(g) * np.sqrt(self.energy[i]) < 0.01 * np.sqrt(self.mix_energy):
                g = np.sqrt(self.mix_energy / self.energy[i]) / n
            gains[i] = g
        return clip(est * gains[:, None].astype(np.float32),
                    max(self.limit, self.mix_peak) if self.float_output else self.limit)


def clip(x: np.ndarray, limit: float) -> tuple[np.ndarray, int]:
    over = int(np.count_nonzero(np.abs(x) > limit))
    return (np.clip(x, -limit, limit) if over else x), over


def run_stream(model, source, sinks: list, *, block_ms: float, scale: str,
               float_output: bool = False, log=logger.info) -> StreamReport:
    """Stream ``source`` through ``model`` (a SeparationModel) into ``sinks``.

    ``float_output``: the sinks hold float samples (no clipping at full scale needed
    with ``scale="none"``). ``log`` gets the latency line and the late-block warnings.
    """
    if scale not in SCALES:
        raise ConfigError(f"--scale {scale!r}: expected one of {', '.join(SCALES)}")
    if block_ms <= 0:
        raise ConfigError(f"--block-ms must be > 0, got {block_ms}")
    stream = Stream(model)
    stream.process(np.zeros(4 * stream.window, np.float32))  # first calls are slow: warm up
    stream.reset()
    rate, model_rate = source.sample_rate, model.sample_rate
    block = max(1, int(round(block_ms * rate / 1000)))
    report = StreamReport(rate, block, stream.window / model_rate)
    resample_in = resample_out = None
    if rate != model_rate:  # streamed resampling: close to, not the same as, whole-file soxr
        import soxr

        resample_in = soxr.ResampleStream(rate, model_rate, 1, dtype="float32", quality="HQ")
        resample_out = soxr.ResampleStream(model_rate, rate, stream.num_sources,
                                           dtype="float32", quality="HQ")
    mixdown = " (mixed down to mono)" if source.channels > 1 else ""
    log(f"model {model.path}: {model_rate} Hz, sources {' '.join(model.sources)}; input "
        f"{rate} Hz, {source.channels} channel(s){mixdown}")
    log(f"algorithmic latency {1000 * report.latency_seconds:.1f} ms (window "
        f"{1000 * report.window_seconds:.1f} ms + block {1000 * block / rate:.1f} ms)")
    match = getattr(model, "match_levels", True)
    gain = RunningGain(stream.num_sources, 0.99, float_output, match) if scale == "running" \
        else None
    kept_est, kept_mix = [], []
    pending_mix = np.zeros(0, np.float32)  # input not yet matched by output (running gain)
    written = 0

    def emit(est: np.ndarray, final: bool) -> None:
        nonlocal pending_mix, written
        total = report.samples
        if final:  # exactly the input's length (the resampler's last samples may be off by a few)
            est = est[:, :max(0, total - written)]
            est = np.pad(est, ((0, 0), (0, total - written - est.shape[1])))
        mix, pending_mix = pending_mix[:est.shape[1]], pending_mix[est.shape[1]:]
        written += est.shape[1]
        if scale == "end":
            kept_est.append(est)
            kept_mix.append(mix)
            return
        if gain is not None:
            est, over = gain(est, mix)
        else:
            est, over = (est, 0) if float_output else clip(est, 1.0)
        report.clipped += over
        for sink in sinks:
            sink.write(est)

    def to_numpy(out) -> np.ndarray:
        est = out.numpy()
        if resample_out is not None:
            est = resample_out.resample_chunk(np.ascontiguousarray(est.T), last=False).T
        return est

    while True:
        x = source.read(block)
        if x.shape[0] == 0:
            break
        t0, c0 = time.perf_counter(), time.thread_time()
        mono = x[:, 0] if x.shape[1] == 1 else x.mean(axis=1)
        model_in = mono if resample_in is None else resample_in.resample_chunk(mono)
        est = to_numpy(stream.process(model_in))
        dt = time.perf_counter() - t0
        report.cpu_seconds += time.thread_time() - c0
        report.block_seconds.append(dt)
        report.samples += x.shape[0]
        pending_mix = np.concatenate((pending_mix, mono))
        if dt > x.shape[0] / rate:
            report.late_blocks += 1
            if report.late_blocks <= 5:
                log(f"warning: block {len(report.block_seconds)} took {1000 * dt:.1f} ms, longer "
                    f"than its {1000 * x.shape[0] / rate:.1f} ms: not keeping up with real time")
        emit(est, False)
    if resample_in is not None:  # what the input resampler still holds
        rest = resample_in.resample_chunk(np.zeros(0, np.float32), last=True)
        emit(to_numpy(stream.process(rest)), False)
    tail = stream.finish().numpy()
    if resample_out is not None:
        tail = resample_out.resample_chunk(np.ascontiguousarray(tail.T), last=True).T
    emit(tail, True)
    if scale == "end":
        est = np.concatenate(kept_est, axis=1) if kept_est else \
            np.zeros((stream.num_sources, 0), np.float32)
        mix = np.concatenate(kept_mix) if kept_mix else np.zeros(0, np.float32)
        fit_to_range(est, mix, "FLOAT" if float_output else "PCM_16",
                             match_levels=match)
        for sink in sinks:
            sink.write(est)
    return report


def stream_command(model_path: str, input: str | None, *, block_ms: float = 16.0,
                   format: str | None = None, rate: int | None = None, channels: int = 1,
                   input_device: str | None = None, seconds: float = 0.0,
                   out_dir: str | None = None, stdout: bool = False,
                   out_format: str | None = None, output_device: str | None = None,
                   play: str | None = None, scale: str | None = None, force: bool = False,
                   num_threads: int = 1) -> int:
    """``sepcore-stream``: open the model, the input and the outputs, stream, report."""
    import torch

    from sepcore.api import load

    if num_threads < 1:
        raise ConfigError(f"--num-threads must be >= 1, got {num_threads}")
    torch.set_num_threads(num_threads)
    model = load(model_path)
    Stream(model)  # refuse a non-causal model before touching any input or output
    if model.postfilter is not None:
        logger.warning(
            "the model's post-filter (postfilter.enabled in its config) is not applied to a "
            "stream: its STFT looks %d samples ahead and its gain is fitted over a whole "
            "chunk; the outputs are the model's alone, those of sepcore-separate "
            "--postfilter false", model.postfilter["n_fft"])
    live = stdout or output_device is not None
    out_dir = out_dir or (None if live else "separated")
    scale = scale or ("running" if live else "end")
    if scale == "end" and live:
        raise ConfigError("--scale end rescales after the last block: it needs file outputs "
                          "only (--out-dir); use --scale running or none with --stdout or "
                          "--output-device")
    source_index = 0
    if play is not None:
        if play not in model.sources:
            raise ConfigError(f"--play {play!r}: the model's sources are "
                              f"{' '.join(model.sources)}")
        source_index = model.sources.index(play)
    if input_device is not None and rate is None:
        rate = model.sample_rate  # record at the model's rate: nothing to resample
    source = open_source(input, device=input_device, rate=rate, channels=channels, fmt=format,
                         seconds=seconds)
    sinks, floats = [], []  # whether each sink holds float samples (nothing clips)
    try:
        if out_dir is not None:
            subtype = wav_subtype(source.subtype)
            paths = [str(Path(out_dir) / f"{source.name}_{s}.wav") for s in model.sources]
            existing = [p for p in paths if os.path.exists(p)]
            if existing and not force:
                raise DataError(f"output {existing[0]} exists (use --force true to overwrite)")
            sinks.append(FileSink(paths, source.sample_rate, subtype))
            floats.append(subtype in ("FLOAT", "DOUBLE"))
        if stdout:
            fmt = out_format or format or "s16le"
            sinks.append(RawSink(sys.stdout.buffer, fmt))
            floats.append(fmt.startswith("f"))
        if output_device is not None:
            sinks.append(DeviceSink(output_device, source.sample_rate, source_index))
            floats.append(False)
        try:
            report = run_stream(model, source, sinks, block_ms=block_ms, scale=scale,
                                float_output=all(floats))
        except KeyboardInterrupt:  # a live stream ends with Ctrl-C: keep what was written
            logger.info("interrupted")
            report = None
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    finally:
        source.close()
    for sink in sinks:
        sink.close()
    if report is not None:
        logger.info(report.summary())
    if out_dir is not None:
        logger.info("wrote %s", ", ".join(str(p) for p in sinks[0].paths))
    return 0
