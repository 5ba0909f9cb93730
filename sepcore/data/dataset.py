"""Datasets over a data dir.

``SegmentDataset`` yields random fixed-length training segments, either from the
fixed mixtures of the data dir or, with ``dynamic_mixing``, from new mixtures of
the sources of different utterances (different speakers where ``utt2spks`` or
``utt2spk`` tell them apart) with random relative levels. Randomness is derived
from ``(seed, epoch, index)``, so a resumed run sees exactly the batches the
killed run would have seen.

``UtteranceDataset`` yields whole utterances for validation and test.
"""

from __future__ import annotations

import logging

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import Dataset

from sepcore.data.datadir import DataDir
from sepcore.errors import ConfigError, DataError
from sepcore.io.audio import audio_num_frames, is_pipe, read_audio
from sepcore.resample import resample

MIN_SOURCE_RMS = 1e-4


def check_range(value, option: str, low: float | None = None, high: float | None = None):
    """``[lo, hi]`` of two numbers with lo <= hi (inside [low, high] if given)."""
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise ConfigError(f"{option}: expected [low, high] (two numbers), got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if lo > hi:
        raise ConfigError(f"{option}: range [{value[0]}, {value[1]}] is backwards "
                          f"(expected [low, high] with low <= high)")
    if (low is not None and lo < low) or (high is not None and hi > high):
        raise ConfigError(f"{option}: [{value[0]}, {value[1]}] must lie within [{low}, {high}]")
    return lo, hi


def read_segment(spec: str, start: int, stop: int, sample_rate: int) -> np.ndarray:
    """Mono float32 samples ``[start, stop)`` of a file or pipe.

    Fewer samples than asked (a file shorter than its ``utt2num_samples`` or than its
    mixture: truncated, or damaged) is a DataError naming it, never silent zero padding."""
    if is_pipe(spec):
        audio = read_audio(spec)
        data, sr = audio.data, audio.sample_rate
        data = data[start:stop]
    else:
        try:
            data, sr = sf.read(spec, start=start, stop=stop, dtype="float32")
        except (sf.LibsndfileError, RuntimeError) as e:
            raise DataError(f"{spec}: cannot read audio ({e})") from None
    if sr != sample_rate:
        raise DataError(
            f"{spec}: sample rate {sr} Hz, expected {sample_rate} Hz (data.sample_rate)"
        )
    if data.ndim == 2:
        if data.shape[1] != 1:
            raise DataError(f"{spec}: {data.shape[1]} channels, expected mono")
        data = data[:, 0]
    if len(data) < stop - start:
        raise DataError(
            f"{spec}: read {len(data)} samples from sample {start}, expected {stop - start} "
            f"(the file ends before sample {stop}, its length in utt2num_samples or that of "
            "its mixture: truncated or damaged?)")
    return data


class _Lengths:
    def __init__(self, datadir: DataDir):
        self.datadir = datadir
        self.cache = dict(datadir.num_samples or {})

    def __getitem__(self, utt: str) -> int:
        if utt not in self.cache:
            self.cache[utt] = audio_num_frames(self.datadir.wav[utt])
        if self.cache[utt] <= 0:
            where = (f"{self.datadir.path / 'utt2num_samples'}: {utt}"
                     if utt in (self.datadir.num_samples or {}) else self.datadir.wav[utt])
            raise DataError(f"{where}: utterance {utt!r} has no samples (0 frames)")
        return self.cache[utt]


class EpochDataset(Dataset):
    """Base of the training datasets: ``epoch_size`` examples an epoch, each drawn with
    the generator of ``(seed, epoch, index)``, so a resumed run sees the same batches.
    Subclasses set ``seed`` and ``epoch_size``; the trainer calls ``set_epoch``."""

    seed: int
    epoch_size: int
    epoch: int

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.epoch_size

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, index])


