"""sepcore/data/speech.py, the base of the on-the-fly speech datasets (noisy, masked).

The draws are pinned: the values below were recorded from noisy.py and masked.py before
their shared setup moved into ``CleanSpeechDataset``; a change to the order or kind of
random draws (which utterance, window, pad offset, mask, SNR, level) changes them by far
more than the tolerance, which only allows for float summation differences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers.datadirs import make_datadir

from sepcore.data import DataDir
from sepcore.data.masked import MaskedSpeechDataset
from sepcore.data.noisy import NoisyDataset
from sepcore.data.speech import CleanSpeechDataset
from sepcore.errors import ConfigError, DataError

MASKS = Path(__file__).resolve().parents[1] / "egs" / "demask" / "demask" / "conf" / "masks.yaml"


def fingerprint(ds, n=3):
    """(sum of the input, sum of |target|) of the first ``n`` examples of epoch 2."""
    ds.set_epoch(2)
    return [(float(x.double().sum()), float(y.abs().double().sum()))
            for x, y in (ds[i] for i in range(n))]


def test_masked_draws_are_unchanged(tmp_path):
    # 0.5-1.5 s utterances, 1 s segments: both the window and the zero-pad branch
    speech = DataDir.load(make_datadir(tmp_path, "train", num_utts=4, num_sources=1,
                                       sample_rate=16000, min_len=0.5, max_len=1.5))
    ds = MaskedSpeechDataset(speech, MASKS, segment=1.0, sample_rate=16000, seed=3,
                             epoch_size=4)
    assert len(ds) == 4 and ds.margin == ds.numtaps == 513
    expected = [(0.365759, 350.900586), (3.488725, 1069.800129), (-1.131444, 479.768359)]
    np.testing.assert_allclose(fingerprint(ds), expected, rtol=1e-5, atol=1e-5)


def test_noisy_draws_are_unchanged(tmp_path):
    speech = DataDir.load(make_datadir(tmp_path, "train", num_utts=5, num_sources=1,
                                       min_len=1.2, max_len=1.6))
    noise = tmp_path / "noise"
    noise.mkdir()
    rng = np.random.default_rng(0)
    for i, n in enumerate([3000, 9000, 12000]):  # the first is repeated to fill a segment
        sf.write(noise / f"n{i}.wav", 0.1 * rng.standard_normal(n), 8000, subtype="FLOAT")
    ds = NoisyDataset(speech, noise, segment=1.0, sample_rate=8000, seed=3, epoch_size=4)
    expected = [(0.250168, 128.11516), (0.401148, 505.064348), (2.092137, 702.257427)]
    np.testing.assert_allclose(fingerprint(ds), expected, rtol=1e-5, atol=1e-5)


def test_speech_window_with_margin_holds_the_window_without(tmp_path):
    speech = DataDir.load(make_datadir(tmp_path, "train", num_utts=3, num_sources=1,
                                       min_len=0.6, max_len=1.2))
    ds = CleanSpeechDataset(speech, 0.5, 8000, seed=1, epoch_size=None,
                            target_level=(-30, -20), what="this")
    assert len(ds) == 3 and ds.segment == 4000 and ds.target_level == (-30.0, -20.0)
    for index in range(3):
        plain = ds._speech(ds._rng(index))
        wide = ds._speech(ds._rng(index), margin=100)
        assert plain.shape == (4000,) and wide.shape == (4200,)
        assert np.array_equal(wide[100:-100], plain)  # the same draw, with context around


def test_the_shared_checks(tmp_path):
    two = DataDir.load(make_datadir(tmp_path, "two", num_utts=2, num_sources=2))
    with pytest.raises(DataError, match="noisy mixing needs exactly one source"):
        NoisyDataset(two, tmp_path, segment=1.0, sample_rate=8000)
    one = DataDir.load(make_datadir(tmp_path, "one", num_utts=2, num_sources=1))
    with pytest.raises(ConfigError, match="data.segment must be a positive number"):
        MaskedSpeechDataset(one, MASKS, segment=0, sample_rate=8000)
    with pytest.raises(ConfigError, match=r"data.target_level: \[-10, 3\] must lie within"):
        MaskedSpeechDataset(one, MASKS, segment=0.5, sample_rate=8000, target_level=[-10, 3])
