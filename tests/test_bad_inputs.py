"""A catalogue of bad inputs and faults (issue 17): each one ends in a non-zero exit or an
error naming the file, line or option, or gives a correct result, never a plausible wrong
number. Grouped by what goes wrong: stale caches, mixed outputs, configs, metric caps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepcore.bin import score
from sepcore.metrics.sisdr import si_sdr
from sepcore.metrics.synth import speech_like

SR = 8000


def _write_dirs(root: Path, n_utts: int = 2, tag: str = "expA", mix_gain: float | None = None):
    """data/test (mixture = a + mix_gain * b, references a, b; written when missing or when
    ``mix_gain`` is given) and exp/<tag>/separate/test."""
    data = root / "data" / "test"
    sep = root / "exp" / tag / "separate" / "test"
    for d in (data / "wav", sep / "wav"):
        d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    lines: dict[str, list[str]] = {k: [] for k in ("wav", "spk1", "spk2", "e1", "e2")}
    for i in range(n_utts):
        u = f"utt{i:03d}"
        a, b = speech_like(1.0, SR, 2 * i), speech_like(1.0, SR, 2 * i + 1)
        if mix_gain is not None or not (data / "wav" / f"{u}.wav").exists():
            sf.write(data / "wav" / f"{u}.wav", a + (mix_gain or 1.0) * b, SR, subtype="FLOAT")
            sf.write(data / "wav" / f"{u}_1.wav", a, SR, subtype="FLOAT")
            sf.write(data / "wav" / f"{u}_2.wav", b, SR, subtype="FLOAT")
        n = len(a)
        sf.write(sep / "wav" / f"{u}_spk1.wav", a + 0.1 * b + 0.02 * rng.standard_normal(n), SR,
                 subtype="FLOAT")
        sf.write(sep / "wav" / f"{u}_spk2.wav", b + 0.1 * a + 0.02 * rng.standard_normal(n), SR,
                 subtype="FLOAT")
        for k, f in (("wav", data / "wav" / f"{u}.wav"), ("spk1", data / "wav" / f"{u}_1.wav"),
                     ("spk2", data / "wav" / f"{u}_2.wav"), ("e1", sep / "wav" / f"{u}_spk1.wav"),
                     ("e2", sep / "wav" / f"{u}_spk2.wav")):
            lines[k].append(f"{u} {f}\n")
    for name, key in (("wav.scp", "wav"), ("spk1.scp", "spk1"), ("spk2.scp", "spk2")):
        (data / name).write_text("".join(lines[key]))
    (sep / "spk1.scp").write_text("".join(lines["e1"]))
    (sep / "spk2.scp").write_text("".join(lines["e2"]))
    return data, sep


def _score(data, sep, *extra) -> dict:
    for args in ([], ["--merge"]):
        assert score.main([str(data), str(sep), "--progress", "false", *args, *extra]) == 0
    return json.loads((sep / "scores" / "summary.json").read_text())


def _per_utt(sep) -> list[dict]:
    rows = [ln.split("\t") for ln in (sep / "scores" / "per_utt.tsv").read_text().splitlines()]
    return [dict(zip(rows[0], r)) for r in rows[1:]]


# --- stale caches (case 2) ------------------------------------------------------------------

def test_cache_regenerated_mixture_is_rescored(tmp_path):
    data, sep = _write_dirs(tmp_path)
    first = _score(data, sep, "--metrics", "si_sdr")
    assert first["input_cache"]["used"] == {}
    assert "none from the cache" in (sep / "scores" / "RESULTS.md").read_text()
    # the mixture audio regenerated in place (same names, same size, same scp text)
    data, sep2 = _write_dirs(tmp_path, tag="expB", mix_gain=4.0)
    summary = _score(data, sep2, "--metrics", "si_sdr")
    assert summary["input_cache"]["used"] == {}
    for r in _per_utt(sep2):
        mix, _ = sf.read(data / "wav" / f"{r['utt']}.wav")
        ref, _ = sf.read(data / "wav" / f"{r['utt']}_{r['source'][-1]}.wav")
        assert float(r["input_si_sdr"]) == pytest.approx(si_sdr(mix, ref), abs=1e-6)


def test_cache_use_is_stated_in_results(tmp_path):
    data, sep = _write_dirs(tmp_path)
    _score(data, sep, "--metrics", "si_sdr")
    _, sep2 = _write_dirs(tmp_path, tag="expB")
    summary = _score(data, sep2, "--metrics", "si_sdr")
    assert summary["input_cache"]["used"] == {"si_sdr": 2}
    md = (sep2 / "scores" / "RESULTS.md").read_text()
    assert "mixture scores from the cache" in md and "input_si_sdr of 2 utterances" in md
    assert str(data / "scores" / "input_scores.tsv") in md
