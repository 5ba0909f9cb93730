"""The custom recipe (egs/custom/convtasnet): two folders of audio → a "keep this" model.

Bad folders are refused by local/make_data.py with a clear error (no audio, too few files
to split, the same audio in both folders, even under another name and format). End to
end (slow): two small folders of mixed formats and rates made here, conf/tiny.yaml, every
stage; then ``sepcore-separate`` with the pack writes ``<name>_<target>.wav`` and
``<name>_<interference>.wav`` at the input's length, rate and sample format.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers.recipes import copy_recipe, load_script

from sepcore.config import parse_overrides
from sepcore.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "egs" / "custom" / "convtasnet"


def load_make_data():
    return load_script(RECIPE / "local" / "make_data.py", "custom_make_data")


def tone(rng, seconds, rate, channels=1):
    """A voiced-like target: harmonics of a gliding f0 under a syllable-rate envelope."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = rng.uniform(100, 220) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    x *= 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 5) * t) ** 2
    x = 0.2 * x / np.abs(x).max()
    return np.stack([x, 0.9 * x], axis=1) if channels == 2 else x


def make_folders(root: Path, seed=0):
    rng = np.random.default_rng(seed)
    tgt, noise = root / "tgt", root / "noise"
    (tgt / "sub").mkdir(parents=True)
    (noise / "deep" / "er").mkdir(parents=True)
    for i in range(3):
        sf.write(tgt / f"a{i}.wav", tone(rng, 1.6, 16000), 16000, subtype="PCM_16")
    for i in range(2):
        sf.write(tgt / "sub" / f"b{i}.flac", tone(rng, 1.4, 22050, 2), 22050, subtype="PCM_24")
    sf.write(tgt / "c.ogg", tone(rng, 1.5, 8000), 8000, format="OGG", subtype="VORBIS")
    for i in range(4):
        x = 0.1 * rng.standard_normal((int(1.2 * 44100), 2))
        sf.write(noise / "deep" / "er" / f"n{i}.flac", x, 44100, subtype="PCM_16")
    return tgt, noise


def make_data(md, root, tgt, noise, *extra):
    return md.main([str(tgt), str(noise), str(root / "corpus"), str(root / "data"),
                    "--target-name", "tgt", "--interference-name", "noise", *extra])


def test_bad_folders_are_clear_errors(tmp_path, capsys):
    md = load_make_data()
    tgt, noise = make_folders(tmp_path)
    empty = tmp_path / "empty"
    (empty / "x").mkdir(parents=True)
    (empty / "x" / "notes.txt").write_text("not audio\n")
    assert make_data(md, tmp_path, empty, noise) == 1
    assert "--target-dir" in capsys.readouterr().err  # names the option and the folder
    assert make_data(md, tmp_path, tgt, empty) == 1
    err = capsys.readouterr().err
    assert f"--interference-dir {empty}: no audio files" in err

    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(noise / "deep" / "er" / "n0.flac", one / "only.flac")
    assert make_data(md, tmp_path, tgt, one) == 1
    err = capsys.readouterr().err
    assert f"--interference-dir {one}: 1 distinct audio file; splitting by file" in err

    # the same audio in both folders, under another name and format (lossless: same samples)
    x, sr = sf.read(tgt / "a1.wav", dtype="int16")
    sf.write(noise / "disguised.flac", x, sr, subtype="PCM_16")
    assert make_data(md, tmp_path, tgt, noise) == 1
    err = capsys.readouterr().err
    assert "the same audio is in both folders" in err and "a1.wav" in err
    assert "disguised.flac" in err
    (noise / "disguised.flac").unlink()

    (tgt / "broken.wav").write_bytes(b"RIFF....WAVEfmt nothing")
    assert make_data(md, tmp_path, tgt, noise) == 1
    assert f"{tgt / 'broken.wav'}: cannot read as audio" in capsys.readouterr().err
    (tgt / "broken.wav").unlink()

    assert make_data(md, tmp_path, tgt, noise, "--dev-fraction", "0.6",
                     "--test-fraction", "0.5") == 1
    assert "must leave files for training" in capsys.readouterr().err


