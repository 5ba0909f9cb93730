"""RESULTS.md / summary.json per SNR and per noise type when the data dir has utt2snr and
utt2noise_type."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepcore.bin import score
from sepcore.errors import DataError
from sepcore.metrics.synth import speech_like
from sepcore.scoring.breakdown import snr_labels

SR = 8000
SNRS = [0, 0, 5, 5, 10, 10]
TYPES = ["hum", "babble", "hum", "babble", "hum", "babble"]


def make(root: Path):
    data, sep = root / "data" / "test", root / "exp" / "m" / "separate" / "test"
    (data / "wav").mkdir(parents=True)
    (sep / "wav").mkdir(parents=True)
    rng = np.random.default_rng(0)
    files = {"wav.scp": [], "spk1.scp": [], "utt2snr": [], "utt2noise_type": [], "est": []}
    for i, (snr, kind) in enumerate(zip(SNRS, TYPES)):
        u = f"u{i}"
        s = speech_like(0.8, SR, i)
        n = rng.standard_normal(len(s))
        n *= np.sqrt(np.sum(s**2) / np.sum(n**2)) * 10 ** (-snr / 20)
        sf.write(data / "wav" / f"{u}.wav", s + n, SR, subtype="FLOAT")
        sf.write(data / "wav" / f"{u}_s.wav", s, SR, subtype="FLOAT")
        sf.write(sep / "wav" / f"{u}.wav", s + 0.3 * n, SR, subtype="FLOAT")
        files["wav.scp"].append(f"{u} {data}/wav/{u}.wav")
        files["spk1.scp"].append(f"{u} {data}/wav/{u}_s.wav")
        files["utt2snr"].append(f"{u} {snr}")
        files["utt2noise_type"].append(f"{u} {kind}")
        files["est"].append(f"{u} {sep}/wav/{u}.wav")
    for name, lines in files.items():
        target = sep / "spk1.scp" if name == "est" else data / name
        target.write_text("".join(f"{ln}\n" for ln in lines))
    return data, sep


def run(data, sep):
    for extra in ([], ["--merge"]):
        score.main([str(data), str(sep), "--progress", "false", "--metrics", "si_sdr,ssnr",
                    *extra])


def test_per_snr_and_noise_type(tmp_path):
    data, sep = make(tmp_path)
    run(data, sep)
    summary = json.loads((sep / "scores" / "summary.json").read_text())
    by_snr, by_type = summary["by_snr"], summary["by_noise_type"]
    assert list(by_snr) == ["0", "5", "10"] and list(by_type) == ["babble", "hum"]
    assert [g["num_utts"] for g in by_snr.values()] == [2, 2, 2]
    # input SI-SDR is the SNR (white noise, 0.8 s); the estimate keeps 0.3 of the noise
    for snr, g in by_snr.items():
        assert g["scores"]["input_si_sdr"]["mean"] == pytest.approx(float(snr), abs=0.2)
        assert g["scores"]["si_sdr_i"]["mean"] == pytest.approx(-20 * np.log10(0.3), abs=0.2)
    rows = (sep / "scores" / "per_utt.tsv").read_text().splitlines()
    head = rows[0].split("\t")
    vals = {r.split("\t")[0]: float(r.split("\t")[head.index("ssnr")]) for r in rows[1:]}
    assert by_type["hum"]["scores"]["ssnr"]["mean"] == pytest.approx(
        np.mean([vals["u0"], vals["u2"], vals["u4"]]))
    md = (sep / "scores" / "RESULTS.md").read_text()
    assert "Per SNR (dB), spk1" in md and "| noise type | utts | si_sdr | ssnr |" in md
    line = next(ln for ln in md.splitlines() if ln.startswith("| 10 | 2 |"))
    assert f"({by_snr['10']['scores']['input_si_sdr']['mean']:.4f})" in line


def test_bad_breakdown_files(tmp_path):
    data, sep = make(tmp_path)
    (data / "utt2snr").write_text("u0 0\nu1 5\n")
    with pytest.raises(DataError, match="utt2snr: no line for utterance 'u2'"):
        run(data, sep)
    (data / "utt2snr").write_text("".join(f"u{i} x\n" for i in range(6)))
    with pytest.raises(DataError, match=r"utt2snr:1: expected an SNR in dB \(a number\), got 'x'"):
        run(data, sep)


def test_many_snrs_are_binned():
    values = {f"u{i}": v for i, v in enumerate(np.linspace(-4.9, 24.9, 40))}
    labels = snr_labels(values)
    assert labels["u0"] == "[-5, 0)" and labels["u39"] == "[20, 25)"
    assert len(set(labels.values())) == 6
    assert snr_labels({"a": 2.5, "b": 7.5}) == {"a": "2.5", "b": "7.5"}
