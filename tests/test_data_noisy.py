"""On-the-fly noisy mixing (sepcore/data/noisy.py): SNR, level, determinism, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from helpers.datadirs import make_datadir

from sepcore.data import DataDir
from sepcore.data.noisy import NoisyDataset, mix_at_snr, noise_files, tilt
from sepcore.errors import ConfigError, DataError

SR = 8000


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    root = tmp_path_factory.mktemp("noisy")
    return DataDir.load(make_datadir(root, "train", num_utts=5, num_sources=1,
                                     min_len=1.2, max_len=1.6))


def write_noises(folder, lengths, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i, n in enumerate(lengths):
        sf.write(folder / f"n{i}.wav", 0.1 * rng.standard_normal(n), SR, subtype="FLOAT")
    return folder


def dataset(speech, noise, **kw):
    opts = dict(segment=1.0, sample_rate=SR, epoch_size=12)
    opts.update(kw)
    return NoisyDataset(speech, noise, **opts)


def snr_db(mixture, speech):
    noise = mixture - speech
    return 10 * np.log10(np.sum(speech.astype(np.float64) ** 2) / np.sum(noise**2))


def test_mix_at_snr_closed_form():
    rng = np.random.default_rng(1)
    s, n = 0.05 * rng.standard_normal(4000), 0.1 * rng.standard_normal(4000)
    s2, n2 = mix_at_snr(s, n, 7.0)
    assert np.allclose(s2, s)  # no level asked for, no clipping: the speech is kept
    assert 10 * np.log10(np.mean(s2**2) / np.mean(n2**2)) == pytest.approx(7.0, abs=1e-9)
    s3, n3 = mix_at_snr(0.1 * s, n, -3.0, level=-20.0)
    assert 20 * np.log10(np.sqrt(np.mean((s3 + n3) ** 2))) == pytest.approx(-20.0, abs=1e-9)
    assert 10 * np.log10(np.mean(s3**2) / np.mean(n3**2)) == pytest.approx(-3.0, abs=1e-9)
    s4, n4 = mix_at_snr(s, n, 0.0, level=0.0)  # would clip: scaled down, SNR kept
    assert np.abs(s4 + n4).max() == pytest.approx(0.99)
    assert 10 * np.log10(np.mean(s4**2) / np.mean(n4**2)) == pytest.approx(0.0, abs=1e-9)


def test_snr_and_level_of_the_drawn_mixtures(speech, tmp_path):
    noise = write_noises(tmp_path / "noise", [12000, 9000])
    ds = dataset(speech, noise, snr_range=[5.0, 5.0], target_level=[-30.0, -30.0])
    for i in range(4):
        mixture, sources = ds[i]
        assert mixture.shape == (SR,) and sources.shape == (1, SR)
        m, s = mixture.numpy().astype(np.float64), sources[0].numpy()
        assert snr_db(m, s) == pytest.approx(5.0, abs=0.01)
        assert 20 * np.log10(np.sqrt(np.mean(m**2))) == pytest.approx(-30.0, abs=0.01)
    ds = dataset(speech, noise, snr_range=[-5.0, 20.0], target_level=[-35.0, -15.0])
    snrs = [snr_db(*(t.numpy().astype(np.float64) for t in (ds[i][0], ds[i][1][0])))
            for i in range(12)]
    assert min(snrs) >= -5.01 and max(snrs) <= 20.01 and max(snrs) - min(snrs) > 5


def test_deterministic_per_epoch_and_index(speech, tmp_path):
    noise = write_noises(tmp_path / "noise", [12000])
    a, b = dataset(speech, noise), dataset(speech, noise)
    assert np.array_equal(a[3][0].numpy(), b[3][0].numpy())
    b.set_epoch(1)
    assert not np.array_equal(a[3][0].numpy(), b[3][0].numpy())


def test_short_noise_is_repeated_and_data_dir_pool(speech, tmp_path):
    noise = write_noises(tmp_path / "noise", [2000])  # 0.25 s for a 1 s segment
    d = tmp_path / "noise_dd"
    d.mkdir()
    (d / "wav.scp").write_text(f"n0 {noise / 'n0.wav'}\n")
    for pool in (noise, d):
        mixture, sources = dataset(speech, pool, snr_range=[0, 0])[0]
        residual = (mixture - sources[0]).numpy()
        assert np.all(np.abs(residual.reshape(4, -1)).max(axis=1) > 0)  # noise everywhere
    assert noise_files(d) == [str(noise / "n0.wav")]


def power_slope_db_per_octave(x, low=250.0, high=2000.0):
    f = np.fft.rfftfreq(len(x), 1 / SR)
    p = np.abs(np.fft.rfft(x)) ** 2
    band = (f >= low) & (f <= high)
    return np.polyfit(np.log2(f[band]), 10 * np.log10(p[band]), 1)[0]


def test_tilt_gives_the_asked_slope():
    white = np.random.default_rng(2).standard_normal(2**16)
    assert abs(power_slope_db_per_octave(white)) < 0.3
    for slope in (-6.0, -3.0, 3.0, 6.0):
        assert power_slope_db_per_octave(tilt(white, slope, SR)) == pytest.approx(slope, abs=0.3)
    assert np.allclose(tilt(white, 0.0, SR), white)


def test_noise_layers_and_tilt_augment_only_when_asked(speech, tmp_path):
    noise = write_noises(tmp_path / "noise", [12000, 12000, 12000])
    plain, again = dataset(speech, noise), dataset(speech, noise, noise_layers=1, noise_tilt=None)
    assert np.array_equal(plain[5][0].numpy(), again[5][0].numpy())  # off: the same draws
    aug = dataset(speech, noise, noise_layers=3, noise_tilt=[6.0, 6.0], snr_range=[0, 0])
    mixture, sources = aug[5]
    residual = (mixture - sources[0]).numpy().astype(np.float64)
    assert snr_db(mixture.numpy().astype(np.float64), sources[0].numpy()) == pytest.approx(
        0.0, abs=0.01)  # the SNR is set after the augmentation
    assert power_slope_db_per_octave(residual) == pytest.approx(6.0, abs=1.5)  # one short window
    with pytest.raises(ConfigError, match=r"data\.noise_layers: expected an integer >= 1"):
        dataset(speech, noise, noise_layers=0)
    with pytest.raises(ConfigError, match=r"data\.noise_tilt: range \[6, -6\] is backwards"):
        dataset(speech, noise, noise_tilt=[6, -6])


def test_noise_layers_sum_windows_of_several_files(speech, tmp_path):
    folder = tmp_path / "tones"
    folder.mkdir()
    t = np.arange(12000) / SR
    for hz in (250, 1000, 3000):
        sf.write(folder / f"{hz}.wav", 0.1 * np.sin(2 * np.pi * hz * t), SR, subtype="FLOAT")

    def tones_heard(ds, i):
        mixture, sources = ds[i]
        p = np.abs(np.fft.rfft((mixture - sources[0]).numpy())) ** 2  # 1 s: 1 Hz bins
        return sum(p[hz - 5:hz + 6].sum() > 1e-3 * p.sum() for hz in (250, 1000, 3000))

    plain, layered = dataset(speech, folder), dataset(speech, folder, noise_layers=3)
    assert {tones_heard(plain, i) for i in range(12)} == {1}
    assert max(tones_heard(layered, i) for i in range(12)) >= 2


def test_snr_range_backwards_is_an_error(speech, tmp_path):
    noise = write_noises(tmp_path / "noise", [12000])
    with pytest.raises(ConfigError, match=r"data\.snr_range: range \[40, 0\] is backwards"):
        dataset(speech, noise, snr_range=[40, 0])
    with pytest.raises(ConfigError, match=r"data\.target_level: expected \[low, high\]"):
        dataset(speech, noise, target_level=-25)
    with pytest.raises(ConfigError, match=r"data\.target_level: .* within \[None, 0.0\]"):
        dataset(speech, noise, target_level=[-20, 5])


def test_noise_folder_without_audio_is_an_error(speech, tmp_path):
    empty = tmp_path / "noise"
    empty.mkdir()
    (empty / "README.txt").write_text("no audio here\n")
    with pytest.raises(DataError, match=rf"{empty}: no audio files .* in the noise folder"):
        dataset(speech, empty)
    with pytest.raises(DataError, match=rf"{tmp_path / 'nowhere'}: noise data dir or folder "
                                        r"not found"):
        dataset(speech, tmp_path / "nowhere")
    dd = tmp_path / "dd"
    dd.mkdir()
    (dd / "wav.scp").write_text("")
    with pytest.raises(DataError, match=r"wav\.scp: no noise recordings listed"):
        dataset(speech, dd)


def test_target_shorter_than_segment(speech, tmp_path):
    noise = write_noises(tmp_path / "noise", [12000])
    shortest = min(speech.num_samples.values())
    first = next(u for u in speech.utts if speech.num_samples[u] < 2 * SR)
    with pytest.raises(DataError, match=rf"spk1\.scp: '{first}' .* has \d+ samples, shorter "
                                        r"than data\.segment \(2\.0 s = 16000 samples\)"):
        dataset(speech, noise, segment=2.0)
    padded = dataset(speech, noise, segment=2.0, short_targets="pad")
    assert padded[0][0].shape == (2 * SR,)
    with pytest.raises(DataError, match="every utterance is shorter"):
        dataset(speech, noise, segment=2.0, short_targets="drop")
    kept = dataset(speech, noise, segment=shortest / SR + 0.01, short_targets="drop")
    assert len(kept.speech) == len(speech) - 1
    with pytest.raises(ConfigError, match="data.short_targets: expected one of error, drop, pad"):
        dataset(speech, noise, short_targets="loop")


def test_oracle_of_an_enhancement_data_dir_masks_the_noise(tmp_path):
    """One reference (the speech): the oracle's second source is mixture - speech, so its
    estimate is far better than the mixture (not the mixture itself, as a mask of 1 gives)."""
    from sepcore.spectral.oracle import oracle_data_dir

    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    speech = 0.3 * np.sin(2 * np.pi * 300 * t) * (t < 0.5)
    noise = 0.05 * rng.standard_normal(SR)
    (tmp_path / "wav").mkdir()
    for name, x in (("mix", speech + noise), ("speech", speech)):
        sf.write(tmp_path / "wav" / f"{name}.wav", x, SR, subtype="FLOAT")
    DataDir.write(tmp_path / "data", {"u": str(tmp_path / "wav" / "mix.wav")},
                  [{"u": str(tmp_path / "wav" / "speech.wav")}], source_names=["speech"])
    assert oracle_data_dir(tmp_path / "data", tmp_path / "oracle") == 0
    est, _ = sf.read(tmp_path / "oracle" / "wav" / "u_speech.wav")
    err_in, err_out = np.sum(noise**2), np.sum((est - speech) ** 2)
    assert 10 * np.log10(err_in / err_out) > 6