def test_split_is_by_file_seeded_and_resampled(tmp_path, capsys):
    md = load_make_data()
    tgt, noise = make_folders(tmp_path)
    shutil.copy(tgt / "a0.wav", tgt / "a0_again.wav")  # a duplicate in one folder: kept once
    assert make_data(md, tmp_path, tgt, noise, "--sample-rate", "8000") == 0
    assert "a0_again.wav has the same audio as" in capsys.readouterr().err
    data = tmp_path / "data"
    sets = {s: [ln.split()[0] for ln in (data / s / "wav.scp").read_text().splitlines()]
            for s in ("train", "dev", "test")}
    assert len(sets["train"]) == 4 and len(sets["dev"]) == 1 and len(sets["test"]) == 1
    targets = [u.split("__")[0] for s in ("dev", "test") for u in sets[s]]
    assert not set(targets) & set(sets["train"])  # split by file: no target in two sets
    assert (data / "names").read_text() == "tgt noise\n"
    assert (data / "train" / "sources").read_text() == "tgt\n"
    assert len((data / "train_interference" / "wav.scp").read_text().splitlines()) == 2
    for line in (data / "dev" / "wav.scp").read_text().splitlines():
        info = sf.info(line.split()[1])
        assert info.samplerate == 8000 and info.channels == 1
    first = (data / "test" / "wav.scp").read_text()
    shutil.rmtree(data)
    assert make_data(md, tmp_path, tgt, noise, "--sample-rate", "8000") == 0
    assert (data / "test" / "wav.scp").read_text() == first  # seeded


def test_top_level_residual_name_override():
    assert parse_overrides(["--residual_name", "music", "--optim.lr", "1e-3"]) == {
        "residual_name": "music", "optim": {"lr": 1e-3}}
    with pytest.raises(ConfigError, match="--section.key value"):
        parse_overrides(["--lr", "1e-3"])


@pytest.mark.slow
def test_every_stage_and_separate(tmp_path):
    d = copy_recipe(RECIPE, tmp_path / "custom" / "convtasnet")
    tgt, noise = make_folders(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    args = ["./run.sh", "--conf", "conf/tiny.yaml", "--target-dir", str(tgt),
            "--interference-dir", str(noise), "--nj", "1"]
    proc = subprocess.run(args, cwd=d, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for extra, skipped in (([], True), (["--seed", "1"], False)):
        again = subprocess.run([*args, "--stage", "1", "--stop-stage", "1", *extra], cwd=d,
                               env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr
        assert ("data already prepared" in again.stdout) == skipped
    exp = d / "exp" / "convtasnet_tiny_tgt-noise"
    assert (exp / "separate" / "test" / "scores" / "RESULTS.md").is_file()
    assert "si_sdr" in (exp / "separate" / "test" / "scores" / "RESULTS.md").read_text()
    pack = exp / "convtasnet_tiny_tgt-noise.tar.gz"
    assert pack.is_file()

    rng = np.random.default_rng(5)
    song = tone(rng, 1.3, 44100, 2) + 0.05 * rng.standard_normal((int(1.3 * 44100), 2))
    sf.write(tmp_path / "in.flac", song, 44100, subtype="PCM_24")
    out = tmp_path / "separated"
    proc = subprocess.run([sys.executable, "-m", "sepcore.bin.separate", "--model", str(pack),
                           "--out-dir", str(out), "--no-progress", str(tmp_path / "in.flac")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["in_noise.wav", "in_tgt.wav"]
    x, _ = sf.read(tmp_path / "in.flac")
    parts = []
    for name in ("in_tgt.wav", "in_noise.wav"):
        info = sf.info(out / name)
        assert (info.samplerate, info.channels, info.frames, info.subtype) == \
            (44100, 2, len(song), "PCM_24")
        parts.append(sf.read(out / name)[0])
    assert np.max(np.abs(parts[0] + parts[1] - x)) < 1e-4  # target + residual = the input


@pytest.mark.parametrize("conf", ["train.yaml", "tiny.yaml"])
def test_the_recipe_configs_load_and_build(conf):
    from sepcore.config import load_config
    from sepcore.models import build_model

    cfg = load_config(RECIPE / "conf" / conf, ["--residual_name", "music"])
    assert cfg["residual_name"] == "music" and cfg["data"]["noise"] == "data/train_interference"
    build_model(cfg["model"])
    with pytest.raises(ConfigError, match="residual_name must be a name of letters"):
        load_config(RECIPE / "conf" / conf, ["--residual_name", "a b"])
