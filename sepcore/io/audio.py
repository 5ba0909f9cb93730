"""Audio reading and writing with soundfile; scp values may be paths or ``cmd |`` pipes."""

from __future__ import annotations

import io
import os
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from sepcore.errors import DataError
from sepcore.io.atomic import atomic_path


@dataclass
class Audio:
    """``data`` is float32, shape ``[frames]`` for mono or ``[frames, channels]``."""

    data: np.ndarray
    sample_rate: int
    subtype: str
    format: str = "WAV"

    @property
    def num_frames(self) -> int:
        return int(self.data.shape[0])

    @property
    def num_channels(self) -> int:
        return 1 if self.data.ndim == 1 else int(self.data.shape[1])


def is_pipe(spec: str) -> bool:
    return spec.rstrip().endswith("|")


def _run_pipe(spec: str) -> bytes:
    cmd = spec.rstrip()[:-1].strip()
    proc = subprocess.run(cmd, shell=True, capture_output=True)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise DataError(f"command {cmd!r} failed with exit code {proc.returncode}: {err[0]}")
    if not proc.stdout:
        raise DataError(f"command {cmd!r} wrote nothing to stdout (expected a wav file)")
    return proc.stdout


def read_audio(spec: str | os.PathLike, always_2d: bool = False) -> Audio:
    """Read a file path or an scp pipe (``cmd |``) into float32.

    Raises DataError naming the file for a missing, empty or undecodable input.
    """
    spec = str(spec)
    try:
        if is_pipe(spec):
            source: object = io.BytesIO(_run_pipe(spec))
        else:
            if not os.path.exists(spec):
                raise DataError(f"{spec}: audio file not found")
            if os.path.getsize(spec) == 0:
                raise DataError(f"{spec}: file is empty (0 bytes), expected audio")
            source = spec
        with sf.SoundFile(source) as f:
            data = f.read(dtype="float32", always_2d=always_2d)
            sample_rate, subtype, fmt = f.samplerate, f.subtype, f.format
    except DataError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise DataError(f"{spec}: cannot read as audio ({e})") from None
    except OSError as e:
        raise DataError(f"{spec}: cannot open ({e.strerror or e})") from None
    return Audio(data=data, sample_rate=int(sample_rate), subtype=subtype, format=fmt)


def audio_num_frames(spec: str | os.PathLike) -> int:
    """Length in frames from the header alone (pipes are run and decoded)."""
    spec = str(spec)
    if is_pipe(spec):
        return read_audio(spec).num_frames
    try:
        return int(sf.info(spec).frames)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise DataError(f"{spec}: cannot read audio header ({e})") from None


def write_audio(
    path: str | os.PathLike, data: np.ndarray, sample_rate: int, subtype: str = "PCM_16",
    format: str | None = None,
) -> None:
    """Write ``data`` ([frames] or [frames, channels]) atomically."""
    data = np.asarray(data)
    with atomic_path(path) as tmp:
        sf.write(tmp, data, int(sample_rate), subtype=subtype, format=format)


_INT_SUBTYPES = {"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32"}


def fit_to_range(estimates: np.ndarray, mixture: np.ndarray, subtype: str) -> np.ndarray:
    """Bring estimates ``[sources, frames(, channels)]`` to the mixture's level, unclipped.

    A scale-invariant loss leaves each output's gain arbitrary (Asteroid users see
    estimates at ±thousands). The gains ``g`` that make ``sum_i g_i * est_i`` closest
    to the mixture (least squares) restore the mixture's level; if that fails
    (a gain <= 0 or not finite, e.g. an estimate of silence) one common gain
    matching the mixture's RMS is used. Finally, if any sample would reach full
    scale, all estimates are scaled down together so the peak is 0.99.
    """
    est = np.nan_to_num(np.asarray(estimates, dtype=np.float64))
    mix = np.asarray(mixture, dtype=np.float64)
    n = est.shape[0]
    if est.size == 0 or not np.any(est):
        return est.astype(np.float32)
    a = est.reshape(n, -1).T  # [frames*channels, sources]
    b = mix.reshape(-1) if mix.size == a.shape[0] else None
    gains = None
    if b is not None and np.any(b):
        try:
            sol, *_ = np.linalg.lstsq(a, b, rcond=None)
            if np.all(np.isfinite(sol)) and np.all(sol > 0):
                gains = sol
        except np.linalg.LinAlgError:
            gains = None
        if gains is None:
            rms_mix = np.sqrt(np.mean(b**2))
            rms_est = np.sqrt(np.mean(a.sum(axis=1) ** 2)) or np.sqrt(np.mean(a**2))
            gains = np.full(n, rms_mix / rms_est if rms_est > 0 else 1.0)
    else:
        gains = np.ones(n)
    est = est * gains.reshape((n,) + (1,) * (est.ndim - 1))
    peak = float(np.max(np.abs(est)))
    limit = 0.99 if subtype in _INT_SUBTYPES or peak > 0.99 else None
    if limit is not None and peak > limit:
        est *= limit / peak
    return est.astype(np.float32)
