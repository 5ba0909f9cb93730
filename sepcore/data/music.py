"""Music training data: random excerpts of named stems with Open-Unmix's augmentations.

``MusicExcerptDataset`` (``data.dataset: music``) draws ``samples_per_track`` excerpts
of ``segment`` seconds per training track and epoch (Open-Unmix: 6 s, 64). Each example
is built the way Open-Unmix's ``train.py`` builds it (Stöter et al. 2019; Uhlich et al.
2017 for the augmentations):

- with ``random_mix`` every source comes from a track drawn at random and a random
  offset of its own, so the stems of one example rarely belong together (otherwise all
  come from the example's track at one offset);
- each source is scaled by a gain drawn uniformly in ``gain_range`` (0.25–1.25);
- with ``channel_swap`` the two channels of each source are swapped with probability ½;
- the mixture is the sum of the augmented sources (never the track's mixture file).

Examples are ``(mixture [channels, time], sources [num_sources, channels, time])``
float32 numpy arrays (the loader stacks them into ``[batch, 2, time]`` and
``[batch, 4, 2, time]``). Randomness comes from ``(seed, epoch, index)``, so a resumed
run sees exactly the batches the killed run would have seen.

``MusicTrackDataset`` yields whole tracks (or their first ``max_seconds``) for
validation: ``(utt, mixture [channels, time], sources [num_sources, channels, time])``,
with the track's own mixture from ``wav.scp``.

Every source must have ``channels`` channels (2 for MUSDB18): a mono file is an error
naming it, as is a file at another sample rate than ``data.sample_rate``.
"""

from __future__ import annotations

import numpy as np
import soundfile as sf

from sepcore.data.datadir import DataDir
from sepcore.errors import ConfigError, DataError
from sepcore.io.audio import audio_num_frames, is_pipe, read_audio

__all__ = ["MusicExcerptDataset", "MusicTrackDataset", "music_dataset", "music_tracks",
           "read_excerpt"]


