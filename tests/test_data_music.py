"""Music excerpts (sepcore/data/music.py) and the per-source losses (sepcore/losses/music.py)."""

import numpy as np
import pytest
import soundfile as sf
import torch

from sepcore.data import DataDir
from sepcore.data.music import MusicExcerptDataset, MusicTrackDataset
from sepcore.errors import ConfigError, DataError
from sepcore.losses import SOURCE_LOSSES, FixedOrderLoss, build_criterion, magnitude_mse, neg_sdr

SR = 8000
STEMS = ("drums", "bass", "other", "vocals")


def make_music_dir(root, num_tracks=3, seconds=1.0):
    """Stems whose samples say where they come from: (t + 1) / 10 + k / 100 + c / 1000 for
    track t, stem k, channel c, plus a ramp below 1e-4 (the position in the track)."""
    d = root / "data"
    d.mkdir()
    n = int(seconds * SR)
    ramp = np.arange(n) / n  # position in the track, in [0, 1)
    wav, spk = [], {k: [] for k in range(4)}
    for t in range(num_tracks):
        utt = f"song{t}"
        stems = []
        for k in range(4):
            x = np.stack([(t + 1) * 0.1 + k * 0.01 + c * 0.001 + ramp * 1e-4
                          for c in range(2)], axis=1)
            path = root / f"{utt}_{STEMS[k]}.wav"
            sf.write(path, x, SR, subtype="FLOAT")
            spk[k].append(f"{utt} {path}")
            stems.append(x)
        sf.write(root / f"{utt}_mix.wav", sum(stems), SR, subtype="FLOAT")
        wav.append(f"{utt} {root / f'{utt}_mix.wav'}")
    (d / "wav.scp").write_text("\n".join(wav) + "\n")
    for k in range(4):
        (d / f"spk{k + 1}.scp").write_text("\n".join(spk[k]) + "\n")
    (d / "sources").write_text(" ".join(STEMS) + "\n")
    return DataDir.load(d)


def decode(x):
    """(track, stem, channel) of an unscaled excerpt from its first sample."""
    v = float(x[0]) + 1e-6
    t = int(v * 10) - 1
    k = int((v - (t + 1) * 0.1) * 100)
    c = int((v - (t + 1) * 0.1 - k * 0.01) * 1000)
    return t, k, c


def test_excerpts_shapes_sum_and_determinism(tmp_path):
    dd = make_music_dir(tmp_path)
    ds = MusicExcerptDataset(dd, segment=0.25, sample_rate=SR, seed=3, samples_per_track=5)
    assert len(ds) == 15
    mix, src = ds[4]
    assert mix.shape == (2, 2000) and src.shape == (4, 2, 2000)
    assert mix.dtype == np.float32 and src.dtype == np.float32
    np.testing.assert_allclose(mix, src.sum(axis=0), rtol=1e-6)
    again = ds[4][1]
    np.testing.assert_array_equal(src, again)
    ds.set_epoch(1)
    assert not np.array_equal(ds[4][1], src)


def test_no_augmentation_reads_the_track_itself(tmp_path):
    dd = make_music_dir(tmp_path)
    ds = MusicExcerptDataset(dd, 0.25, SR, samples_per_track=4, random_mix=False,
                             gain_range=(1.0, 1.0), channel_swap=False)
    for index in range(len(ds)):
        _, src = ds[index]
        track = index // 4
        for k in range(4):
            for c in range(2):
                assert decode(src[k, c]) == (track, k, c)
        # one offset for every stem of the track
        assert len({round(float(src[k, 0, 0]) - k * 0.01, 6) for k in range(4)}) == 1


def test_random_mix_gain_and_swap(tmp_path):
    dd = make_music_dir(tmp_path, num_tracks=4)
    ds = MusicExcerptDataset(dd, 0.25, SR, samples_per_track=50, gain_range=(0.25, 1.25))
    tracks_differ = swaps = 0
    gains = []
    for index in range(0, len(ds), 2):
        _, src = ds[index]
        tracks = set()
        for k in range(4):
            # stem k from some track t, maybe swapped, times a gain g: the ratio of the
            # channels and the value pin down (t, swapped, g)
            a, b = float(src[k, 0, 0]), float(src[k, 1, 0])
            found = False
            for t in range(4):
                base = (t + 1) * 0.1 + k * 0.01
                for swapped, (c0, c1) in ((False, (base, base + 0.001)),
                                          (True, (base + 0.001, base))):
                    g = a / c0
                    if abs(b - g * c1) < 1e-6 * max(1, abs(b)):
                        found = True
                        tracks.add(t)
                        swaps += swapped
                        gains.append(g)
            assert found
        tracks_differ += len(tracks) > 1
    n = len(range(0, len(ds), 2))
    assert tracks_differ > 0.6 * n
    assert 0.3 * 4 * n < swaps < 0.7 * 4 * n
    assert 0.25 <= min(gains) and max(gains) <= 1.25 and np.ptp(gains) > 0.8


