"""Noisy speech mixed on the fly: clean speech + noise at a random SNR and level.

``NoisyDataset`` (``data.dataset: noisy``) draws, for every training segment, a random
window of a clean utterance (``spk1.scp`` of the training data dir) and a random window
of a noise file, scales the noise to an SNR drawn uniformly from ``data.snr_range`` (dB,
speech power over noise power of the segment) and the mixture to a level drawn uniformly
from ``data.target_level`` (dBFS, RMS of the mixture), as the DNS Challenge synthesizer
does (Reddy et al. 2020: SNR 0-40 dB, target level -35 to -15 dBFS). It yields
``(mixture [time], sources [1, time])``. Randomness is derived from ``(seed, epoch, index)`` as in
``SegmentDataset``, so a resumed run sees the same batches.

The noise pool (``data.noise``) is a data dir whose ``wav.scp`` lists noise recordings
or a folder searched recursively for audio files. A noise shorter than the segment is
repeated (the DNS synthesizer concatenates noise clips the same way); a clean utterance
shorter than the segment is an error by default (``data.short_targets: error``), or is
left out (``drop``) or zero-padded at a random offset (``pad``).

Two augmentations of the noise, off by default, widen a small noise pool (the DNS
synthesizer draws from ~65,000 clips; a local corpus has a few hundred): ``data.
noise_layers: N`` sums 1 to N windows of random noise files (each added one 0 to 6 dB
below the first), and ``data.noise_tilt: [lo, hi]`` gives the noise a random spectral
slope, uniform in [lo, hi] dB per octave of power (0: unchanged, -3: white becomes pink,
+3: blue), as random coloured-noise augmentation does (e.g. torch-audiomentations'
``AddColoredNoise``, its power decay f^-β with β in [-2, 2] is ±6 dB per octave).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from sepcore.data.datadir import DataDir
from sepcore.data.dataset import MIN_SOURCE_RMS, check_range, read_segment
from sepcore.data.speech import PEAK, CleanSpeechDataset
from sepcore.errors import ConfigError, DataError
from sepcore.io.audio import audio_num_frames
from sepcore.io.scp import read_scp

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
SHORT_TARGETS = ("error", "drop", "pad")


def noise_files(noise: str | os.PathLike) -> list[str]:
    """The noise pool: a data dir's ``wav.scp`` values or the audio files under a folder."""
    path = Path(noise)
    if not path.exists():
        raise DataError(f"{path}: noise data dir or folder not found (data.noise)")
    if (path / "wav.scp").is_file():
        files = [spec for _, spec in read_scp(path / "wav.scp", paths=True)]
        what = f"{path / 'wav.scp'}: no noise recordings listed"
    elif path.is_dir():
        files = sorted(str(p) for p in path.rglob("*")
                       if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        what = f"{path}: no audio files ({', '.join(AUDIO_SUFFIXES)}) in the noise folder"
    else:
        raise DataError(f"{path}: data.noise must be a data dir (with wav.scp) or a folder")
    if not files:
        raise DataError(what + " (data.noise)")
    return files


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr: float,
               level: float | None = None, peak: float = PEAK) -> tuple[np.ndarray, np.ndarray]:
    """``(speech, noise)`` scaled so that speech power / noise power is ``snr`` dB.

    The noise is scaled to the speech; with ``level`` (dBFS) both are then scaled so the
    mixture's RMS is ``level``. Both are scaled down together where the mixture's peak
    would pass ``peak``, which leaves the SNR as it is.
    """
    speech = np.asarray(speech, dtype=np.float64)
    noise = np.asarray(noise, dtype=np.float64)
    ps, pn = float(np.mean(speech**2)), float(np.mean(noise**2))
    if ps <= 0 or pn <= 0:
        raise DataError("mix_at_snr: silent speech or noise (no SNR can be set)")
    noise = noise * np.sqrt(ps / pn) * 10 ** (-snr / 20)
    gain = 1.0
    if level is not None:
        gain = 10 ** (level / 20) / np.sqrt(np.mean((speech + noise) ** 2))
    top = np.abs(speech + noise).max() * gain
    if top > peak:
        gain *= peak / top
    return speech * gain, noise * gain


def tilt(x: np.ndarray, slope: float, sample_rate: int, ref_hz: float = 1000.0) -> np.ndarray:
    """``x`` with its power spectrum multiplied by ``(f / ref_hz) ** (slope / 3.01)``:
    ``slope`` dB per octave, 0 dB at ``ref_hz`` (the DC bin gets the lowest bin's gain)."""
    X = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / sample_rate)
    f[0] = f[1] if len(f) > 1 else ref_hz
    return np.fft.irfft(X * (f / ref_hz) ** (slope / (20 * np.log10(2))), n=len(x))