def read_excerpt(spec: str, start: int, stop: int, sample_rate: int, channels: int) -> np.ndarray:
    """Samples ``[start, stop)`` of a file or pipe as float32 ``[channels, stop - start]``,
    zero-padded past its end."""
    if is_pipe(spec):
        audio = read_audio(spec, always_2d=True)
        data, sr = audio.data[start:stop], audio.sample_rate
    else:
        try:
            data, sr = sf.read(spec, start=start, stop=stop, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise DataError(f"{spec}: cannot read audio ({e})") from None
    if sr != sample_rate:
        raise DataError(f"{spec}: sample rate {sr} Hz, expected {sample_rate} Hz "
                        f"(data.sample_rate)")
    if data.shape[1] != channels:
        raise DataError(f"{spec}: {data.shape[1]} channel(s), expected {channels} "
                        f"(music data is {'stereo' if channels == 2 else f'{channels}-channel'})")
    out = np.zeros((channels, stop - start), dtype=np.float32)
    out[:, : len(data)] = data.T
    return out


def _check_range(name: str, value, low: float) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected [low, high], got {value!r}") from None
    if not low <= lo <= hi:
        raise ConfigError(f"{name}: expected {low} <= low <= high, got {value!r}")
    return lo, hi


class MusicExcerptDataset:
    def __init__(
        self,
        datadir: DataDir,
        segment: float,
        sample_rate: int,
        seed: int = 0,
        samples_per_track: int = 64,
        random_mix: bool = True,
        gain_range: tuple[float, float] = (0.25, 1.25),
        channel_swap: bool = True,
        channels: int = 2,
    ):
        if datadir.num_sources == 0:
            raise DataError(f"{datadir.path}: music training needs spk1.scp..spkN.scp")
        if int(samples_per_track) < 1:
            raise ConfigError(f"data.samples_per_track must be >= 1, got {samples_per_track!r}")
        self.datadir = datadir
        self.segment = int(round(float(segment) * sample_rate))
        if self.segment < 1:
            raise ConfigError(f"data.segment must be > 0 seconds, got {segment!r}")
        self.sample_rate = int(sample_rate)
        self.seed = seed
        self.samples_per_track = int(samples_per_track)
        self.random_mix = bool(random_mix)
        self.gain_range = _check_range("data.gain_range", gain_range, 0.0)
        self.channel_swap = bool(channel_swap)
        self.channels = int(channels)
        self.epoch = 0
        lengths = dict(datadir.num_samples or {})
        self.lengths = [lengths.get(u) or audio_num_frames(datadir.wav[u]) for u in datadir.utts]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.samples_per_track * len(self.datadir)

    def _offset(self, rng: np.random.Generator, track: int) -> int:
        return int(rng.integers(0, max(0, self.lengths[track] - self.segment) + 1))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        dd = self.datadir
        rng = np.random.default_rng([self.seed, self.epoch, index])
        track = index // self.samples_per_track
        start = self._offset(rng, track)
        sources = np.empty((dd.num_sources, self.channels, self.segment), dtype=np.float32)
        lo, hi = self.gain_range
        for k, scp in enumerate(dd.sources):
            if self.random_mix:
                track = int(rng.integers(0, len(dd)))
                start = self._offset(rng, track)
            utt = dd.utts[track]
            audio = read_excerpt(scp[utt], start, start + self.segment, self.sample_rate,
                                 self.channels)
            audio *= rng.uniform(lo, hi)
            if self.channel_swap and self.channels == 2 and rng.random() < 0.5:
                audio = audio[::-1]
            sources[k] = audio
        return sources.sum(axis=0), sources


class MusicTrackDataset:
    """Whole tracks for validation: ``(utt, mixture [C, T], sources [S, C, T])``."""

    def __init__(self, datadir: DataDir, sample_rate: int, max_seconds: float | None = None,
                 channels: int = 2):
        self.datadir = datadir
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.max_samples = int(float(max_seconds) * sample_rate) if max_seconds else None

    def __len__(self) -> int:
        return len(self.datadir)

    def _read(self, spec: str, length: int) -> np.ndarray:
        return read_excerpt(spec, 0, length, self.sample_rate, self.channels)

    def _length(self, utt: str) -> int:
        dd = self.datadir
        length = (dd.num_samples or {}).get(utt) or audio_num_frames(dd.wav[utt])
        return min(length, self.max_samples) if self.max_samples else length

    def mixtures(self):
        """Every track's mixture ``[C, T]`` (wav.scp), read one at a time."""
        for utt in self.datadir.utts:
            yield self._read(self.datadir.wav[utt], self._length(utt))

    def __getitem__(self, index: int) -> tuple[str, np.ndarray, np.ndarray]:
        dd = self.datadir
        utt = dd.utts[index]
        length = self._length(utt)
        for k, scp in enumerate(dd.sources):
            n = audio_num_frames(scp[utt])
            if n < length:
                raise DataError(f"{dd.path}/spk{k + 1}.scp: {utt!r} ({scp[utt]}) has {n} "
                                f"samples, its mixture {length}")
        mixture = self._read(dd.wav[utt], length)
        sources = np.stack([self._read(scp[utt], length) for scp in dd.sources])
        return utt, mixture, sources


def music_dataset(datadir: DataDir, data_cfg: dict, *, sample_rate: int,
                  seed: int) -> MusicExcerptDataset:
    """The ``music`` dataset of sepcore/data/registry.py, from the config's data section."""
    return MusicExcerptDataset(
        datadir, segment=data_cfg["segment"], sample_rate=sample_rate, seed=seed,
        samples_per_track=data_cfg["samples_per_track"],
        random_mix=data_cfg["dynamic_mixing"], gain_range=data_cfg["gain_range"],
        channel_swap=data_cfg["channel_swap"], channels=data_cfg["audio_channels"],
    )


def music_tracks(datadir: DataDir, data_cfg: dict, *, sample_rate: int) -> MusicTrackDataset:
    """Whole validation tracks (or their first ``data.valid_max_seconds``)."""
    return MusicTrackDataset(datadir, sample_rate, max_seconds=data_cfg["valid_max_seconds"],
                             channels=data_cfg["audio_channels"])