class SegmentDataset(EpochDataset):
    """Random fixed-length training examples ``(mixture [T], sources [S, T])`` of a data dir.

    Args:
        datadir: the training data dir (needs spk1..N.scp).
        segment: example length in seconds; shorter utterances are zero-padded at a
            random offset.
        sample_rate: the data's rate (checked on every read).
        seed: with the epoch and the index, decides every random choice.
        dynamic_mixing: mix the sources of different utterances (and speakers, where
            utt2spks or utt2spk tell them) at random levels instead of reading the
            data dir's mixtures.
        epoch_size: examples per epoch (default: the number of utterances).
        mix_snr_range: with dynamic mixing, each source but the first is set to a
            level uniform in +-this many dB relative to the first.
        speed_perturb: with dynamic mixing, ``[lo, hi]``: each source played at a speed
            drawn log-uniformly from the range (resampled: tempo and pitch together,
            Ko et al. 2015's speed perturbation, as SpeechBrain's dynamic mixing does),
            new voices from the same speakers; None: off.
    """

    def __init__(
        self,
        datadir: DataDir,
        segment: float,
        sample_rate: int,
        seed: int = 0,
        dynamic_mixing: bool = False,
        epoch_size: int | None = None,
        mix_snr_range: float = 5.0,
        speed_perturb: tuple[float, float] | list[float] | None = None,
    ):
        if datadir.num_sources == 0:
            raise DataError(f"{datadir.path}: training needs spk1.scp..spkN.scp")
        self.datadir = datadir
        self.segment = int(round(segment * sample_rate))
        self.sample_rate = sample_rate
        self.seed = seed
        self.dynamic_mixing = dynamic_mixing
        self.epoch_size = epoch_size or len(datadir)
        self.mix_snr_range = mix_snr_range
        self.speed = None
        if speed_perturb is not None:
            if not dynamic_mixing:
                raise ConfigError("data.speed_perturb needs data.dynamic_mixing true (it "
                                  "perturbs the sources of new mixtures)")
            self.speed = check_range(speed_perturb, "data.speed_perturb", 0.5, 2.0)
        self.epoch = 0
        self.lengths = _Lengths(datadir)
        if dynamic_mixing:
            self._build_pool()

    def _build_pool(self) -> None:
        """Every (utterance, source index) with its speaker label."""
        dd = self.datadir
        self.pool: list[tuple[str, int]] = []
        self.pool_speaker: list[str] = []
        for utt in dd.utts:
            for k in range(dd.num_sources):
                self.pool.append((utt, k))
                if dd.utt2spks is not None:
                    self.pool_speaker.append(dd.utt2spks[utt][k])
                elif dd.utt2spk is not None and k == 0:
                    self.pool_speaker.append(dd.utt2spk[utt])
                else:
                    self.pool_speaker.append(f"{utt}/{k}")
        speakers = set(self.pool_speaker)
        if len(speakers) < dd.num_sources:
            raise DataError(
                f"{dd.path}: dynamic mixing needs at least {dd.num_sources} speakers, "
                f"found {len(speakers)}"
            )

    def _window(self, rng: np.random.Generator, length: int,
                size: int | None = None) -> tuple[int, int, int]:
        """(start in file, stop in file, offset in segment) of a random segment (of
        ``size`` samples; default: the segment)."""
        size = size or self.segment
        if length >= size:
            start = int(rng.integers(0, length - size + 1))
            return start, start + size, 0
        return 0, length, int(rng.integers(0, size - length + 1))

    def _read_source(self, rng: np.random.Generator, utt: str, k: int) -> np.ndarray:
        """A random segment of source ``k`` of ``utt``, at a random speed if perturbed."""
        rate = self.sample_rate
        size = self.segment
        if self.speed is not None:
            lo, hi = np.log(self.speed)
            rate = int(round(self.sample_rate * float(np.exp(rng.uniform(lo, hi)))))
            size = int(round(self.segment * rate / self.sample_rate))
        start, stop, offset = self._window(rng, self.lengths[utt], size)
        signal = np.zeros(size, dtype=np.float32)
        signal[offset : offset + stop - start] = read_segment(
            self.datadir.sources[k][utt], start, stop, self.sample_rate
        )
        # read at `rate` samples a second, played at the data's: faster and higher for > 1
        return resample(signal, rate, self.sample_rate, self.segment)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = self._rng(index)
        if self.dynamic_mixing:
            sources = self._dynamic_sources(rng)
            mixture = sources.sum(axis=0)
        else:
            dd = self.datadir
            utt = dd.utts[index % len(dd)] if self.epoch_size == len(dd) else dd.utts[
                int(rng.integers(0, len(dd)))
            ]
            start, stop, offset = self._window(rng, self.lengths[utt])
            sources = np.zeros((dd.num_sources, self.segment), dtype=np.float32)
            mixture = np.zeros(self.segment, dtype=np.float32)
            mixture[offset : offset + stop - start] = read_segment(
                dd.wav[utt], start, stop, self.sample_rate
            )
            for k, scp in enumerate(dd.sources):
                sources[k, offset : offset + stop - start] = read_segment(
                    scp[utt], start, stop, self.sample_rate
                )
        return torch.from_numpy(mixture), torch.from_numpy(sources)

    def _dynamic_sources(self, rng: np.random.Generator) -> np.ndarray:
        dd = self.datadir
        chosen: list[np.ndarray] = []
        speakers: set[str] = set()
        for _ in range(100 * dd.num_sources):
            if len(chosen) == dd.num_sources:
                break
            i = int(rng.integers(0, len(self.pool)))
            if self.pool_speaker[i] in speakers:
                continue
            utt, k = self.pool[i]
            signal = self._read_source(rng, utt, k)
            rms = float(np.sqrt(np.mean(signal**2)))
            if rms < MIN_SOURCE_RMS:
                continue
            speakers.add(self.pool_speaker[i])
            chosen.append(signal / rms)
        if len(chosen) < dd.num_sources:
            raise DataError(f"{dd.path}: could not draw {dd.num_sources} non-silent sources")
        gains_db = rng.uniform(-self.mix_snr_range, self.mix_snr_range, size=dd.num_sources)
        gains_db[0] = 0.0
        sources = np.stack(chosen) * (10 ** (gains_db / 20))[:, None]
        peak = np.abs(sources.sum(axis=0)).max()
        level = rng.uniform(0.25, 0.9) / max(peak, 1e-8)
        return (sources * level).astype(np.float32)


