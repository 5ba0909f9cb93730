import numpy as np
import pytest
from helpers.datadirs import make_datadir

from sepcore.data import DataDir, SegmentDataset, UtteranceDataset
from sepcore.errors import ConfigError, DataError


def test_load_datadir(tmp_path):
    data = make_datadir(tmp_path, num_utts=5, num_sources=3)
    (data / "sources").write_text("a b c\n")
    dd = DataDir.load(data)
    assert len(dd) == 5 and dd.num_sources == 3 and dd.source_names == ["a", "b", "c"]
    assert dd.utts == sorted(dd.utts)
    assert dd.num_samples[dd.utts[0]] > 0 and len(dd.utt2spks[dd.utts[0]]) == 3


def test_datadir_inconsistencies_are_named(tmp_path):
    data = make_datadir(tmp_path, num_utts=3)
    lines = (data / "spk2.scp").read_text().splitlines()
    (data / "spk2.scp").write_text("\n".join(lines[:2]) + "\n")
    missing = lines[2].split()[0]
    with pytest.raises(DataError, match=rf"spk2.scp: no line for utterance '{missing}'"):
        DataDir.load(data)
    (data / "spk2.scp").write_text("\n".join(lines + ["zzz /x.wav"]) + "\n")
    with pytest.raises(DataError, match="spk2.scp: utterance 'zzz' is not in .*wav.scp"):
        DataDir.load(data)
    (data / "spk2.scp").write_text("\n".join(lines) + "\n")
    (data / "sources").write_text("only_one\n")
    with pytest.raises(DataError, match="sources: expected one line with 2 source names"):
        DataDir.load(data)


def test_segments_are_deterministic_per_epoch_and_index(tmp_path):
    dd = DataDir.load(make_datadir(tmp_path, num_utts=4))
    ds = SegmentDataset(dd, segment=0.5, sample_rate=8000, seed=3)
    mix, src = ds[1]
    assert mix.shape == (4000,) and src.shape == (2, 4000)
    np.testing.assert_allclose(mix.numpy(), src.sum(0).numpy(), atol=2e-4)  # 16-bit files
    again = SegmentDataset(dd, segment=0.5, sample_rate=8000, seed=3)
    assert np.array_equal(again[1][0].numpy(), mix.numpy())
    ds.set_epoch(1)
    assert not np.array_equal(ds[1][0].numpy(), mix.numpy())


def test_dynamic_mixing_pairs_distinct_speakers_within_level_range(tmp_path):
    dd = DataDir.load(make_datadir(tmp_path, num_utts=6, num_speakers=3))
    ds = SegmentDataset(dd, segment=0.5, sample_rate=8000, seed=0, dynamic_mixing=True,
                        epoch_size=40, mix_snr_range=5.0)
    assert len(ds) == 40
    ratios = []
    for i in range(40):
        mix, src = ds[i]
        np.testing.assert_allclose(mix.numpy(), src.sum(0).numpy(), atol=1e-5)
        assert 0.2 < float(mix.abs().max()) <= 0.9 + 1e-6
        rms = src.pow(2).mean(-1).sqrt()
        ratios.append(20 * np.log10(float(rms[1] / rms[0])))
    assert max(np.abs(ratios)) <= 5.0 + 1e-3 and np.std(ratios) > 1.0
    # with a single speaker there is nothing to mix
    (dd.path / "utt2spks").write_text("".join(f"{u} s s\n" for u in dd.utts))
    with pytest.raises(DataError, match="dynamic mixing needs at least 2 speakers"):
        SegmentDataset(DataDir.load(dd.path), 0.5, 8000, dynamic_mixing=True)


def test_wrong_sample_rate_is_named(tmp_path):
    dd = DataDir.load(make_datadir(tmp_path, num_utts=2, sample_rate=16000))
    with pytest.raises(DataError, match="sample rate 16000 Hz, expected 8000 Hz"):
        UtteranceDataset(dd, 8000)[0]


