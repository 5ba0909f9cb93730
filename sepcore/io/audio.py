"""Audio reading and writing with soundfile; scp values may be paths or ``cmd |`` pipes."""

from __future__ import annotations

import io
import os
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from sepcore.errors import DataError, DiskFullError
from sepcore.io.atomic import atomic_paths, disk_full


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


def check_frames(audio: Audio, spec: str, utt: str, expected: int | None = None,
                 lengths_file: str | os.PathLike = "utt2num_samples", scp: str = "") -> Audio:
    """``audio`` if it has samples and (``expected`` given) that many frames, else a
    DataError naming ``spec``, the utterance and ``lengths_file``: a truncated or empty
    file is never separated into a short estimate or trained on as padding or silence."""
    of = f"utterance {utt!r}" + (f" of {scp}" if scp else "")
    if audio.num_frames == 0:
        raise DataError(f"{spec}: no samples (0 frames), {of}")
    if expected is not None and audio.num_frames != expected:
        raise DataError(
            f"{spec}: {audio.num_frames} frames, but {lengths_file} says {expected} for "
            f"{of} (truncated or damaged? if the audio was regenerated, delete "
            f"{lengths_file} and rerun utils/get_utt2num_samples.sh)")
    return audio


def audio_num_frames(spec: str | os.PathLike) -> int:
    """Length in frames from the header alone (pipes are run and decoded)."""
    spec = str(spec)
    if is_pipe(spec):
        return read_audio(spec).num_frames
    try:
        return int(sf.info(spec).frames)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise DataError(f"{spec}: cannot read audio header ({e})") from None


_BYTES = {"PCM_U8": 1, "PCM_S8": 1, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}


def write_audio(
    path: str | os.PathLike, data: np.ndarray, sample_rate: int, subtype: str = "PCM_16",
    format: str | None = None, exclusive: bool = False,
) -> None:
    """Write ``data`` ([frames] or [frames, channels]) atomically (see write_audio_set)."""
    write_audio_set([path], [data], sample_rate, subtype, format, exclusive)


def write_audio_set(
    paths: list[str | os.PathLike], arrays, sample_rate: int, subtype: str = "PCM_16",
    format: str | None = None, exclusive: bool = False,
) -> None:
    """Write ``arrays[i]`` to ``paths[i]``, all or none: each goes to a temporary file, and
    they are published together once all are written (sepcore.io.atomic.atomic_paths).
    ``exclusive``: an existing output is an error, never replaced. A DataError names the
    final file (not the temporary one), a full disk is ``disk full writing <file>``."""
    with atomic_paths(paths, exclusive=exclusive) as tmps:
        for path, tmp, data in zip(paths, tmps, arrays):
            data = np.asarray(data)
            try:
                sf.write(tmp, data, int(sample_rate), subtype=subtype, format=format)
            except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OSError) as e:
                needed = data.size * _BYTES.get(subtype, 2) - (
                    os.path.getsize(tmp) if os.path.exists(tmp) else 0)
                if disk_full(os.path.dirname(tmp) or ".", max(needed, 0)):
                    raise DiskFullError(f"disk full writing {path}") from None
                why = getattr(e, "error_string", None) or str(e)
                raise DataError(f"{path}: cannot write {format or 'audio'} with sample "
                                f"format {subtype} ({why})") from None


# Sample formats a WAV output keeps; libsndfile's check_format("WAV", "MPEG_LAYER_III")
# says yes, but writing a WAV that way fails ("unsupported encoding").
WAV_SUBTYPES = ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE")


def wav_subtype(subtype: str) -> str:
    """The input's sample format if it is PCM or float (WAV_SUBTYPES), else 16-bit PCM.

    Compressed inputs (mp3, ogg/vorbis, opus, and ADPCM/u-law/A-law codecs) give
    16-bit PCM WAV: libsndfile cannot write mp3 with a PCM subtype, and a decoded lossy
    file holds no more than 16 bits of information.
    """
    return subtype if subtype in WAV_SUBTYPES else "PCM_16"


def fit_to_range(
    estimates: np.ndarray, mixture: np.ndarray, subtype: str, block: int = 1 << 20,
    match_levels: bool = True, limit_peak: bool = True,
) -> np.ndarray:
    """Bring estimates ``[sources, frames(, channels)]`` to the mixture's level, unclipped.

    A scale-invariant loss leaves each output's gain (and sign) arbitrary: Asteroid
    users see estimates at ±thousands. Each estimate is projected onto the mixture,
    ``g = <est, mix> / <est, est>``, which for a good separation of uncorrelated
    sources is the gain that makes the estimates add up to the mixture, sign
    included. An estimate that is (nearly) orthogonal to the mixture gets the gain
    that gives it the mixture's RMS divided by the number of sources. Last, if any
    sample would reach full scale, all estimates are scaled down together so that
    the peak is 0.99 (for FLOAT files: the mixture's peak, if that is higher):
    nothing clips, and the sources keep their relative levels.

    Computed in place (a float32 ``estimates`` is scaled and returned; any other is
    first copied to float32) and in blocks of ``block`` frames, without the float64
    copies of the whole signal that a 60-minute file would pay several hundred MB for.
    ``estimates`` is ``[S, T(, C)]``, ``mixture`` ``[T(, C)]``.

    ``match_levels=False`` keeps the estimates' levels (models trained at the sources'
    scale, e.g. music stems, which add up to the mixture) and applies only the common
    peak limit; ``limit_peak=False`` skips the peak limit.
    """
    estimates = np.asarray(estimates)
    if estimates.dtype != np.float32 or not estimates.flags.writeable:
        estimates = estimates.astype(np.float32)
    est = estimates
    n, total = est.shape[0], est.shape[1]
    mix = np.asarray(mixture)
    same = mix.size * n == est.size
    energy, dot, peaks = np.zeros(n), np.zeros(n), np.zeros(n)
    mix_energy = mix_peak = 0.0
    for t0 in range(0, total, block):
        blk = est[:, t0:t0 + block]
        np.nan_to_num(blk, copy=False)
        a = blk.reshape(n, -1).astype(np.float64)
        if a.size == 0:
            continue
        energy += np.einsum("st,st->s", a, a)
        peaks = np.maximum(peaks, np.abs(a).max(axis=1))
        if same:
            b = mix[t0:t0 + block].reshape(-1).astype(np.float64)
            dot += a @ b
            mix_energy += float(b @ b)
            mix_peak = max(mix_peak, float(np.abs(b).max()))
    if not same and mix.size:
        mix_peak = float(np.abs(mix).max())
    gains = np.ones(n)
    for i in range(n if match_levels else 0):
        if energy[i] == 0.0 or mix_energy == 0.0:
            continue
        g = dot[i] / energy[i]
        if abs(g) * np.sqrt(energy[i]) < 0.01 * np.sqrt(mix_energy):  # orthogonal to the mix
            g = np.sqrt(mix_energy / energy[i]) / n
        gains[i] = g
    limit = 0.99
    if subtype in ("FLOAT", "DOUBLE") and mix.size:  # float files may exceed full scale
        limit = max(limit, mix_peak)
    peak = float(np.max(np.abs(gains) * peaks)) if est.size else 0.0
    if peak > limit and limit_peak:
        gains = gains * (limit / peak)
    for i in range(n):
        est[i] *= np.float32(gains[i])
    return est
