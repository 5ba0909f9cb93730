"""A catalogue of bad inputs and faults (issue 17): each one ends in a non-zero exit or an
error naming the file, line or option, or gives a correct result, never a plausible wrong
number. Grouped by what goes wrong: stale caches, mixed outputs, configs, metric caps,
damaged audio, corpus preps, option values at the edge (shell steps and entry points),
malformed text files, the recipe template. (Outputs, locks, kills and damaged checkpoints:
tests/test_bad_inputs_outputs.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepcore.bin import score
from sepcore.errors import DataError
from sepcore.metrics.sisdr import si_sdr
from sepcore.metrics.synth import speech_like

SR = 8000
ROOT = Path(__file__).resolve().parents[1]


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


# --- outputs of two models mixed (case 1) ---------------------------------------------------

@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    """Two exp dirs with the same architecture and different weights."""
    import torch
    from helpers.inference import TINY, make_exp_dir

    from sepcore.modelfile import save_model_file
    from sepcore.models import build_model

    root = tmp_path_factory.mktemp("models")
    a, b = make_exp_dir(root, "a"), make_exp_dir(root, "b")
    torch.manual_seed(1)
    save_model_file(b / "model.pt", build_model(TINY), TINY, 8000, ["spk1", "spk2"], {})
    return a, b


def _sep_data(tmp_path, n=3):
    from helpers.inference import tone_mix

    d = tmp_path / "data"
    d.mkdir()
    for i in range(n):
        sf.write(tmp_path / f"u{i}.wav", tone_mix(0.3, SR, seed=i), SR)
    (d / "wav.scp").write_text("".join(f"utt{i} {tmp_path}/u{i}.wav\n" for i in range(n)))
    return d


def _separate(model, data, out, *extra):
    from sepcore.bin.separate import main

    with pytest.raises(SystemExit) as e:
        main(["--model", str(model), "--data-dir", str(data), "--out-dir", str(out), *extra])
    return e.value.code


def test_separate_rerun_with_other_model_is_refused(two_models, tmp_path, capsys):
    a, b = two_models
    d, out = _sep_data(tmp_path), tmp_path / "sep"
    assert _separate(a, d, out) == 0
    prov = json.loads((out / "separate.json").read_text())
    from sepcore.pack import sha256_file
    assert prov["model_sha256"] == sha256_file(a / "model.pt")
    capsys.readouterr()
    assert _separate(b, d, out) == 1  # not "3 already done" with a's outputs
    err = capsys.readouterr().err
    assert f"{out}/separate.json: this folder holds estimates made with" in err
    # the same exp dir path, its model.pt retrained (other weights): the checksum tells
    import shutil
    c = tmp_path / "c"
    shutil.copytree(a, c)
    out2 = tmp_path / "sep2"
    assert _separate(c, d, out2) == 0
    shutil.copy(b / "model.pt", c / "model.pt")
    capsys.readouterr()
    assert _separate(c, d, out2) == 1
    err = capsys.readouterr().err
    assert "separate.json: this folder holds estimates made with" in err and "--force" in err


def test_separate_force_removes_old_outputs_first(two_models, tmp_path):
    a, _ = two_models
    d, out = _sep_data(tmp_path), tmp_path / "sep"
    assert _separate(a, d, out) == 0
    (out / "spk1.scp").write_text("utt0 old\n")
    (out / "spk2.scp").write_text("utt0 old\n")
    (out / "scores").mkdir()
    # a forced run with other options, killed after claiming the folder: no old spkN.scp left
    assert _separate(a, d, out, "--force", "true", "--job", "1", "--num-jobs", "3") == 0
    assert not list(out.glob("spk*.scp")) and not (out / "scores").exists()


def test_separate_unknown_origin_is_refused(two_models, tmp_path, capsys):
    a, _ = two_models
    d, out = _sep_data(tmp_path), tmp_path / "sep"
    (out / "wav").mkdir(parents=True)
    (out / "wav" / "utt0_spk1.wav").write_bytes(b"")
    assert _separate(a, d, out) == 1
    assert "holds estimates without separate.json" in capsys.readouterr().err


@pytest.mark.slow
def test_steps_separate_force_then_kill_never_mixes(two_models, tmp_path):
    a, b = two_models
    d, out = _sep_data(tmp_path), tmp_path / "sep"
    env = dict(os.environ, PYTHONPATH=str(ROOT), LC_ALL="C", OMP_NUM_THREADS="1",
               PATH=f"{Path(sys.executable).parent}:{ROOT / 'utils'}:{os.environ['PATH']}")
    sh = str(ROOT / "steps" / "separate.sh")
    p = subprocess.run([sh, str(a), str(d), str(out)], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    # a forced run with model b whose last job fails (as if killed): nothing of a is left
    (d / "wav.scp").write_text((d / "wav.scp").read_text() + f"utt9 {tmp_path}/none.wav\n")
    p = subprocess.run([sh, "--force", "true", str(b), str(d), str(out)], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert not list(out.glob("spk*.scp"))
    with pytest.raises(DataError, match="did not finish"):
        from sepcore.scoring.inputs import Inputs
        Inputs(str(d), str(out))


def _scorable(tmp_path):
    data, sep = _write_dirs(tmp_path)
    prov = {"model": "/m", "model_sha256": "0" * 64, "sources": ["spk1", "spk2"],
            "wiener": None, "window": 1, "hop": 1, "whole": 1}
    return data, sep, prov


def test_score_refuses_incomplete_provenance(tmp_path):
    data, sep, prov = _scorable(tmp_path)
    del prov["model_sha256"]
    (sep / "separate.json").write_text(json.dumps(prov))
    with pytest.raises(DataError, match=r"separate.json: incomplete provenance \(no model_sha256"):
        _score(data, sep)


def test_score_refuses_estimates_older_than_provenance(tmp_path):
    data, sep, prov = _scorable(tmp_path)
    (sep / "separate.json").write_text(json.dumps(prov))
    os.utime(sep / "spk1.scp", ns=(1, 1))
    with pytest.raises(DataError, match=r"spk1.scp: older than .*separate.json"):
        _score(data, sep)


def test_score_records_provenance(tmp_path):
    data, sep, prov = _scorable(tmp_path)
    (sep / "separate.json").write_text(json.dumps(prov))
    for f in sep.glob("spk*.scp"):
        f.touch()
    summary = _score(data, sep, "--metrics", "si_sdr")
    assert summary["separation"] == prov
    results = (sep / "scores" / "RESULTS.md").read_text()
    assert "- estimates: model /m (sha256 0000000000000000)" in results
    assert "precision" not in results  # written by a sepcore that did not record it
    data, sep, prov = _scorable(tmp_path / "bf16")
    (sep / "separate.json").write_text(json.dumps({**prov, "precision": "bf16"}))
    for f in sep.glob("spk*.scp"):
        f.touch()
    _score(data, sep, "--metrics", "si_sdr")
    assert ", precision bf16\n" in (sep / "scores" / "RESULTS.md").read_text()
    data, sep, prov = _scorable(tmp_path / "pf")
    pf = {"beta": 3.0, "power": 1.0, "residual": 0.5, "n_fft": 1024, "hop_length": 256}
    (sep / "separate.json").write_text(json.dumps({**prov, "postfilter": pf}))
    for f in sep.glob("spk*.scp"):
        f.touch()
    _score(data, sep, "--metrics", "si_sdr")
    assert f", postfilter {pf}\n" in (sep / "scores" / "RESULTS.md").read_text()


def test_exp_tag_of_any_separate_dir(tmp_path):
    from sepcore.scoring.results import exp_tag

    assert exp_tag(tmp_path / "exp" / "ctn" / "separate" / "test") == "ctn"
    assert exp_tag(tmp_path / "exp" / "ctn" / "separate_bf16" / "test") == "ctn"
    assert exp_tag(tmp_path / "elsewhere" / "test") == "test"


# --- configs and training (case 3) ----------------------------------------------------------

@pytest.mark.parametrize("override, message", [
    (["--training.batch_size", "-1"], "training.batch_size must be a positive integer, got -1"),
    (["--training.batch_size", "0"], "training.batch_size must be a positive integer, got 0"),
    (["--training.batch_size", "2.5"], "training.batch_size must be a positive integer, got 2.5"),
    (["--training.batch_size", "true"], "training.batch_size must be a positive integer, got True"),
    (["--optim.lr", "abc"], "optim.lr must be a number > 0, got 'abc'"),
    (["--optim.lr", "0"], "optim.lr must be a number > 0, got 0"),
    (["--optim.lr", ".nan"], "optim.lr must be a number > 0, got nan"),
    (["--optim.accum_grad", "0"], "optim.accum_grad must be a positive integer, got 0"),
    (["--training.max_epochs", "-3"], "training.max_epochs must be a positive integer"),
    (["--training.max_minutes", "0"], "training.max_minutes must be null or a number > 0"),
    (["--data.segment", "-4"], "data.segment must be a number > 0, got -4"),
    (["--data.num_workers", "two"], "data.num_workers must be an integer >= 0, got 'two'"),
    (["--data.dynamic_mixing", "yes please"], "data.dynamic_mixing must be true or false"),
    (["--scheduler.factor", "1.5"], r"scheduler.factor must be a number in \(0, 1\), got 1.5"),
    (["--optim.weight_decay", "-1e-3"], "optim.weight_decay must be a number >= 0"),
    (["--early_stop.patience", "-1"], "early_stop.patience must be null or an integer >= 0"),
])
def test_config_value_errors_name_key_value_and_expectation(override, message):
    from sepcore.config import load_config
    from sepcore.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        load_config(None, override)


def test_config_every_default_key_rejects_a_bad_value():
    """Every value key of the defaults (and the default dataset's) has a checked type, so a
    key added later without a check fails here."""
    import copy

    from sepcore.config import DEFAULTS, FREE_FORM_SECTIONS, load_config, validate_config
    from sepcore.data.registry import dataset_spec
    from sepcore.errors import ConfigError

    base = load_config(None)
    keys = [(s, k) for s, sec in DEFAULTS.items() if s not in FREE_FORM_SECTIONS for k in sec]
    keys += [("data", k) for k in dataset_spec("segment").defaults]
    unchecked = []
    for section, key in keys:
        if (section, key) == ("data", "dataset"):
            continue  # chosen before the merge: an unknown name is an error there
        cfg = copy.deepcopy(base)
        if section == "loss":  # the MR-STFT keys are read (and checked) when it is on
            cfg["loss"]["name"] = "si_sdr+mrstft"
        cfg[section][key] = ["not", "a", "value"]
        try:
            validate_config(cfg)
            unchecked.append(f"{section}.{key}")
        except ConfigError as e:
            # (sepcore/losses names the resolution, not which of its three lists is bad)
            assert (section if key.startswith("mrstft_") else f"{section}.{key}") in str(e)
    assert unchecked == []


@pytest.mark.slow
def test_bad_batch_size_trains_nothing_and_marks_nothing_done(tmp_path):
    from helpers.configs import TINY_CONVTASNET, as_yaml_flow
    from helpers.datadirs import make_datadir

    for name in ("train", "dev"):
        make_datadir(tmp_path, name, num_utts=2)
    exp = tmp_path / "exp"
    (tmp_path / "c.yaml").write_text(f"model: {as_yaml_flow(TINY_CONVTASNET)}\n")
    p = subprocess.run(
        [sys.executable, "-m", "sepcore.bin.train", "--config", str(tmp_path / "c.yaml"),
         "--train-dir", str(tmp_path / "data/train"),
         "--valid-dir", str(tmp_path / "data/dev"), "--exp-dir", str(exp),
         "--training.batch_size", "-1"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "training.batch_size must be a positive integer, got -1" in p.stderr
    assert not (exp / ".train.done").exists() and not (exp / "model.pt").exists()


def test_zero_steps_is_never_marked_done(tmp_path):
    from types import SimpleNamespace

    from sepcore.train.trainer import Trainer

    stub = SimpleNamespace(state={"steps": 0}, exp=tmp_path, train_set=[], train_dir="data/tr",
                           cfg={"training": {"batch_size": 4, "max_minutes": 1e-9}})
    with pytest.raises(DataError, match="training ran 0 steps .*batch_size 4.* not written"):
        Trainer.finish(stub)
    assert not (tmp_path / ".train.done").exists()


def test_segment_longer_than_every_utterance_warns(tmp_path, caplog):
    from helpers.datadirs import make_datadir

    from sepcore.data import DataDir
    from sepcore.data.dataset import segment_dataset

    d = DataDir.load(make_datadir(tmp_path, "train", num_utts=3, max_len=1.0))
    cfg = {"segment": 100.0, "dynamic_mixing": False, "epoch_size": None, "mix_snr_range": 5.0}
    segment_dataset(d, cfg, sample_rate=8000, seed=0)
    msg = caplog.text
    assert "data.segment 100 s is longer than the longest utterance" in msg
    assert "99 % of every example is zero padding" in msg
    caplog.clear()
    segment_dataset(d, dict(cfg, segment=0.5), sample_rate=8000, seed=0)
    assert "zero padding" not in caplog.text


# --- numbers that mean nothing (case 7) -----------------------------------------------------

def test_clean_input_ssnr_and_composite_caps_are_not_an_improvement(tmp_path):
    # an "enhancement" set whose input is the clean speech: SSNR at its 35 dB frame
    # clamp, CSIG / CBAK / COVL at their 5.0 ceiling: not measurements of the input
    data, sep = tmp_path / "data" / "test", tmp_path / "exp" / "e" / "separate" / "test"
    for d in (data, sep):
        d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    clean = speech_like(2.0, SR, 0)
    clean += 1e-3 * rng.standard_normal(len(clean))  # no silent frame (those clamp to -10)
    noisy = clean + 0.05 * rng.standard_normal(len(clean))
    sf.write(data / "u.wav", clean, SR, subtype="FLOAT")
    sf.write(sep / "u_speech.wav", noisy, SR, subtype="FLOAT")
    (data / "wav.scp").write_text(f"u {data / 'u.wav'}\n")
    (data / "spk1.scp").write_text(f"u {data / 'u.wav'}\n")
    (sep / "spk1.scp").write_text(f"u {sep / 'u_speech.wav'}\n")
    summary = _score(data, sep, "--metrics", "ssnr,csig,cbak,covl,pesq")
    assert summary["capped_inputs"] == {"ssnr": {"count": 1, "cap": 35.0},
                                        **{m: {"count": 1, "cap": 5.0}
                                           for m in ("csig", "cbak", "covl")}}
    st = summary["scores"]
    assert st["ssnr_i"]["count"] == 0 and st["ssnr"]["count"] == 1
    assert st["ssnr"]["mean"] < 35.0 and st["csig"]["count"] == 1
    assert st["pesq_i"]["count"] == 1  # PESQ has no cap: a clean input's 4.5 is a score


def test_clean_mixture_sar_cap_is_not_an_improvement(tmp_path):
    data, sep = _write_dirs(tmp_path)  # mixture = a + b exactly: no artefacts at all
    summary = _score(data, sep, "--metrics", "sar,sdr")
    assert summary["capped_inputs"] == {"sar": {"count": 4, "cap": 140.0}}
    st = summary["scores"]
    assert st["sar_i"]["count"] == 0 and st["sar_i"]["excluded"] == 4
    assert st["sar_i"]["mean"] is None
    assert st["input_sar"]["excluded"] == 4
    assert st["sar"]["count"] == 4 and st["sdr_i"]["count"] == 4  # the rest is reported
    assert all(r["sar_i"] == "nan" and r["input_sar"] == "nan" for r in _per_utt(sep))
    md = (sep / "scores" / "RESULTS.md").read_text()
    assert "input_sar of 4 sources is at the metric's cap" in md and "not applicable" in md
    assert "| sar_i | nan | nan | nan | 0 | 4 |" in md
    from sepcore.bin import show_results
    text = show_results.tables([(sep / "scores" / "summary.json", summary)])
    assert "-139" not in text and "-14" not in text


# --- damaged audio (case 5) -----------------------------------------------------------------

def _segment_set(d, segment=0.5):
    from sepcore.data import DataDir
    from sepcore.data.dataset import segment_dataset

    cfg = {"segment": segment, "dynamic_mixing": False, "epoch_size": None,
           "mix_snr_range": 5.0}
    return segment_dataset(DataDir.load(d), cfg, sample_rate=8000, seed=0)


def test_truncated_reference_is_named_not_zero_padded(tmp_path):
    from helpers.datadirs import make_datadir

    d = make_datadir(tmp_path, "train", num_utts=2, min_len=1.0, max_len=1.01)
    ref = Path((d / "spk1.scp").read_text().split()[1])
    raw = ref.read_bytes()
    ref.write_bytes(raw[: len(raw) // 3])  # a copy cut short: header frames > data
    ds = _segment_set(d, segment=0.9)
    with pytest.raises(DataError, match=rf"{ref}: read \d+ samples from sample \d+, expected 7200"):
        for i in range(len(ds)):
            ds[i]


def test_zero_frame_mixture_is_refused_by_name(tmp_path):
    from helpers.datadirs import make_datadir

    d = make_datadir(tmp_path, "train", num_utts=2)
    (d / "utt2num_samples").unlink()
    mix = Path((d / "wav.scp").read_text().split()[1])
    sf.write(mix, np.zeros(0), 8000)
    with pytest.raises(DataError, match=rf"{mix}: utterance '\S+' has no samples \(0 frames\)"):
        _segment_set(d)


def _truncate(path: Path, fraction: float = 3) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) // fraction)])  # a copy cut short


def _sh(*args, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, LC_ALL="C", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1",
               PATH=f"{Path(sys.executable).parent}:{ROOT / 'utils'}:{os.environ['PATH']}")
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def _validate(d: Path, *opts) -> subprocess.CompletedProcess:
    return _sh(ROOT / "utils" / "validate_data_dir.sh", *opts, d)


def _line_of(scp: Path, utt: str) -> int:
    return [ln.split()[0] for ln in scp.read_text().splitlines()].index(utt) + 1


def test_validate_names_a_truncated_reference_with_both_lengths(tmp_path):
    from helpers.datadirs import make_datadir

    d = make_datadir(tmp_path, "dev", num_utts=3)
    utt, ref = (d / "spk2.scp").read_text().splitlines()[1].split()
    expected = dict(ln.split() for ln in (d / "utt2num_samples").read_text().splitlines())[utt]
    _truncate(Path(ref))
    r = _validate(d)
    assert r.returncode == 1 and "OK" not in r.stdout
    frames = sf.info(ref).frames
    assert (f"validate_data_dir.sh: {d}/spk2.scp:2: utterance {utt}: {ref}: {frames} frames, "
            f"but {d}/utt2num_samples:2 says {expected} (truncated or damaged?") in r.stderr


def test_validate_refuses_a_zero_frame_reference_by_name(tmp_path):
    from helpers.datadirs import make_datadir

    d = make_datadir(tmp_path, "dev", num_utts=3)
    (d / "utt2num_samples").unlink()  # also without lengths: never "silent", never dropped
    utt, ref = (d / "spk1.scp").read_text().splitlines()[2].split()
    sf.write(ref, np.zeros(0), SR)
    r = _validate(d)
    assert r.returncode == 1
    assert (f"{d}/spk1.scp:3: utterance {utt}: {ref}: no samples (0 frames); a reference "
            "must not be empty") in r.stderr


def test_validate_without_lengths_compares_with_the_mixture(tmp_path):
    from helpers.datadirs import make_datadir

    d = make_datadir(tmp_path, "dev", num_utts=2)
    (d / "utt2num_samples").unlink()
    utt, mix = (d / "wav.scp").read_text().splitlines()[0].split()
    ref = (d / "spk1.scp").read_text().splitlines()[0].split()[1]
    _truncate(Path(ref), 2)
    r = _validate(d)
    assert r.returncode == 1
    assert (f"{d}/spk1.scp:1: utterance {utt}: {ref}: {sf.info(ref).frames} frames, its "
            f"mixture {mix} {sf.info(mix).frames}") in r.stderr


def test_validate_names_references_of_another_rate_or_channel_count(tmp_path):
    from helpers.datadirs import make_datadir

    d = make_datadir(tmp_path, "dev", num_utts=2)
    (d / "utt2num_samples").unlink()
    lines = [ln.split() for ln in (d / "spk1.scp").read_text().splitlines()]
    x, _ = sf.read(lines[0][1])
    sf.write(lines[0][1], np.stack([x, x], axis=1), SR)  # a stereo reference
    sf.write(lines[1][1], sf.read(lines[1][1])[0], 16000)  # at another rate
    r = _validate(d)
    assert r.returncode == 1
    assert f"{d}/spk1.scp:1: utterance {lines[0][0]}: {lines[0][1]}: 2 channels" in r.stderr
    assert f"{d}/spk1.scp:2: utterance {lines[1][0]}: {lines[1][1]}: 16000 Hz" in r.stderr
    # --channels: a single-channel recipe refuses a stereo corpus at validation
    r = _validate(make_datadir(tmp_path, "st", num_utts=1), "--channels", "2")
    assert r.returncode == 1 and "1 channels, expected 2 (--channels)" in r.stderr


def test_utt2num_samples_refuses_a_zero_frame_mixture_with_its_line(tmp_path):
    from helpers.datadirs import make_datadir

    from sepcore.bin import utt2num_samples

    d = make_datadir(tmp_path, "dev", num_utts=2)
    utt, mix = (d / "wav.scp").read_text().splitlines()[1].split()
    sf.write(mix, np.zeros(0), SR)
    with pytest.raises(DataError, match=rf"wav.scp:2: utterance {utt}: {mix} has no samples"):
        utt2num_samples.main([str(d / "wav.scp"), str(tmp_path / "out")])


def test_validation_reader_names_a_truncated_mixture(tmp_path):
    from helpers.datadirs import make_datadir

    from sepcore.data import DataDir
    from sepcore.data.dataset import UtteranceDataset

    d = make_datadir(tmp_path, "dev", num_utts=2)
    utt, mix = (d / "wav.scp").read_text().splitlines()[0].split()
    _truncate(Path(mix))
    ds = UtteranceDataset(DataDir.load(d), SR)
    with pytest.raises(DataError, match=rf"{mix}: \d+ frames, but {d}/utt2num_samples says "
                                        rf"\d+ for utterance '{utt}'"):
        ds[0]


def test_separation_of_a_truncated_mixture_fails_naming_it(two_models, tmp_path, capsys):
    a, _ = two_models
    d, out = _sep_data(tmp_path), tmp_path / "sep"
    (d / "utt2num_samples").write_text("".join(f"utt{i} {int(0.3 * SR)}\n" for i in range(3)))
    _truncate(tmp_path / "u1.wav", 2)
    assert _separate(a, d, out) == 1  # not a short estimate written as if finished
    assert (f"{tmp_path}/u1.wav: {sf.info(tmp_path / 'u1.wav').frames} frames, but "
            f"{d}/utt2num_samples says 2400 for utterance 'utt1'") in capsys.readouterr().err
    assert not (out / "wav" / "utt1_spk1.wav").exists()
    assert (out / "wav" / "utt0_spk1.wav").exists()


def test_scoring_names_a_truncated_reference(tmp_path):
    data, sep = _write_dirs(tmp_path)
    (data / "utt2num_samples").write_text("utt000 8000\nutt001 8000\n")
    ref = data / "wav" / "utt001_2.wav"
    _truncate(ref)
    with pytest.raises(DataError, match=rf"utterance 'utt001': reference: {ref}: \d+ frames, "
                                        rf"but {data}/utt2num_samples says 8000"):
        _score(data, sep, "--metrics", "si_sdr")


# --- corpus preps (case 8) ------------------------------------------------------------------

@pytest.fixture(scope="module")
def prep_librimix():
    import helpers.corpus_replicas as cr

    return cr.load_script("egs/librimix/convtasnet/local/prepare_librimix.py")


@pytest.fixture(scope="module")
def libri3(tmp_path_factory):
    import helpers.corpus_replicas as cr

    return cr.librimix(str(tmp_path_factory.mktemp("l3")), n_src=3, counts={"dev": 2})


def test_libri3mix_with_the_default_n_src_says_which_option(tmp_path, prep_librimix, libri3,
                                                            capsys):
    assert prep_librimix.main(["--sets", "dev", libri3.root, str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    csv_path = f"{libri3.root}/wav8k/min/metadata/mixture_dev_mix_clean.csv"
    assert (f"error: {csv_path}:1 has the columns source_1_path, source_2_path, source_3_path: "
            "this is Libri3Mix, but 2 sources were asked for: give --n-src 3") in err
    assert not (tmp_path / "d" / "dev").exists()  # no 2-source dirs of 3-speaker mixtures


def test_libri3mix_enh_single_is_told_from_its_folders(tmp_path, prep_librimix, libri3, capsys):
    # mixture_dev_mix_single.csv lists one source: the s1/ s2/ s3/ folders tell
    args = ["--task", "enh_single", "--sets", "dev", libri3.root, str(tmp_path / "d")]
    assert prep_librimix.main(args) == 1
    assert (f"{libri3.root}/wav8k/min/dev has the folders s1, s2, s3: this is Libri3Mix, but 2 "
            "sources were asked for: give --n-src 3") in capsys.readouterr().err


def test_libri2mix_asked_for_3_sources_says_which_option(tmp_path, prep_librimix, capsys):
    import helpers.corpus_replicas as cr

    rep = cr.librimix(str(tmp_path / "c"), counts={"dev": 2})
    assert prep_librimix.main(["--num-sources", "3", "--sets", "dev", rep.root,
                               str(tmp_path / "d")]) == 1
    assert "this is Libri2Mix, but 3 sources were asked for: give --n-src 2" in (
        capsys.readouterr().err)
    # the folder holding Libri2Mix/ only, with --n-src 3: the other corpus is named
    assert prep_librimix.main(["--num-sources", "3", "--sets", "dev", str(tmp_path / "c"),
                               str(tmp_path / "d")]) == 1
    assert (f"{tmp_path}/c/Libri2Mix exists: for 2 speakers give --n-src 2" in
            capsys.readouterr().err)


def _rewrite_csv(path: str, edit) -> None:
    import csv

    rows = list(csv.reader(open(path)))
    edit(rows)
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)


def test_librimix_lengths_written_as_floats_do_not_warn(tmp_path, prep_librimix, capsys):
    import helpers.corpus_replicas as cr

    rep = cr.librimix(str(tmp_path / "c"), counts={"dev": 2})
    path = f"{rep.root}/wav8k/min/metadata/mixture_dev_mix_clean.csv"

    def as_float(rows):
        for r in rows[1:]:
            r[-1] = f"{int(r[-1])}.0"
    _rewrite_csv(path, as_float)
    assert prep_librimix.main(["--sets", "dev", rep.root, str(tmp_path / "d")]) == 0
    assert "differ in length" not in capsys.readouterr().err

    def garbage(rows):
        rows[2][-1] = "n/a"
    _rewrite_csv(path, garbage)
    assert prep_librimix.main(["--sets", "dev", rep.root, str(tmp_path / "d2")]) == 1
    assert f"error: {path}:3: length 'n/a' is not a number" in capsys.readouterr().err


def test_librimix_file_missing_under_the_corpus_is_named_not_taken_elsewhere(
        tmp_path, prep_librimix, capsys):
    import shutil

    import helpers.corpus_replicas as cr

    # the CSVs point into another, complete copy (the disk where it was generated)
    other = tmp_path / "other"
    rep_other = cr.librimix(str(other), counts={"dev": 2})
    rep = cr.librimix(str(tmp_path / "c"), counts={"dev": 2}, csv_root=str(other))
    assert rep.names == rep_other.names
    root = f"{rep.root}/wav8k/min"
    name = sorted(rep.names["dev"], key=str.encode)[0]
    os.remove(f"{root}/dev/s2/{name}.wav")
    assert prep_librimix.main(["--sets", "dev", rep.root, str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    line = 2 + rep.names["dev"].index(name)
    assert (f"mixture_dev_mix_clean.csv:{line}: source_2_path: {root}/dev/s2/{name}.wav not found "
            f"(the CSV says {other}/Libri2Mix/wav8k/min/dev/s2/{name}.wav)") in err
    # a mixture: the other copy's file is not used either
    shutil.copy(f"{other}/Libri2Mix/wav8k/min/dev/s2/{name}.wav", f"{root}/dev/s2/")
    os.remove(f"{root}/dev/mix_clean/{name}.wav")
    assert prep_librimix.main(["--sets", "dev", rep.root, str(tmp_path / "d")]) == 1
    assert (f"{root}/dev/mix_clean/{name}.wav not found under the corpus folder {root}, though "
            "the CSV's path") in capsys.readouterr().err


def _stereo(folder: str) -> None:
    for f in sorted(os.listdir(folder)):
        x, sr = sf.read(os.path.join(folder, f))
        sf.write(os.path.join(folder, f), np.stack([x, 0.5 * x], axis=1), sr)


def test_stereo_whamr_is_refused_at_prep(tmp_path, capsys):
    import helpers.corpus_replicas as cr

    prep = cr.load_script("egs/wham/convtasnet/local/prepare_wham.py")
    rep = cr.wham(str(tmp_path), reverb=True, counts={"cv": 2})
    mixdir = f"{rep.root}/wav8k/min/cv/mix_both_reverb"
    _stereo(mixdir)
    args = ["--reverb", "--task", "sep_noisy_reverb", "--sets", "cv", rep.root, str(tmp_path / "d")]
    assert prep.main(args) == 1
    err = capsys.readouterr().err
    assert f"error: {mixdir}/" in err
    assert "2 channels (the binaural WHAMR! version? the WHAMR! recipes are single-channel" in err
    assert not (tmp_path / "d" / "cv").exists()


def test_stereo_librimix_and_wsj0mix_are_refused_at_prep(tmp_path, prep_librimix, capsys):
    import helpers.corpus_replicas as cr

    rep = cr.librimix(str(tmp_path / "l"), counts={"dev": 1})
    _stereo(f"{rep.root}/wav8k/min/dev/mix_clean")
    assert prep_librimix.main(["--sets", "dev", rep.root, str(tmp_path / "d")]) == 1
    assert "2 channels; LibriMix is single-channel" in capsys.readouterr().err
    prep = cr.load_script("egs/wsj0_2mix/convtasnet/local/prepare_wsj0mix.py")
    rep = cr.wsj0mix(str(tmp_path / "w"), counts={"cv": 1})
    _stereo(f"{rep.root}/wav8k/min/cv/mix")
    assert prep.main(["--sets", "cv", rep.root, str(tmp_path / "d2")]) == 1
    assert "2 channels; wsj0-mix is single-channel" in capsys.readouterr().err


def test_wsj0_3mix_given_as_2mix_names_the_recipe(tmp_path, capsys):
    import helpers.corpus_replicas as cr

    prep = cr.load_script("egs/wsj0_2mix/convtasnet/local/prepare_wsj0mix.py")
    rep = cr.wsj0mix(str(tmp_path), num_spk=3, counts={"cv": 1})
    assert prep.main(["--sets", "cv", rep.root, str(tmp_path / "d")]) == 1
    assert (f"{rep.root}/wav8k/min/cv has the folders s1, s2, s3: this is wsj0-3mix, but 2 "
            "speakers were asked for: use egs/wsj0_3mix") in capsys.readouterr().err
    assert prep.main(["--sets", "cv", str(tmp_path), str(tmp_path / "d")]) == 1
    assert "3speakers exists: that is wsj0-3mix (egs/wsj0_3mix" in capsys.readouterr().err


def test_whamr_given_to_the_wham_recipe_names_the_recipe(tmp_path, capsys):
    import helpers.corpus_replicas as cr

    prep = cr.load_script("egs/wham/convtasnet/local/prepare_wham.py")
    rep = cr.wham(str(tmp_path), reverb=True, counts={"cv": 1})
    assert prep.main(["--sets", "cv", rep.root, str(tmp_path / "d")]) == 1
    assert ("mix_clean: folder not found, but mix_clean_anechoic/ is there: this is WHAMR!; "
            "use egs/whamr") in capsys.readouterr().err
    rep = cr.wham(str(tmp_path), counts={"cv": 1})
    assert prep.main(["--reverb", "--sets", "cv", rep.root, str(tmp_path / "d")]) == 1
    assert "this is WHAM!, not WHAMR!; use egs/wham" in capsys.readouterr().err


# --- option values at the edge --------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    ("require_int --nj abc 1", "--nj must be an integer >= 1, got 'abc'"),
    ("require_int --nj 0 1", "--nj must be an integer >= 1, got '0'"),
    ("require_int --nj 2.5 1", "--nj must be an integer >= 1, got '2.5'"),
    ("require_int --stage -1 0", "--stage must be an integer >= 0, got '-1'"),
    ("require_int --k 9 0 3", "--k must be an integer in [0, 3], got '9'"),
    ("require_number --max-seconds -1 0", "--max-seconds must be a number >= 0, got '-1'"),
    ("require_positive --chunk-seconds 0", "--chunk-seconds must be a number > 0, got '0'"),
    ("require_positive --power 1e-3x", "--power must be a number > 0, got '1e-3x'"),
    ("require_bool --softmask yes", "--softmask must be true or false, got 'yes'"),
    ("require_choice --mode mean min max", "--mode must be min or max, got 'mean'"),
])
def test_shell_option_checks(call, message):
    lib = ROOT / "utils" / "lib" / "check_opts.sh"
    ok = _sh("bash", "-c", f". {lib}; require_int --nj 08 1; require_positive --s .5; "
             "require_number --s 0 0; require_bool --f false; require_choice --m a b a")
    assert ok.returncode == 0, ok.stderr
    r = _sh("bash", "-c", f". {lib}; {call}; echo not reached")
    assert r.returncode == 1 and "not reached" not in r.stdout
    assert r.stderr == f"bash: {message}\n"


@pytest.mark.parametrize("step, args, message", [
    ("separate.sh", ["--nj", "x", "e", "d", "o"],
     "separate.sh: --nj must be an integer >= 1, got 'x'"),
    ("separate.sh", ["--chunk-seconds", "-2", "e", "d", "o"],
     "separate.sh: --chunk-seconds must be a number > 0, got '-2'"),
    ("separate.sh", ["--softmask", "1", "e", "d", "o"],
     "separate.sh: --softmask must be true or false, got '1'"),
    ("train.sh", ["--ngpu", "-1", "c", "t", "v", "e"],
     "train.sh: --ngpu must be an integer >= 0, got '-1'"),
    ("score.sh", ["--nj", "0", "d", "s"], "score.sh: --nj must be an integer >= 1, got '0'"),
    ("oracle.sh", ["--power", "zero", "d", "o"], "oracle.sh: --power must be a number > 0"),
    ("report.sh", ["--num-utts", "three", "e"], "report.sh: --num-utts must be an integer >= 1"),
])
def test_steps_check_their_numbers_before_anything_runs(tmp_path, step, args, message):
    r = _sh(ROOT / "steps" / step, *args, cwd=tmp_path)
    assert r.returncode == 1 and message in r.stderr
    assert "integer expression expected" not in r.stderr and not list(tmp_path.iterdir())


@pytest.mark.parametrize("module, args, message", [
    ("score", ["r", "s", "--num-jobs", "0"],
     "argument --num-jobs: expected an integer >= 1, got '0'"),
    ("score", ["r", "s", "--job", "1.5"], "argument --job: expected an integer >= 1, got '1.5'"),
    ("separate", ["--model", "m", "--hop-seconds", "nan"],
     "argument --hop-seconds: expected a number > 0, got 'nan'"),
    ("separate", ["--model", "m", "--wiener-iterations", "-1"],
     "argument --wiener-iterations: expected an integer >= 0, got '-1'"),
    ("stream", ["--model", "m", "--channels", "0"],
     "argument --channels: expected an integer >= 1, got '0'"),
    ("oracle", ["--data-dir", "d", "--out-dir", "o", "--n-fft", "many"],
     "argument --n-fft: expected an integer >= 2, got 'many'"),
    ("report", ["e", "--max-seconds", "-5"], "argument --max-seconds: expected a number >= 0"),
    ("validate_audio", ["d", "--channels", "stereo"],
     "argument --channels: expected an integer >= 1, got 'stereo'"),
])
def test_entry_points_check_their_numbers(module, args, message, capsys, monkeypatch):
    import importlib
    import inspect

    main = importlib.import_module(f"sepcore.bin.{module}").main
    monkeypatch.setattr(sys, "argv", [module, *args])
    with pytest.raises(SystemExit) as e:
        main(args) if inspect.signature(main).parameters else main()
    assert e.value.code == 2
    assert f"python -m sepcore.bin.{module}: error: {message}" in capsys.readouterr().err


# --- malformed text files -------------------------------------------------------------------

@pytest.mark.parametrize("name, content, message", [
    ("wav.scp", b"utt1 /a.wav\nutt2 /caf\xe9.wav\n",
     r"wav.scp:2: not UTF-8 text \(byte 0xe9 at column 10\)"),
    ("wav.scp", b"utt1 /a.wav\n /b.wav\n", r"wav.scp:2: line starts with white space"),
    ("spk1.scp", b"utt1 /a.wav\nutt1 /b.wav\n",
     r"spk1.scp:2: utterance id 'utt1' repeated \(first on line 1\)"),
    ("utt2num_samples", b"utt1 800\nutt2 800 800\n",
     r"utt2num_samples:2: expected 2 fields, got 3"),
    ("utt2num_samples", b"utt1 800\nutt2 8e2\n", r"utt2num_samples:2: expected an integer"),
    ("sources", b"spk1 sp\xffk2\n", r"sources:1: not UTF-8 text \(byte 0xff at column 8\)"),
    ("utt2spks", b"utt1 a b\nutt2\n", r"utt2spks:2: expected '<utt> <value>', got 'utt2'"),
])
def test_text_files_name_file_and_line(tmp_path, name, content, message):
    from sepcore.data import DataDir

    d = tmp_path / "d"
    d.mkdir()
    good = {"wav.scp": "utt1 /a.wav\nutt2 /b.wav\n", "spk1.scp": "utt1 /a.wav\nutt2 /b.wav\n"}
    for f, text in good.items():
        (d / f).write_text(text)
    (d / name).write_bytes(content)
    with pytest.raises(DataError, match=rf"{d}/{message}"):
        DataDir.load(d)


def test_validate_reports_an_empty_id(tmp_path):
    from helpers.datadirs import make_datadir

    d = make_datadir(tmp_path, "dev", num_utts=2)
    lines = (d / "utt2spk").read_text().splitlines()
    (d / "utt2spk").write_text(f"{lines[0]}\n {lines[1]}\n")
    r = _validate(d, "--no-audio-check")
    assert r.returncode == 1 and f"{d}/utt2spk:2: line starts with white space" in r.stderr


@pytest.mark.parametrize("content, message", [
    (b"model:\n  name: convtasnet\n  foo: [1, 2\noptim:\n  lr: 1\n",
     r"c.yaml:4: invalid YAML \(expected ',' or '\]', but got ':'; while parsing a flow "
     r"sequence from line 3\)"),
    (b"optim:\n\tlr: 1\n", r"c.yaml:2: invalid YAML \(found character '\\t'"),
    (b"# r\xe9glages\noptim:\n  lr: 1\n", r"c.yaml:1: not UTF-8 text \(byte 0xe9 at column 4\)"),
])
def test_config_errors_name_file_and_line(tmp_path, content, message):
    from sepcore.config import load_config
    from sepcore.errors import ConfigError

    (tmp_path / "c.yaml").write_bytes(content)
    with pytest.raises(ConfigError, match=rf"{tmp_path}/{message}"):
        load_config(tmp_path / "c.yaml")


def test_bad_utt2snr_names_file_and_line(tmp_path):
    data, sep = _write_dirs(tmp_path)
    (data / "utt2snr").write_text("utt000 5\nutt001 five\n")
    with pytest.raises(DataError, match=r"utt2snr:2: expected an SNR in dB \(a number\), got "
                                        r"'five'"):
        _score(data, sep, "--metrics", "si_sdr")


# --- the recipe template --------------------------------------------------------------------

def _stub_recipe(tmp_path, enh=False, fail_stage=None):
    """A recipe whose steps only say they ran: the template's own flow, in a second."""
    r = tmp_path / "recipe"
    (r / "conf").mkdir(parents=True)
    (r / "conf" / "train.yaml").write_text("model: {}\n")
    (r / "exp" / "x").mkdir(parents=True)
    for d in ("steps", "utils/lib"):
        (r / d).mkdir(parents=True)
    for name in ("parse_options.sh", "usage.sh", "lib/check_opts.sh"):
        (r / "utils" / name).symlink_to(ROOT / "utils" / name)
    stub = "#!/bin/sh\necho \"$(basename \"$0\") $*\"\n"
    for name in ("utils/get_utt2num_samples.sh", "utils/validate_data_dir.sh", "steps/train.sh",
                 "steps/separate.sh", "steps/score.sh", "steps/report.sh", "steps/pack.sh",
                 "steps/enhance_baseline.sh", "steps/oracle.sh", "steps/show_results.sh"):
        (r / name).write_text(stub)
        (r / name).chmod(0o755)
    (r / "cmd.sh").write_text("train_cmd=run.pl\ndecode_cmd=run.pl\n")
    (r / "path.sh").write_text(f"SEPCORE_ROOT={ROOT}\n")
    fail = f'if [ "$1" = {fail_stage} ]; then exit 3; fi' if fail_stage else ""
    (r / "run.sh").write_text(
        "#!/usr/bin/env bash\n# Usage: ./run.sh\nset -euo pipefail\n"
        "recipe_setup() { data=data; }\nprepare_data() { mkdir -p exp/x/separate/test/scores; "
        "touch exp/x/separate/test/scores/RESULTS.md; }\n"
        f"recipe_score() {{ {fail or ':'}; }}\n"
        '. ./path.sh\n. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"\n'
        + ('. "$SEPCORE_ROOT/egs/TEMPLATE/enh.sh"\n' if enh else ""))
    (r / "run.sh").chmod(0o755)
    return r


def test_run_sh_ends_with_the_stages_that_ran(tmp_path):
    r = _stub_recipe(tmp_path)
    p = _sh("./run.sh", "--stage", "1", "--tag", "x", cwd=r)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "./run.sh: done (stages 1..7)"  # not 1..100
    p = _sh("./run.sh", "--stage", "4", "--stop-stage", "4", "--tag", "x", cwd=r)
    assert p.stdout.splitlines()[-1] == "./run.sh: done (stage 4)"
    e = _stub_recipe(tmp_path / "enh", enh=True)
    p = _sh("./run.sh", "--stage", "6", "--tag", "x", cwd=e)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "./run.sh: done (stages 6..11)"


@pytest.mark.parametrize("args, message", [
    (["--stage", "9"], "./run.sh: no stage ran: --stage 9 is after the last stage"),
    (["--stage", "5", "--stop-stage", "3"], "--stop-stage 3 is before --stage 5"),
    (["--stage", "two"], "run.sh: --stage must be an integer >= 0, got 'two'"),
    (["--nj", "0"], "run.sh: --nj must be an integer >= 1, got '0'"),
    (["--ngpu", "one"], "run.sh: --ngpu must be an integer >= 0, got 'one'"),
])
def test_run_sh_refuses_bad_stages_and_numbers(tmp_path, args, message):
    r = _stub_recipe(tmp_path)
    p = _sh("./run.sh", "--tag", "x", *args, cwd=r)
    assert p.returncode == 1 and message in p.stderr
    assert "done" not in p.stdout


def test_run_sh_failing_stage_prints_no_done(tmp_path):
    r = _stub_recipe(tmp_path, fail_stage="test")
    p = _sh("./run.sh", "--stage", "5", "--tag", "x", cwd=r)
    assert p.returncode == 3 and "done" not in p.stdout