def test_write_sorts_every_file_and_checks_ids(tmp_path):
    wav = {"b": "/b.wav", "a": "/a.wav", "é": "/e.wav", "B": "/B.wav"}
    dd = DataDir.write(tmp_path / "d", wav, [{u: f"{u}1" for u in wav}, {u: f"{u}2" for u in wav}],
                       source_names=["x", "y"], noise={u: "n" for u in wav},
                       num_samples={u: 5 for u in wav}, utt2spks={u: ["s", "t"] for u in wav})
    order = ["B", "a", "b", "é"]  # LC_ALL=C: by UTF-8 bytes
    assert dd.utts == order
    for name in ("wav.scp", "spk1.scp", "spk2.scp", "noise1.scp", "utt2num_samples", "utt2spks"):
        assert [ln.split()[0] for ln in (tmp_path / "d" / name).read_text().splitlines()] == order
    assert (tmp_path / "d" / "sources").read_text() == "x y\n"
    back = DataDir.load(tmp_path / "d")
    assert back.utt2spks["a"] == ["s", "t"] and back.source_names == ["x", "y"]
    # a rewrite with fewer files removes the stale ones
    DataDir.write(tmp_path / "d", wav, [{u: "r" for u in wav}])
    assert not (tmp_path / "d" / "spk2.scp").exists()
    assert not (tmp_path / "d" / "noise1.scp").exists()
    assert (tmp_path / "d" / "sources").read_text() == "spk1\n"
    with pytest.raises(DataError, match=r"spk1.scp: no line for utterance 'b'"):
        DataDir.write(tmp_path / "e", wav, [{"a": "x", "B": "x", "é": "x"}])
    with pytest.raises(DataError, match="2 source names"):
        DataDir.write(tmp_path / "e", wav, [{u: "x" for u in wav}], source_names=["p", "q"])


def test_import_sepcore_data_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, sepcore.data, sepcore.data.datadir, sepcore.data.registry; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_dataset_registry_builds_the_configured_dataset(tmp_path):
    from sepcore.config import load_config
    from sepcore.data import DATASETS, build_train_dataset, build_valid_dataset
    from sepcore.errors import ConfigError

    assert "segment" in DATASETS
    cfg = load_config(None, ["--data.segment", "0.5", "--data.epoch_size", "3"])
    assert cfg["data"]["dataset"] == "segment"
    dd = DataDir.load(make_datadir(tmp_path, num_utts=4))
    train = build_train_dataset(dd, cfg["data"], sample_rate=8000, seed=1)
    assert isinstance(train, SegmentDataset) and len(train) == 3 and train.segment == 4000
    valid = build_valid_dataset(dd, cfg["data"], sample_rate=8000)
    assert isinstance(valid, UtteranceDataset) and len(valid) == 4
    with pytest.raises(ConfigError, match="data.dataset: unknown dataset 'nope'"):
        load_config(None, ["--data.dataset", "nope"])


def _sine_datadir(root, freq=500.0, sr=8000):
    import soundfile as sf

    t = np.arange(sr) / sr
    wav, s1, s2, spks = {}, {}, {}, {}
    for i in range(4):
        u = f"u{i}"
        for k, d in ((1, s1), (2, s2)):
            path = root / f"{u}_{k}.wav"
            sf.write(path, 0.5 * np.sin(2 * np.pi * freq * t + i + k), sr, subtype="FLOAT")
            d[u] = str(path)
        wav[u] = s1[u]  # not read by dynamic mixing
        spks[u] = [f"a{i}", f"b{i}"]
    return DataDir.write(root / "d", wav, [s1, s2], utt2spks=spks)


@pytest.mark.parametrize("speed", [0.8, 1.5])
def test_speed_perturbation_plays_each_source_faster_or_slower(tmp_path, speed):
    dd = _sine_datadir(tmp_path)
    ds = SegmentDataset(dd, segment=0.5, sample_rate=8000, seed=0, dynamic_mixing=True,
                        epoch_size=6, speed_perturb=[speed, speed])
    for i in range(6):
        mix, src = ds[i]
        assert mix.shape == (4000,) and src.shape == (2, 4000)
        np.testing.assert_allclose(mix.numpy(), src.sum(0).numpy(), atol=1e-5)
        for s in src.numpy():
            spectrum = np.abs(np.fft.rfft(s * np.hanning(len(s))))
            assert abs(np.argmax(spectrum) * 8000 / len(s) - 500 * speed) <= 2.0


def test_speed_perturbation_range_is_checked(tmp_path):
    dd = _sine_datadir(tmp_path)
    with pytest.raises(ConfigError, match="data.speed_perturb needs data.dynamic_mixing true"):
        SegmentDataset(dd, 0.5, 8000, speed_perturb=[0.9, 1.1])
    with pytest.raises(ConfigError, match=r"data.speed_perturb: range \[1.1, 0.9\] is backwards"):
        SegmentDataset(dd, 0.5, 8000, dynamic_mixing=True, speed_perturb=[1.1, 0.9])
    with pytest.raises(ConfigError, match=r"must lie within \[0.5, 2.0\]"):
        SegmentDataset(dd, 0.5, 8000, dynamic_mixing=True, speed_perturb=[0.2, 1.0])