def test_whole_tracks_for_validation(tmp_path):
    dd = make_music_dir(tmp_path)
    utt, mix, src = MusicTrackDataset(dd, SR)[1]
    assert utt == "song1" and mix.shape == (2, SR) and src.shape == (4, 2, SR)
    np.testing.assert_allclose(mix, src.sum(axis=0), atol=1e-6)
    assert MusicTrackDataset(dd, SR, max_seconds=0.5)[0][1].shape == (2, SR // 2)


def test_bad_music_inputs_name_the_file(tmp_path):
    dd = make_music_dir(tmp_path)
    bad = dd.sources[1]["song2"]
    sf.write(bad, np.zeros(SR), SR)
    ds = MusicExcerptDataset(dd, 0.25, SR, samples_per_track=1, random_mix=False)
    with pytest.raises(DataError, match=f"{bad}: 1 channel\\(s\\), expected 2"):
        ds[2]
    sf.write(bad, np.zeros((SR, 2)), 16000)
    with pytest.raises(DataError, match=f"{bad}: sample rate 16000 Hz, expected 8000 Hz"):
        ds[2]
    with pytest.raises(ConfigError, match="data.gain_range"):
        MusicExcerptDataset(dd, 0.25, SR, gain_range=(1.0, 0.5))
    with pytest.raises(ConfigError, match="data.samples_per_track"):
        MusicExcerptDataset(dd, 0.25, SR, samples_per_track=0)


def test_source_losses():
    torch.manual_seed(0)
    ref = torch.randn(2, 4, 2, 4000)
    est = ref + 0.1 * torch.randn_like(ref)
    assert set(SOURCE_LOSSES) == {"si_sdr", "sdr", "mag_mse", "l1"}
    for name, fn in SOURCE_LOSSES.items():
        kw = {"n_fft": 256, "hop_length": 64} if name == "mag_mse" else {}
        out = fn(est, ref, **kw)
        assert out.shape == (2, 4), name
        assert torch.all(fn(ref, ref, **kw) <= out + 1e-6), name
    # MDX SDR of a 0.1-noise estimate of unit-variance references: 20 dB
    assert abs(float(neg_sdr(est, ref).mean()) + 20.0) < 0.2
    assert float(magnitude_mse(ref, ref, 256, 64).abs().max()) < 1e-8
    loss, perm = FixedOrderLoss(neg_sdr)(est, ref)
    assert perm.tolist() == [[0, 1, 2, 3]] * 2
    assert abs(float(loss) - float(neg_sdr(est, ref).mean())) < 1e-6
    # swapped estimates are NOT put back in order (no PIT for named stems)
    swapped, _ = FixedOrderLoss(neg_sdr)(est.flip(1), ref)
    assert float(swapped) > float(loss) + 10


def test_loss_config_without_pit_and_weighted_sums():
    from sepcore.config import load_config

    cfg = load_config(None, ["--loss.pit", "false", "--loss.name", "mag_mse+sdr",
                             "--loss.weights", "[1, 10]", "--loss.n_fft", "256",
                             "--loss.hop_length", "64"])
    loss = build_criterion(cfg["loss"])
    torch.manual_seed(0)
    ref = torch.randn(2, 4, 2, 2000)
    est = ref + 0.1 * torch.randn_like(ref)
    want = (magnitude_mse(est, ref, 256, 64) + 10 * neg_sdr(est, ref)).mean()
    assert abs(float(loss(est, ref)[0]) - float(want)) < 1e-4
    for over, message in (
        (["--loss.name", "sdr"], r"si_sdr\+mrstft with loss.pit true \(with loss.pit false"),
        (["--loss.pit", "false", "--loss.name", "l2"], "with loss.pit false si_sdr, sdr"),
        (["--loss.pit", "false", "--loss.name", "sdr+mag_mse", "--loss.weights", "[1]"],
         "loss.weights must be null or 2 numbers"),
        (["--loss.pit", "false", "--loss.name", "mag_mse", "--loss.hop_length", "4096"],
         "loss.n_fft / loss.hop_length must be integers"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_config(None, over)
