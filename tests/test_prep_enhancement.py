"""DNS Challenge 2020 and VoiceBank+DEMAND data prep on miniature replicas of their layouts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import helpers.corpus_replicas as cr
import numpy as np
import pytest
import soundfile as sf

DNS = "egs/dns2020/convtasnet/local/prepare_dns.py"
VBD = "egs/voicebank_demand/convtasnet/local/prepare_vbd.py"


def write(path: Path, n: int, sr: int, seed: int) -> None:
    cr._write(str(path), cr._signal(np.random.RandomState(seed), n, sr), sr)


def dns_replica(root: Path, pairs: int = 3) -> Path:
    """datasets/{clean,noise,test_set/synthetic/{no_reverb,with_reverb}/{clean,noisy}}."""
    for i in range(6):
        write(root / "clean" / f"book_{i:05d}_chp_0001_reader_{i:05d}_{i}.wav", 24000, 16000, i)
    for i in range(4):
        write(root / "noise" / ("sub" if i % 2 else "") / f"noise_{i}.wav", 8000 + 4000 * i,
              16000, 50 + i)
    for c, cond in enumerate(("no_reverb", "with_reverb")):
        base = root / "test_set" / "synthetic" / cond
        for i in range(pairs):
            n = 16000 + 800 * i
            write(base / "clean" / f"clean_fileid_{i}.wav", n, 16000, 100 + i)
            write(base / "noisy" / f"clnsp{i}_Typing_{c}_snr{5 * i}_tl-25_fileid_{i}.wav", n,
                  16000, 200 + i)
    return root


@pytest.fixture(scope="module")
def dns():
    return cr.load_script(DNS)


@pytest.fixture(scope="module")
def vbd():
    return cr.load_script(VBD)


def test_dns_layout(tmp_path, dns, capsys):
    root = dns_replica(tmp_path / "datasets")
    data = tmp_path / "data"
    assert dns.main([str(root), str(data), "--dev-utts", "2", "--dev-noises", "1",
                     "--dev-seconds", "1"]) == 0
    err = capsys.readouterr().err
    assert "found 3 pairs, the published synthetic no_reverb test set has 150" in err
    for c, cond in enumerate(("no_reverb", "with_reverb")):
        d = data / f"test_{cond}"
        base = root / "test_set" / "synthetic" / cond
        ids = ["fileid_0", "fileid_1", "fileid_2"]
        assert cr.pairs(d / "spk1.scp") == [(k, f"{base}/clean/clean_{k}.wav") for k in ids]
        assert cr.pairs(d / "wav.scp") == [
            (f"fileid_{i}", f"{base}/noisy/clnsp{i}_Typing_{c}_snr{5 * i}_tl-25_fileid_{i}.wav")
            for i in range(3)]
        assert cr.pairs(d / "utt2snr") == [("fileid_0", "0"), ("fileid_1", "5"),
                                           ("fileid_2", "10")]
        assert cr.pairs(d / "utt2num_samples") == [(f"fileid_{i}", str(16000 + 800 * i))
                                                   for i in range(3)]
        assert cr.lines(d / "sources") == ["speech"]
    train, pool = cr.pairs(data / "train" / "wav.scp"), cr.pairs(data / "train_noise" / "wav.scp")
    assert len(train) == 4 and len(pool) == 3  # 2 clean and 1 noise held out for dev
    assert cr.pairs(data / "train" / "spk1.scp") == train
    assert any(u.startswith("sub__noise_") for u, _ in pool)  # nested folders are found
    dev = data / "dev"
    assert len(cr.pairs(dev / "wav.scp")) == 2
    for (_, noisy), (_, clean), (_, noise), (_, snr) in zip(*(cr.pairs(dev / f) for f in (
            "wav.scp", "spk1.scp", "noise1.scp", "utt2snr"))):
        x, s, z = (sf.read(f)[0] for f in (noisy, clean, noise))
        assert len(x) == 16000 and np.allclose(x, s + z, atol=1e-6)
        assert 10 * np.log10(np.sum(s**2) / np.sum(z**2)) == pytest.approx(float(snr), abs=0.01)
        assert 0 <= float(snr) <= 40
    for f in os.listdir(data / "train"):
        if f != "sources":
            cr.assert_c_sorted(data / "train" / f)


def test_dns_missing_pair_and_folder(tmp_path, dns, capsys):
    root = dns_replica(tmp_path / "datasets")
    noisy = root / "test_set/synthetic/with_reverb/noisy"
    os.remove(next(noisy.glob("*_fileid_1.wav")))
    assert dns.main([str(root), str(tmp_path / "data"), "--skip-train"]) == 1
    err = capsys.readouterr().err
    assert (f"prepare_dns.py: error: {noisy}: no file for fileid_1 (its pair "
            f"{root}/test_set/synthetic/with_reverb/clean/clean_fileid_1.wav exists") in err
    shutil.rmtree(root / "noise")
    (noisy / "clnsp1_Typing_1_snr5_tl-25_fileid_1.wav").write_bytes(
        (root / "test_set/synthetic/with_reverb/clean/clean_fileid_1.wav").read_bytes())
    assert dns.main([str(root), str(tmp_path / "data")]) == 1
    assert f"{root / 'noise'}: folder not found (expected the training noise clips)" in \
        capsys.readouterr().err
    assert dns.main([str(tmp_path / "nowhere"), str(tmp_path / "data")]) == 1
    assert "nowhere: folder not found (expected the DNS Challenge datasets/" in \
        capsys.readouterr().err


def vbd_replica(root: Path) -> Path:
    speakers = {"train": ["p226", "p227", "p287", "p228"], "test": ["p232", "p257"]}
    names = {"train": ("clean_trainset_28spk_wav", "noisy_trainset_28spk_wav"),
             "test": ("clean_testset_wav", "noisy_testset_wav")}
    logs = {"train": "log_trainset_28spk.txt", "test": "log_testset.txt"}
    for split, spks in speakers.items():
        rows = []
        for j, spk in enumerate(spks):
            for k in (1, 2):
                utt = f"{spk}_{k:03d}"
                n = 4800 * (2 + j + k)  # 48 kHz, 0.2-0.6 s
                for i, folder in enumerate(names[split]):
                    write(root / folder / f"{utt}.wav", n, 48000, 10 * j + k + 100 * i)
                rows.append(f"{utt} cafe {2.5 + 5 * k if split == 'test' else 5 * k}")
        (root / "logfiles").mkdir(parents=True, exist_ok=True)
        (root / "logfiles" / logs[split]).write_text("\n".join(rows) + "\n")
    return root


def test_vbd_layout_resampled_and_dev_speakers(tmp_path, vbd, capsys):
    root = vbd_replica(tmp_path / "vbd")
    audio, data = tmp_path / "audio16k", tmp_path / "data"
    assert vbd.main([str(root), str(audio), str(data)]) == 0
    err = capsys.readouterr().err
    assert "found 8 files, the published set has 11572" in err
    assert "found 4 files, the published set has 824" in err
    assert [u for u, _ in cr.pairs(data / "train" / "wav.scp")] == [
        "p227_001", "p227_002", "p228_001", "p228_002"]
    assert [u for u, _ in cr.pairs(data / "dev" / "wav.scp")] == [
        "p226_001", "p226_002", "p287_001", "p287_002"]
    assert cr.pairs(data / "test" / "utt2spk") == [
        ("p232_001", "p232"), ("p232_002", "p232"), ("p257_001", "p257"), ("p257_002", "p257")]
    assert cr.pairs(data / "test" / "utt2snr")[:2] == [("p232_001", "7.5"), ("p232_002", "12.5")]
    assert cr.pairs(data / "dev" / "utt2noise_type")[0] == ("p226_001", "cafe")
    for utt, path in cr.pairs(data / "test" / "spk1.scp"):
        assert path == str(audio / "test" / "clean" / f"{utt}.wav")
        x, sr = sf.read(path)
        src, _ = sf.read(root / "clean_testset_wav" / f"{utt}.wav")
        assert sr == 16000 and len(x) == len(src) // 3
        spec = np.abs(np.fft.rfft(x))  # the same signal: its spectrum below 8 kHz is kept
        ref = np.abs(np.fft.rfft(src))[: len(spec)] / 3
        assert np.corrcoef(spec, ref)[0, 1] > 0.99
    lengths = dict(cr.pairs(data / "test" / "utt2num_samples"))
    assert lengths["p232_001"] == str(4800 * 3 // 3)
    mtime = os.path.getmtime(audio / "test" / "noisy" / "p232_001.wav")
    assert vbd.main([str(root), str(audio), str(data)]) == 0  # rerun: files kept
    assert os.path.getmtime(audio / "test" / "noisy" / "p232_001.wav") == mtime


def test_vbd_missing_pair_and_folder(tmp_path, vbd, capsys):
    root = vbd_replica(tmp_path / "vbd")
    os.remove(root / "noisy_testset_wav" / "p257_002.wav")
    args = [str(root), str(tmp_path / "a"), str(tmp_path / "d")]
    assert vbd.main(args) == 1
    assert (f"{root}/noisy_testset_wav/p257_002.wav: not found, but its pair "
            f"{root}/clean_testset_wav/p257_002.wav exists (1 missing in noisy_testset_wav/)"
            ) in capsys.readouterr().err
    shutil.rmtree(root / "clean_trainset_28spk_wav")
    assert vbd.main(args) == 1
    assert f"{root}/clean_trainset_28spk_wav: folder not found" in capsys.readouterr().err
