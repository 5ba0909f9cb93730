"""utils/validate_data_dir.sh and utils/get_utt2num_samples.sh on tiny data dirs."""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

UTILS = Path(__file__).resolve().parents[1] / "utils"
PROG = "validate_data_dir.sh"


def run(cwd, *args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "LC_ALL": "C"}, timeout=120)


@pytest.fixture
def data(tmp_path):
    """A valid 2-source data dir with 3 utterances (ids sort as utt1 < utt10 < utt2)."""
    d = tmp_path / "data"
    (tmp_path / "wav").mkdir()
    d.mkdir()
    ids = ["utt1", "utt10", "utt2"]
    for name in ["mix", "s1", "s2"]:
        for i, utt in enumerate(ids):
            sf.write(tmp_path / f"wav/{name}_{utt}.wav", np.zeros(800 * (i + 1)), 8000)
    for scp, name in [("wav.scp", "mix"), ("spk1.scp", "s1"), ("spk2.scp", "s2")]:
        (d / scp).write_text("".join(f"{u} wav/{name}_{u}.wav\n" for u in ids))
    (d / "noise1.scp").write_text("".join(f"{u} sox wav/mix_{u}.wav -t wav - |\n" for u in ids))
    (d / "utt2num_samples").write_text("utt1 800\nutt10 1600\nutt2 2400\n")
    (d / "utt2spk").write_text("utt1 a\nutt10 b\nutt2 a\n")
    (d / "sources").write_text("speech1 speech2\n")
    return d


def validate(data, *opts):
    r = run(data.parent, UTILS / "validate_data_dir.sh", *opts, "data")
    return r.returncode, r.stdout, r.stderr


def test_good_dir_passes(data):
    code, out, err = validate(data)
    assert code == 0, err
    assert out == f"{PROG}: data: OK (3 utterances, 2 sources)\n"


def test_unsorted_file_names_file_and_line(data):
    (data / "spk2.scp").write_text(
        "utt1 wav/s2_utt1.wav\nutt2 wav/s2_utt2.wav\nutt10 wav/s2_utt10.wav\n")
    code, out, err = validate(data)
    assert code == 1 and "OK" not in out
    assert f"{PROG}: data/spk2.scp:3: not sorted: id utt10 after utt2" in err


def test_missing_and_extra_ids_are_named(data):
    (data / "spk1.scp").write_text("utt1 wav/s1_utt1.wav\nutt2 wav/s1_utt2.wav\n")
    (data / "utt2spk").write_text("utt1 a\nutt10 b\nutt2 a\nutt3 c\n")
    code, _, err = validate(data)
    assert code == 1
    assert f"{PROG}: data/spk1.scp: id utt10 of data/wav.scp is missing" in err
    assert f"{PROG}: data/utt2spk:4: id utt3 is not in data/wav.scp" in err


def test_missing_audio_file(data):
    (data.parent / "wav/s1_utt10.wav").unlink()
    code, _, err = validate(data)
    assert code == 1
    assert f"{PROG}: data/spk1.scp:2: audio file wav/s1_utt10.wav not found" in err
    code, out, err = validate(data, "--no-audio-check")
    assert code == 0, err
    assert "OK (3 utterances, 2 sources)" in out


def test_bad_utt2num_samples_and_all_faults_listed(data):
    (data / "utt2num_samples").write_text("utt1 800\nutt10 x12\nutt2 0\n")
    (data / "sources").write_text("only_one\n")
    (data / "wav.scp").write_text((data / "wav.scp").read_text() + "utt2 wav/mix_utt2.wav\n")
    code, _, err = validate(data)
    assert code == 1
    assert f'{PROG}: data/utt2num_samples:2: expected a positive integer number of samples, ' \
        'got "x12"' in err
    assert f'{PROG}: data/utt2num_samples:3: expected a positive integer' in err
    assert f"{PROG}: data/sources:1: expected 2 names (one per spk*.scp), got 1" in err
    assert f"{PROG}: data/wav.scp:4: id utt2 repeated (first on line 3)" in err
    assert "FAILED (4 problems" in err


def test_sources_must_be_contiguous(data):
    (data / "spk2.scp").rename(data / "spk3.scp")
    (data / "sources").write_text("a b c\n")
    code, _, err = validate(data)
    assert code == 1
    assert f"{PROG}: data/spk2.scp: file not found" in err and "found: spk1.scp spk3.scp" in err


def test_sources_names_repeated(data):
    (data / "sources").write_text("speech speech\n")
    code, _, err = validate(data)
    assert code == 1 and f"{PROG}: data/sources:1: name speech repeated" in err


def test_missing_wav_scp(data):
    (data / "wav.scp").unlink()
    code, _, err = validate(data)
    assert code == 1 and "data/wav.scp: file not found" in err


@pytest.mark.slow
def test_get_utt2num_samples(data):
    (data / "utt2num_samples").unlink()
    r = run(data.parent, UTILS / "get_utt2num_samples.sh", "--nj", "2", "data")
    assert r.returncode == 0, r.stderr
    assert (data / "utt2num_samples").read_text() == "utt1 800\nutt10 1600\nutt2 2400\n"
    assert not (data / ".utt2num_samples").exists()
    r = run(data.parent, UTILS / "get_utt2num_samples.sh", "data")
    assert r.returncode == 0 and "up to date" in r.stdout
    # a broken entry: the job fails and says which utterance
    (data / "wav.scp").write_text("utt1 wav/mix_utt1.wav\nutt3 wav/nope.wav\n")
    r = run(data.parent, UTILS / "get_utt2num_samples.sh", "data")
    assert r.returncode != 0 and "1 / 1 failed" in r.stderr
    log = (data / ".utt2num_samples/log/utt2num_samples.1.log").read_text()
    assert "utterance utt3" in log and "wav/nope.wav" in log
    assert (data / "utt2num_samples").read_text().startswith("utt1 800\n")  # old file kept


def test_fix_data_dir_makes_a_broken_dir_valid(data):
    (data / "wav.scp").write_text("utt2 wav/mix_utt2.wav\nutt1 wav/mix_utt1.wav\n\n"
                                  "utt10 wav/mix_utt10.wav\nutt1 wav/dup.wav\n")
    (data / "spk1.scp").write_text("utt1 wav/s1_utt1.wav\nutt2 wav/s1_utt2.wav\n")
    (data / "utt2num_samples").write_text("utt1 800\nutt10 1600\nutt2 0\n")
    (data / "spk2utt").write_text("stale\n")
    assert validate(data)[0] == 1
    r = run(data.parent, UTILS / "fix_data_dir.sh", "data")
    assert r.returncode == 0, r.stderr
    assert "data: kept 1 of the 3 utterances of wav.scp" in r.stdout
    assert "data/utt2num_samples: 3 -> 1 lines" in r.stdout
    code, out, err = validate(data)
    assert code == 0, err
    assert "OK (1 utterances, 2 sources)" in out
    assert (data / "wav.scp").read_text() == "utt1 wav/mix_utt1.wav\n"
    assert (data / "spk2utt").read_text() == "a utt1\n"
    assert (data / ".backup/wav.scp").read_text().startswith("utt2 wav/mix_utt2.wav\n")