class NoisyDataset(CleanSpeechDataset):
    def __init__(
        self,
        datadir: DataDir,
        noise: str | os.PathLike,
        segment: float,
        sample_rate: int,
        seed: int = 0,
        epoch_size: int | None = None,
        snr_range=(0.0, 40.0),
        target_level=(-35.0, -15.0),
        short_targets: str = "error",
        noise_layers: int = 1,
        noise_tilt=None,
    ):
        super().__init__(datadir, segment, sample_rate, seed, epoch_size, target_level,
                         "noisy mixing")
        if short_targets not in SHORT_TARGETS:
            raise ConfigError(f"data.short_targets: expected one of {', '.join(SHORT_TARGETS)}, "
                              f"got {short_targets!r}")
        self.snr_range = check_range(snr_range, "data.snr_range")
        if isinstance(noise_layers, bool) or not isinstance(noise_layers, int) or noise_layers < 1:
            raise ConfigError(f"data.noise_layers: expected an integer >= 1 (noise windows "
                              f"summed), got {noise_layers!r}")
        self.noise_layers = noise_layers
        self.noise_tilt = (None if noise_tilt is None
                           else check_range(noise_tilt, "data.noise_tilt", -12.0, 12.0))
        self.short_targets = short_targets
        short = [i for i, n in enumerate(self.speech_len) if n < self.segment]
        if short and short_targets == "error":
            i = short[0]
            raise DataError(
                f"{datadir.path}/spk1.scp: {datadir.utts[i]!r} ({self.speech[i]}) has "
                f"{self.speech_len[i]} samples, shorter than data.segment "
                f"({segment} s = {self.segment} samples)"
                + (f"; {len(short) - 1} more are short" if len(short) > 1 else "")
                + "; use a shorter data.segment or data.short_targets drop|pad"
            )
        if short_targets == "drop":
            keep = [i for i, n in enumerate(self.speech_len) if n >= self.segment]
            if not keep:
                raise DataError(f"{datadir.path}/spk1.scp: every utterance is shorter than "
                                f"data.segment ({segment} s)")
            self.speech = [self.speech[i] for i in keep]
            self.speech_len = [self.speech_len[i] for i in keep]

        self.noise = noise_files(noise)
        self.noise_len = [audio_num_frames(f) for f in self.noise]
        empty = [f for f, n in zip(self.noise, self.noise_len) if n == 0]
        if empty:
            raise DataError(f"{empty[0]}: noise file has no samples (data.noise {noise})")

    def _noise(self, rng: np.random.Generator) -> np.ndarray:
        for _ in range(100):
            i = int(rng.integers(0, len(self.noise)))
            n = self.noise_len[i]
            if n >= self.segment:
                start = int(rng.integers(0, n - self.segment + 1))
                out = read_segment(self.noise[i], start, start + self.segment, self.sample_rate)
            else:
                clip = read_segment(self.noise[i], 0, n, self.sample_rate)
                reps = -(-self.segment // n) + 1
                start = int(rng.integers(0, n))
                out = np.tile(clip, reps)[start:start + self.segment]
            if np.sqrt(np.mean(out**2)) >= MIN_SOURCE_RMS:
                return out.astype(np.float32)
        raise DataError(f"noise pool ({len(self.noise)} files): could not draw a non-silent "
                        f"noise segment")

    def _augmented_noise(self, rng: np.random.Generator) -> np.ndarray:
        noise = self._noise(rng)
        if self.noise_layers > 1:  # (no draw at all with 1: the same examples as before)
            noise = noise.astype(np.float64)
            power = float(np.mean(noise**2))
            for _ in range(int(rng.integers(1, self.noise_layers + 1)) - 1):
                extra = self._noise(rng)
                gain = np.sqrt(power / np.mean(extra**2)) * 10 ** (-rng.uniform(0, 6) / 20)
                noise = noise + gain * extra
        if self.noise_tilt is not None:
            noise = tilt(noise, rng.uniform(*self.noise_tilt), self.sample_rate)
        return noise

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = self._rng(index)
        speech, noise = self._speech(rng), self._augmented_noise(rng)
        snr = rng.uniform(*self.snr_range)
        level = rng.uniform(*self.target_level)
        speech, noise = mix_at_snr(speech, noise, snr, level)
        return (torch.from_numpy((speech + noise).astype(np.float32)),
                torch.from_numpy(speech[None].astype(np.float32)))


def noisy_dataset(datadir: DataDir, data_cfg: dict, *, sample_rate: int,
                  seed: int) -> NoisyDataset:
    """The ``noisy`` dataset of sepcore/data/registry.py, from the config's data section."""
    if not data_cfg["noise"]:
        raise ConfigError("data.dataset noisy needs data.noise (a noise data dir or folder)")
    return NoisyDataset(
        datadir, data_cfg["noise"], segment=data_cfg["segment"], sample_rate=sample_rate,
        seed=seed, epoch_size=data_cfg["epoch_size"], snr_range=data_cfg["snr_range"],
        target_level=data_cfg["target_level"], short_targets=data_cfg["short_targets"],
        noise_layers=data_cfg["noise_layers"], noise_tilt=data_cfg["noise_tilt"],
    )
