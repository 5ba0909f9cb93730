"""A catalogue of bad inputs and faults (issue 17): each one ends in a non-zero exit or an
error naming the file, line or option, or gives a correct result, never a plausible wrong
number. Grouped by what goes wrong: stale caches, mixed outputs, configs, metric caps."""

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
    assert "- estimates: model /m (sha256 0000000000000000)" in (
        sep / "scores" / "RESULTS.md").read_text()


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
