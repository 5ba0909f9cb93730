"""What the datasets that make examples from clean speech on the fly share.

``CleanSpeechDataset`` is the base of ``NoisyDataset`` (sepcore/data/noisy.py) and
``MaskedSpeechDataset`` (sepcore/data/masked.py): the clean speech (``spk1.scp`` of a
one-source data dir) and its lengths, the segment in samples, the epoch size, the
``data.target_level`` range and the draw of a non-silent speech window; randomness
from ``(seed, epoch, index)`` comes from ``EpochDataset`` (sepcore/data/dataset.py), as
for ``SegmentDataset``; :func:`sepcore.data.dataset.check_range` checks the ``[low, high]``
options of both.
"""

from __future__ import annotations

import numpy as np

from sepcore.data.datadir import DataDir
from sepcore.data.dataset import (
    MIN_SOURCE_RMS,
    EpochDataset,
    _Lengths,
    check_range,
    read_segment,
)
from sepcore.errors import ConfigError, DataError

PEAK = 0.99  # an example is scaled down (input and target alike) where it would clip


class CleanSpeechDataset(EpochDataset):
    """Base of the on-the-fly speech datasets: ``epoch_size`` examples an epoch of
    ``segment`` seconds of ``datadir``'s clean speech at ``sample_rate``.

    Args:
        datadir: a data dir with exactly one source (``spk1.scp``, the clean speech).
        segment: seconds per example (> 0).
        sample_rate: the rate of every file (Hz).
        seed: with the epoch and the index, decides every random choice.
        epoch_size: examples per epoch (default: the number of utterances).
        target_level: ``[low, high]`` dBFS (<= 0) the examples' level is drawn from.
        what: what the subclass does, for the error about the number of sources.
    """

    def __init__(self, datadir: DataDir, segment: float, sample_rate: int, seed: int,
                 epoch_size: int | None, target_level, what: str):
        if datadir.num_sources != 1:
            raise DataError(f"{datadir.path}: {what} needs exactly one source "
                            f"(spk1.scp, the clean speech), found {datadir.num_sources}")
        if segment is None or segment <= 0:
            raise ConfigError(f"data.segment must be a positive number of seconds, got {segment!r}")
        self.target_level = check_range(target_level, "data.target_level", high=0.0)
        self.datadir = datadir
        self.segment = int(round(segment * sample_rate))
        self.sample_rate = sample_rate
        self.seed = seed
        self.epoch = 0
        self.epoch_size = epoch_size or len(datadir)
        lengths = _Lengths(datadir)
        self.speech = [datadir.sources[0][u] for u in datadir.utts]
        self.speech_len = [lengths[u] for u in datadir.utts]

    def _speech(self, rng: np.random.Generator, margin: int = 0) -> np.ndarray:
        """A random non-silent window of ``segment`` samples of one utterance, with
        ``margin`` samples of context on each side (zeros past the utterance's ends); an
        utterance shorter than the segment is zero-padded at a random offset."""
        m, seg = margin, self.segment
        for _ in range(100):
            i = int(rng.integers(0, len(self.speech)))
            n = self.speech_len[i]
            out = np.zeros(seg + 2 * m, dtype=np.float32)
            if n >= seg:
                start = int(rng.integers(0, n - seg + 1))
                lo, hi = max(0, start - m), min(n, start + seg + m)
                out[lo - (start - m):hi - (start - m)] = read_segment(
                    self.speech[i], lo, hi, self.sample_rate)
            else:
                offset = m + int(rng.integers(0, seg - n + 1))
                out[offset:offset + n] = read_segment(self.speech[i], 0, n, self.sample_rate)
            if np.sqrt(np.mean(out[m:m + seg] ** 2)) >= MIN_SOURCE_RMS:
                return out
        raise DataError(f"{self.datadir.path}/spk1.scp: could not draw a non-silent segment")