class UtteranceDataset(Dataset):
    """Whole utterances (optionally cut to ``max_seconds``): ``(utt, mixture, sources)``."""

    def __init__(self, datadir: DataDir, sample_rate: int, max_seconds: float | None = None):
        self.datadir = datadir
        self.sample_rate = sample_rate
        self.max_samples = int(max_seconds * sample_rate) if max_seconds else None

    def __len__(self) -> int:
        return len(self.datadir)

    def _read(self, utt: str, source: int | None) -> np.ndarray:
        audio = self.datadir.read_audio(utt, source)
        spec = self.datadir.wav[utt] if source is None else self.datadir.sources[source][utt]
        if audio.sample_rate != self.sample_rate:
            raise DataError(
                f"{spec}: sample rate {audio.sample_rate} Hz, expected {self.sample_rate} Hz"
            )
        data = audio.data if audio.data.ndim == 1 else audio.data[:, 0]
        return data[: self.max_samples] if self.max_samples else data

    def __getitem__(self, index: int) -> tuple[str, torch.Tensor, torch.Tensor]:
        dd = self.datadir
        utt = dd.utts[index]
        mixture = self._read(utt, None)
        sources = [self._read(utt, k) for k in range(dd.num_sources)]
        for k, s in enumerate(sources):
            if len(s) != len(mixture):
                raise DataError(
                    f"{dd.path}/spk{k + 1}.scp: utterance {utt!r} has {len(s)} samples, "
                    f"its mixture {len(mixture)}"
                )
        return utt, torch.from_numpy(mixture), torch.from_numpy(np.stack(sources))


def segment_dataset(datadir: DataDir, data_cfg: dict, *, sample_rate: int,
                    seed: int) -> SegmentDataset:
    """The ``segment`` dataset of sepcore/data/registry.py, from the config's data section.

    Warns when ``data.segment`` is longer than every utterance: the examples would be
    mostly zero padding (a silently poor model)."""
    ds = SegmentDataset(
        datadir, segment=data_cfg["segment"], sample_rate=sample_rate, seed=seed,
        dynamic_mixing=data_cfg["dynamic_mixing"], epoch_size=data_cfg["epoch_size"],
        mix_snr_range=data_cfg["mix_snr_range"], speed_perturb=data_cfg.get("speed_perturb"),
    )
    lengths = [ds.lengths[u] for u in datadir.utts]
    if lengths and max(lengths) < ds.segment:
        padding = 1.0 - sum(lengths) / (len(lengths) * ds.segment)
        logging.getLogger("sepcore.data").warning(
            "data.segment %g s is longer than the longest utterance of %s (%.2f s): "
            "%.0f %% of every example is zero padding; give a shorter --data.segment",
            data_cfg["segment"], datadir.path, max(lengths) / sample_rate, 100 * padding)
    return ds


def utterance_dataset(datadir: DataDir, data_cfg: dict, *, sample_rate: int) -> UtteranceDataset:
    """Whole validation utterances, cut to ``data.valid_max_seconds``."""
    return UtteranceDataset(datadir, sample_rate, max_seconds=data_cfg["valid_max_seconds"])
