"""sepcore.bin.score / steps/score.sh / show_results on tiny data dirs built in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import sepcore.metrics
from sepcore.bin import score, show_results
from sepcore.errors import DataError
from sepcore.metrics.synth import speech_like
from sepcore.version import __version__

ROOT = Path(__file__).resolve().parents[1]
SR = 8000


def make_dirs(root: Path, n_utts=4, seconds=1.0, tag="expA", seed=0):
    """data/test (mixture + 2 references) and exp/<tag>/separate/test (2 estimates).

    Odd utterances have their estimates swapped (the scorer must find the permutation).
    """
    data = root / "data" / "test"
    sep = root / "exp" / tag / "separate" / "test"
    (data / "wav").mkdir(parents=True, exist_ok=True)
    (sep / "wav").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = {k: [] for k in ("wav", "spk1", "spk2", "e1", "e2")}
    for i in range(n_utts):
        u = f"utt{i:03d}"
        a, b = speech_like(seconds, SR, 2 * i), speech_like(seconds, SR, 2 * i + 1)
        if not (data / "wav" / f"{u}.wav").exists():
            sf.write(data / "wav" / f"{u}.wav", a + b, SR, subtype="FLOAT")
            sf.write(data / "wav" / f"{u}_1.wav", a, SR, subtype="FLOAT")
            sf.write(data / "wav" / f"{u}_2.wav", b, SR, subtype="FLOAT")
        n = len(a)
        ea = a + 0.1 * b + 0.02 * rng.standard_normal(n)
        eb = b + 0.15 * a + 0.02 * rng.standard_normal(n)
        if i % 2:
            ea, eb = eb, ea
        sf.write(sep / "wav" / f"{u}_spk1.wav", ea, SR, subtype="FLOAT")
        sf.write(sep / "wav" / f"{u}_spk2.wav", eb, SR, subtype="FLOAT")
        lines["wav"].append(f"{u} {data}/wav/{u}.wav\n")
        lines["spk1"].append(f"{u} {data}/wav/{u}_1.wav\n")
        lines["spk2"].append(f"{u} {data}/wav/{u}_2.wav\n")
        lines["e1"].append(f"{u} {sep}/wav/{u}_spk1.wav\n")
        lines["e2"].append(f"{u} {sep}/wav/{u}_spk2.wav\n")
    for name, key in (("wav.scp", "wav"), ("spk1.scp", "spk1"), ("spk2.scp", "spk2")):
        (data / name).write_text("".join(lines[key]))
    (sep / "spk1.scp").write_text("".join(lines["e1"]))
    (sep / "spk2.scp").write_text("".join(lines["e2"]))
    return data, sep


def run_score(data, sep, *extra):
    return score.main([str(data), str(sep), "--progress", "false", *extra])


def score_all(data, sep, nj=1, *extra):
    for j in range(1, nj + 1):
        run_score(data, sep, "--job", str(j), "--num-jobs", str(nj), *extra)
    run_score(data, sep, "--merge", *extra)


def read_tsv(path):
    rows = [ln.split("\t") for ln in Path(path).read_text().splitlines()]
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.fixture
def counting(monkeypatch):
    """Counts score_utterance calls and records which input metrics each computed."""
    calls = []
    real = sepcore.metrics.score_utterance

    def wrapped(*args, **kw):
        calls.append(list(kw.get("input_metrics") or []))
        return real(*args, **kw)

    monkeypatch.setattr(sepcore.metrics, "score_utterance", wrapped)
    return calls


@pytest.mark.slow
def test_jobs_merge_outputs_and_cache(tmp_path, counting):
    data, sep = make_dirs(tmp_path)
    score_all(data, sep, 2, "--metrics", "si_sdr,sdr")
    assert len(counting) == 4 and all(c == ["si_sdr", "sdr"] for c in counting)
    out = sep / "scores"
    header, rows = read_tsv(out / "per_utt.tsv")
    assert header == ["utt", "source", "estimate", "si_sdr", "input_si_sdr", "si_sdr_i",
                      "sdr", "input_sdr", "sdr_i"]
    assert [(r["utt"], r["source"], r["estimate"]) for r in rows[:4]] == [
        ("utt000", "spk1", "spk1"), ("utt000", "spk2", "spk2"),
        ("utt001", "spk1", "spk2"), ("utt001", "spk2", "spk1")]
    si = np.array([float(r["si_sdr"]) for r in rows])
    si_in = np.array([float(r["input_si_sdr"]) for r in rows])
    assert np.allclose([float(r["si_sdr_i"]) for r in rows], si - si_in)
    assert si.min() > 4 and (si - si_in).min() > 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exp"] == "expA" and summary["data_set"] == "test"
    assert summary["num_utts"] == 4 and summary["metrics"] == ["si_sdr", "sdr"]
    assert summary["permuted_utts"] == 2  # the odd utterances had their estimates swapped
    st = summary["scores"]["si_sdr"]
    assert st["count"] == 8 and st["excluded"] == 0
    assert st["mean"] == pytest.approx(si.mean()) and st["median"] == pytest.approx(np.median(si))
    assert st["std"] == pytest.approx(si.std())
    assert summary["by_source"]["spk1"]["sdr"]["count"] == 4
    md = (out / "RESULTS.md").read_text()
    assert md.startswith("# expA — test\n")
    assert f"sepcore {__version__}, torch " in md and "date: " in md
    assert "(2 of 4 utterances reordered)" in md
    assert f"| si_sdr | {st['mean']:.4f} |" in md
    assert not (out / "parts").exists()
    cache = data / "scores" / "input_scores.tsv"
    assert cache.is_file() and "checksum=" in cache.read_text().splitlines()[0]

    # a second experiment on the same data reuses the mixture's scores
    counting.clear()
    data2, sep2 = make_dirs(tmp_path, tag="expB", seed=1)
    score_all(data2, sep2, 1, "--metrics", "si_sdr,sdr")
    assert len(counting) == 4 and all(c == [] for c in counting)
    _, rows2 = read_tsv(sep2 / "scores" / "per_utt.tsv")
    assert [r["input_sdr"] for r in rows2] == [r["input_sdr"] for r in rows]
    # one more metric: only that one is computed for the mixture
    counting.clear()
    score_all(data2, sep2, 1, "--metrics", "si_sdr,sdr,stoi")
    assert all(c == ["stoi"] for c in counting)

    # a finished scoring is not redone
    counting.clear()
    score_all(data2, sep2, 1, "--metrics", "si_sdr,sdr,stoi")
    assert counting == []

    # changed data (wav.scp) invalidates the cache
    counting.clear()
    wav = (data / "wav.scp").read_text().replace("utt003.wav", "utt002.wav")
    (data / "wav.scp").write_text(wav)
    score_all(data, sep, 1, "--metrics", "si_sdr")
    assert all(c == ["si_sdr"] for c in counting)

    # show_results: one table, one row per experiment
    text = show_results.tables([(p, json.loads(p.read_text())) for p in
                                show_results.find_summaries([str(tmp_path / "exp" / "expA"),
                                                             str(tmp_path / "exp" / "expB")])])
    lines = text.splitlines()
    assert lines[0] == "## test"
    assert lines[2].startswith("| exp | utts | si_sdr_i | si_sdr |")
    assert lines[4].startswith("| expA | 4 |") and lines[5].startswith("| expB | 4 |")


def test_resume_recomputes_only_missing(tmp_path, counting, monkeypatch):
    data, sep = make_dirs(tmp_path, n_utts=4)
    real = sepcore.metrics.score_utterance
    n = {"calls": 0}

    def dies_on_third(*args, **kw):
        n["calls"] += 1
        if n["calls"] == 3:
            raise KeyboardInterrupt  # the job is killed mid-way
        return real(*args, **kw)

    monkeypatch.setattr(sepcore.metrics, "score_utterance", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        run_score(data, sep, "--metrics", "si_sdr")
    part = sep / "scores" / "parts" / "job.1.jsonl"
    assert len(part.read_text().splitlines()) == 3  # header + 2 utterances
    with open(part, "a") as f:
        f.write('{"utt": "utt002", "perm": [0')  # a half-written line
    with pytest.raises(DataError, match="2 of 4 utterances are not scored yet"):
        run_score(data, sep, "--metrics", "si_sdr", "--merge")
    monkeypatch.setattr(sepcore.metrics, "score_utterance", real)  # counts calls
    counting.clear()
    score_all(data, sep, 1, "--metrics", "si_sdr")
    assert len(counting) == 2
    _, rows = read_tsv(sep / "scores" / "per_utt.tsv")
    assert len(rows) == 8


@pytest.mark.slow
def test_default_metrics_and_silent_reference(tmp_path):
    data, sep = make_dirs(tmp_path, n_utts=2, seconds=1.5)
    sf.write(data / "wav" / "utt001_2.wav", np.zeros(int(1.5 * SR)), SR, subtype="FLOAT")
    score_all(data, sep, 1)
    summary = json.loads((sep / "scores" / "summary.json").read_text())
    assert summary["metrics"] == ["si_sdr", "sdr", "sir", "sar", "stoi", "pesq"]
    assert summary["silent_references"] == 1 and summary["silent_estimates"] == 0
    for m in summary["metrics"]:
        assert summary["scores"][m]["count"] == 3 and summary["scores"][m]["excluded"] == 1
    _, rows = read_tsv(sep / "scores" / "per_utt.tsv")
    silent = [r for r in rows if r["utt"] == "utt001" and r["source"] == "spk2"][0]
    assert silent["si_sdr"] == "nan" and silent["input_si_sdr"] == "nan"
    assert 1.0 < float(rows[0]["pesq"]) <= 4.6 and 0 < float(rows[0]["stoi"]) <= 1
    md = (sep / "scores" / "RESULTS.md").read_text()
    assert "1 silent references" in md and "| pesq_i |" in md


def write_est(sep, utt, k, data, sr=SR, subtype="FLOAT"):
    sf.write(sep / "wav" / f"{utt}_spk{k}.wav", data, sr, subtype=subtype)


@pytest.mark.parametrize("case,pattern", [
    ("missing_line", r"spk2\.scp: no estimate for utterance 'utt001'"),
    ("missing_file", r"utterance 'utt001': estimate: .*utt001_spk1\.wav: audio file not found"),
    ("length", r"utterance 'utt001': lengths differ: .*utt001.*has 8000 samples but "
               r".*utt001_spk1\.wav has 7000.*--allow-length-mismatch true"),
    ("count", r"3 estimate files .* 2 references .*'utt000'"),
    ("nan", r"utterance 'utt001': estimate .*utt001_spk2\.wav contains NaN or inf \(1 values\)"),
    ("rate", r"utterance 'utt001': sample-rate mismatch: estimate .*utt001_spk1\.wav is at "
             r"16000 Hz but reference .*utt001_1\.wav is at 8000 Hz"),
])
def test_bad_input_errors(tmp_path, case, pattern):
    data, sep = make_dirs(tmp_path, n_utts=2)
    if case == "missing_line":
        lines = (sep / "spk2.scp").read_text().splitlines(keepends=True)
        (sep / "spk2.scp").write_text(lines[0])
    elif case == "missing_file":
        (sep / "wav" / "utt001_spk1.wav").unlink()
    elif case == "length":
        write_est(sep, "utt001", 1, np.full(7000, 0.1))
    elif case == "count":
        (sep / "spk3.scp").write_text((sep / "spk1.scp").read_text())
    elif case == "nan":
        x = sf.read(sep / "wav" / "utt001_spk2.wav")[0]
        x[100] = np.nan
        write_est(sep, "utt001", 2, x)
    elif case == "rate":
        write_est(sep, "utt001", 1, np.full(16000, 0.1), sr=16000)
    with pytest.raises(DataError, match=pattern):
        run_score(data, sep, "--metrics", "si_sdr")


def test_allow_length_mismatch_trims_and_counts(tmp_path):
    data, sep = make_dirs(tmp_path, n_utts=2)
    x = sf.read(sep / "wav" / "utt001_spk1.wav")[0]
    write_est(sep, "utt001", 1, x[:7000])
    score_all(data, sep, 1, "--metrics", "si_sdr", "--allow-length-mismatch", "true")
    summary = json.loads((sep / "scores" / "summary.json").read_text())
    assert summary["length_mismatch"] == {"allowed": True, "trimmed_utts": 1,
                                          "trimmed_samples": 1000}
    assert "1 utterances trimmed (1000 samples" in (sep / "scores" / "RESULTS.md").read_text()
    # trimmed mixture scores are not cached
    cache = (data / "scores" / "input_scores.tsv").read_text()
    assert "utt000\t" in cache and "utt001\t" not in cache


def _env():
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{ROOT / 'utils'}:{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.mark.slow
def test_cli_error_is_clean(tmp_path):
    data, sep = make_dirs(tmp_path, n_utts=2)
    (sep / "spk2.scp").write_text("")
    p = subprocess.run([sys.executable, "-m", "sepcore.bin.score", str(data), str(sep)],
                       capture_output=True, text=True, env=_env())
    assert p.returncode == 1
    assert p.stderr.startswith("python -m sepcore.bin.score: error: ")
    assert "Traceback" not in p.stderr
    assert "no estimate for utterance 'utt000'" in p.stderr


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / "utils" / "run.pl").exists(), reason="utils/run.pl missing")
def test_score_sh_and_show_results_sh(tmp_path):
    data, sep = make_dirs(tmp_path, n_utts=4)
    cmd = [str(ROOT / "steps" / "score.sh"), "--nj", "2", "--metrics", "si_sdr,sdr",
           str(data), str(sep)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=tmp_path)
    assert p.returncode == 0, p.stderr + p.stdout
    assert "# expA — test" in p.stdout
    for j in (1, 2):
        log = (sep / "scores" / "log" / f"score.{j}.log").read_text()
        assert f"job {j}/2: 2 utterances, 0 already scored, 2 to do" in log
    _, rows = read_tsv(sep / "scores" / "per_utt.tsv")
    assert len(rows) == 8
    p = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=tmp_path)
    assert p.returncode == 0 and "nothing to do" in p.stderr
    p = subprocess.run([str(ROOT / "steps" / "show_results.sh"), str(tmp_path / "exp" / "expA")],
                       capture_output=True, text=True, env=_env())
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[4].startswith("| expA | 4 | ")
    p = subprocess.run([str(ROOT / "steps" / "score.sh"), "--help"], capture_output=True,
                       text=True, env=_env())
    assert p.returncode == 0 and "Usage: steps/score.sh" in p.stdout


@pytest.mark.slow
def test_silent_estimate_is_counted(tmp_path):
    data, sep = make_dirs(tmp_path, n_utts=2)
    write_est(sep, "utt000", 2, np.zeros(SR))
    score_all(data, sep, 1, "--metrics", "si_sdr,sdr")
    summary = json.loads((sep / "scores" / "summary.json").read_text())
    assert summary["silent_estimates"] == 1
    assert summary["scores"]["si_sdr"]["excluded"] == 1
    assert "1 estimates are all zeros" in (sep / "scores" / "RESULTS.md").read_text()
