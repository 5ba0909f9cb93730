"""A catalogue of faults on the writing side (issue 17, cases 4, 6 and 9, damaged model
files): racing writers, kills that must not leave orphans, outputs that cannot be written
or do not fit on the disk, scp files that point back at another copy, and damaged
checkpoints, model files and packs. Each ends in a non-zero exit (or an error) naming the
file or the option, or gives the correct result, never a plausible wrong one.
The catalogue of bad inputs (data dirs, configs, metric caps) is tests/test_bad_inputs.py.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepcore.errors import DataError, DiskFullError, ModelFileError

ROOT = Path(__file__).resolve().parents[1]
UTILS = ROOT / "utils"
SR = 8000


def _env(**extra) -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), LC_ALL="C", OMP_NUM_THREADS="1",
                PATH=f"{Path(sys.executable).parent}:{UTILS}:{os.environ['PATH']}", **extra)


def _wait_for(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _running(pid: int) -> bool:
    """Neither gone nor a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    from helpers.inference import make_exp_dir

    return make_exp_dir(tmp_path_factory.mktemp("models"), "tiny")


def _separate(*argv) -> int:
    from sepcore.bin.separate import main

    with pytest.raises(SystemExit) as e:
        main([*map(str, argv)])
    return e.value.code


def _no_temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*") if p.is_file())


# --- racing writers (case 4a) ---------------------------------------------------------------

def test_exclusive_set_refuses_an_existing_output_and_publishes_none(tmp_path):
    from sepcore.io.audio import write_audio_set

    a, b = tmp_path / "x_spk1.wav", tmp_path / "x_spk2.wav"
    sf.write(b, np.zeros(10), SR)  # another run's output
    before = b.read_bytes()
    with pytest.raises(DataError, match=rf"{b}: exists \(written by another run"):
        write_audio_set([a, b], [np.ones(100) * 0.1] * 2, SR, exclusive=True)
    assert not a.exists() and b.read_bytes() == before  # none of this set, the other's kept
    assert _no_temporaries(tmp_path) == []


def test_separate_publish_never_replaces_another_runs_output(exp, tmp_path, capsys):
    """The outputs of a second run that appear between the check and the write (the race)
    are not overwritten: the write itself is exclusive."""
    from helpers.inference import tone_mix

    from sepcore.api import load
    from sepcore.separate import separate_to_files

    sf.write(tmp_path / "m.wav", tone_mix(0.3, SR), SR)
    out = tmp_path / "o"
    outputs = [str(out / "m_spk1.wav"), str(out / "m_spk2.wav")]
    out.mkdir()
    sf.write(outputs[1], np.zeros(5), SR)
    with pytest.raises(DataError, match=rf"{outputs[1]}: exists"):
        separate_to_files(load(exp), str(tmp_path / "m.wav"), outputs, exclusive=True)
    assert not os.path.exists(outputs[0]) and sf.info(outputs[1]).frames == 5
    assert _no_temporaries(out) == []
    # --force is the explicit overwrite: both outputs replaced, nothing else left
    assert _separate("--model", exp, "--out-dir", out, "--force", "true",
                     "--progress", "false", tmp_path / "m.wav") == 0
    assert sf.info(outputs[1]).frames == int(0.3 * SR)
    assert _no_temporaries(out) == []


def test_two_models_claiming_one_separated_dir_at_once_one_is_refused(tmp_path, monkeypatch):
    """The provenance stamp is created exclusively: another run's stamp that appears after
    the check (the race) is compared, never replaced."""
    import sepcore.io.separated as separated
    from sepcore.errors import ConfigError

    out = tmp_path / "sep"
    real = separated.atomic_write_text

    def racing(path, text, exclusive=False):
        if Path(path).name == "separate.json":  # the other run's claim lands first
            real(path, json.dumps({"model": "other"}) + "\n")
        return real(path, text, exclusive=exclusive)

    monkeypatch.setattr(separated, "atomic_write_text", racing)
    with pytest.raises(ConfigError, match=rf"{out}/separate.json: this folder holds estimates "
                       r"made with \{'model': 'other'\}"):
        separated.claim_separated_dir(out, "separate.json", {"model": "mine"}, ["s1"], False)
    assert json.loads((out / "separate.json").read_text()) == {"model": "other"}


@pytest.mark.slow
def test_two_separate_processes_into_one_folder_one_loses_by_name(exp, tmp_path):
    from helpers.inference import tone_mix

    out = tmp_path / "out"
    lengths = {"a": 0.4, "b": 0.6}
    for d, secs in lengths.items():
        (tmp_path / d).mkdir()
        sf.write(tmp_path / d / "same.wav", tone_mix(secs, SR), SR)
    cmd = [sys.executable, "-m", "sepcore.bin.separate", "--model", str(exp), "--out-dir",
           str(out), "--progress", "false"]
    procs = {d: subprocess.Popen([*cmd, str(tmp_path / d / "same.wav")], env=_env(),
                                 stderr=subprocess.PIPE, text=True) for d in lengths}
    codes = {d: p.wait(timeout=120) for d, p in procs.items()}
    errs = {d: p.stderr.read() for d, p in procs.items()}
    assert sorted(codes.values()) == [0, 1], (codes, errs)
    winner = next(d for d, c in codes.items() if c == 0)
    loser = next(d for d, c in codes.items() if c == 1)
    assert f"{out}/same_spk" in errs[loser] and "exists" in errs[loser]
    assert "Traceback" not in errs[loser]
    # both outputs are the winner's (its length), none of the loser's
    for k in (1, 2):
        assert sf.info(out / f"same_spk{k}.wav").frames == int(lengths[winner] * SR)
    assert _no_temporaries(out) == []


# --- one trainer per exp dir (case 4b) ------------------------------------------------------

HOLDER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("lock", sys.argv[1])
lock = importlib.util.module_from_spec(spec); spec.loader.exec_module(lock)
held = lock.ExpLock(sys.argv[2]).acquire()
print("held", flush=True)
time.sleep(60)
"""


def _hold_lock(exp_dir: Path) -> subprocess.Popen:
    """A real process holding the exp dir's lock (sepcore/train/lock.py, without torch)."""
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(ROOT / "sepcore/train/lock.py"),
                          str(exp_dir)], env=_env(), stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_second_trainer_is_refused_naming_the_lock_holder(tmp_path):
    from sepcore.errors import ConfigError
    from sepcore.train.lock import ExpLock

    holder = _hold_lock(tmp_path / "exp")
    try:
        with pytest.raises(ConfigError, match=rf"another trainer owns this exp dir: pid "
                           rf"{holder.pid} on host {socket.gethostname()} \(since .*\), lock "
                           rf"file {tmp_path}/exp/.train.lock"):
            ExpLock(tmp_path / "exp").acquire()
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_trainer_is_taken_over_with_a_warning(tmp_path, caplog):
    from sepcore.train.lock import ExpLock

    holder = _hold_lock(tmp_path / "exp")
    holder.send_signal(signal.SIGKILL)  # no cleanup: the lock file stays, its lock goes
    holder.wait()
    assert f"pid={holder.pid}" in (tmp_path / "exp/.train.lock").read_text()
    with ExpLock(tmp_path / "exp"):
        assert f"pid={os.getpid()}" in (tmp_path / "exp/.train.lock").read_text()
    assert f"taking over the stale lock of pid {holder.pid}" in caplog.text
    assert not (tmp_path / "exp/.train.lock").exists()  # released on exit


def test_lock_file_of_another_host_is_refused_with_the_file_to_remove(tmp_path):
    from sepcore.errors import ConfigError
    from sepcore.train.lock import ExpLock

    (tmp_path / ".train.lock").write_text("host=node17 pid=4242 start=1 time=0\n")
    with pytest.raises(ConfigError, match=rf"owned by the trainer pid 4242 on host node17 .*"
                       rf"cannot be checked from this host; if it is not running, remove "
                       rf"{tmp_path}/.train.lock"):
        ExpLock(tmp_path).acquire()


@pytest.mark.slow
def test_kill_9_of_train_sh_group_kills_the_trainer_and_a_second_trainer_is_refused(tmp_path):
    """The issue's case: kill -9 of a steps/train.sh process group left the trainer running
    (run.pl had given it its own group); a rerun then started a second trainer."""
    from helpers.configs import TINY_CONVTASNET, as_yaml_flow
    from helpers.datadirs import make_datadir

    for name in ("train", "dev"):
        make_datadir(tmp_path, name, num_utts=2)
    (tmp_path / "c.yaml").write_text(
        f"model: {as_yaml_flow(TINY_CONVTASNET)}\ntraining: {{max_epochs: 100000, "
        "num_threads: 1, batch_size: 1}\ndata: {segment: 0.25}\n")
    exp = tmp_path / "exp"
    args = [str(tmp_path / "c.yaml"), str(tmp_path / "data/train"), str(tmp_path / "data/dev"),
            str(exp)]
    env = _env(SEPCORE_KILL_GRACE="2")
    first = subprocess.Popen([str(ROOT / "steps/train.sh"), "--tcmalloc", "false", *args],
                             env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        lock = exp / ".train.lock"
        _wait_for(lambda: lock.is_file() and "pid=" in lock.read_text(), 120, "the lock")
        pid = int(lock.read_text().split("pid=")[1].split()[0])
        second = subprocess.run([sys.executable, "-m", "sepcore.bin.train", "--config", args[0],
                                 "--train-dir", args[1], "--valid-dir", args[2], "--exp-dir",
                                 args[3]], env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and "Traceback" not in second.stderr
        assert f"another trainer owns this exp dir: pid {pid} on host" in second.stderr
        # steps/train.sh says so before its job runner starts a new log over the first's
        log_before = (exp / "log/train.log").read_text()
        third = subprocess.run([str(ROOT / "steps/train.sh"), *args], env=env,
                               capture_output=True, text=True, timeout=60)
        assert third.returncode == 1
        assert f"{exp} is being trained by pid {pid} on this host" in third.stderr
        assert (exp / "log/train.log").read_text().startswith(log_before)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        _wait_for(lambda: not _running(pid), 30, f"the trainer {pid} to end")
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
    assert "run.pl has ended: stopping this job" in (exp / "log/train.log").read_text()


# --- run.pl leaves no orphans (case 4c) -----------------------------------------------------

def _start_jobs(tmp_path: Path, job: str, caller: bool = False, **env):
    runpl = [str(UTILS / "run.pl"), "JOB=1:2", "log/k.JOB.log", "sh", "-c",
             f"echo $$ > pid.JOB; {job}"]
    # caller: a script that runs run.pl, in a process group of its own (as steps/*.sh)
    argv = ["bash", "-c", '"$@"; echo done', "caller", *runpl] if caller else runpl
    p = subprocess.Popen(argv, cwd=tmp_path, env=_env(**env), start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids = [tmp_path / "pid.1", tmp_path / "pid.2"]
    _wait_for(lambda: all(f.is_file() and f.read_text().strip() for f in pids), 30, "the jobs")
    return p, [int(f.read_text()) for f in pids]


def test_run_pl_jobs_die_with_the_killed_process_group_of_their_caller(tmp_path):
    caller, jobs = _start_jobs(tmp_path, "exec sleep 60", caller=True)
    os.killpg(caller.pid, signal.SIGKILL)
    caller.wait()
    _wait_for(lambda: not any(map(_running, jobs)), 10, "the jobs to end")
    log = (tmp_path / "log/k.1.log").read_text()
    assert "run.pl has ended: stopping this job (SIGTERM)" in log and "# Ended (code 143)" in log


def test_run_pl_kill_9_stops_even_a_job_that_ignores_sigterm(tmp_path):
    runpl, jobs = _start_jobs(tmp_path, "trap '' TERM; sleep 60 & wait; sleep 60",
                              SEPCORE_KILL_GRACE="1")
    runpl.send_signal(signal.SIGKILL)
    runpl.wait()
    _wait_for(lambda: not any(map(_running, jobs)), 15, "the jobs to end")
    assert "did not end in 1 s: SIGKILL" in (tmp_path / "log/k.2.log").read_text()


def test_run_pl_sigint_stops_the_jobs(tmp_path):
    runpl, jobs = _start_jobs(tmp_path, "exec sleep 60")
    os.kill(runpl.pid, signal.SIGINT)
    assert runpl.wait(timeout=10) == 1
    _wait_for(lambda: not any(map(_running, jobs)), 10, "the jobs to end")


# --- writing what it cannot write (case 6) --------------------------------------------------

def test_mp3_input_separates_into_16_bit_pcm_wav(exp, tmp_path):
    from helpers.inference import tone_mix

    src = tmp_path / "song.mp3"
    sf.write(src, tone_mix(1.0, 16000), 16000, format="MP3", subtype="MPEG_LAYER_III")
    frames = sf.info(src).frames
    assert _separate("--model", exp, "--out-dir", tmp_path / "o", "--progress", "false",
                     src) == 0
    for k in (1, 2):
        info = sf.info(tmp_path / "o" / f"song_spk{k}.wav")
        assert (info.format, info.subtype, info.samplerate, info.frames) == (
            "WAV", "PCM_16", 16000, frames)


def test_write_error_names_the_final_file_not_a_temporary(tmp_path):
    from sepcore.io.audio import write_audio

    out = tmp_path / "x.wav"
    with pytest.raises(DataError) as e:  # a subtype WAV cannot hold
        write_audio(out, np.zeros(100), SR, subtype="MPEG_LAYER_III", format="WAV")
    assert str(e.value).startswith(f"{out}: cannot write WAV with sample format MPEG_LAYER_III")
    assert "/." not in str(e.value)  # no temporary name
    assert list(tmp_path.iterdir()) == []


def test_disk_full_is_reported_and_no_half_set_is_published(tmp_path, monkeypatch):
    """The second source of a set hits a full disk: 'disk full writing <its name>', and
    the first is not published either (a rerun redoes the utterance)."""
    import sepcore.io.audio as audio

    real = sf.write
    calls = []

    def write(file, *a, **k):
        calls.append(file)
        if len(calls) == 2:
            real(file, *a, **k)
            raise sf.LibsndfileError(2, "")  # libsndfile's "System error."
        return real(file, *a, **k)

    monkeypatch.setattr(audio.sf, "write", write)
    monkeypatch.setattr(audio, "disk_full", lambda folder, needed=0: True)
    outs = [tmp_path / "u_spk1.wav", tmp_path / "u_spk2.wav"]
    with pytest.raises(DiskFullError, match=rf"^disk full writing {outs[1]}$"):
        audio.write_audio_set(outs, [np.zeros(100)] * 2, SR)
    assert list(tmp_path.iterdir()) == []


def test_disk_full_in_a_text_write_names_the_file(tmp_path, monkeypatch):
    from sepcore.io.atomic import atomic_write_text

    class Full:
        def __init__(self, *a, **k):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("builtins.open", Full)
    with pytest.raises(DiskFullError, match=rf"disk full writing {tmp_path}/f.txt \(No space"):
        atomic_write_text(tmp_path / "f.txt", "x")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_stream_output_on_a_full_disk_names_the_output_and_leaves_no_part_file(
        tmp_path, monkeypatch):
    import sepcore.io.atomic as atomic
    from sepcore.streaming.audio import FileSink

    outs = [str(tmp_path / "s_spk1.wav"), str(tmp_path / "s_spk2.wav")]
    sink = FileSink(outs, SR, "PCM_16")
    sink.write(np.zeros((2, 80), np.float32))

    def full(self, data):
        raise sf.LibsndfileError(2, "")

    monkeypatch.setattr(sf.SoundFile, "write", full)
    monkeypatch.setattr(atomic, "disk_full", lambda folder, needed=0: True)
    with pytest.raises(DiskFullError, match=rf"^disk full writing {outs[0]}$"):
        sink.write(np.zeros((2, 80), np.float32))
    sink.abort()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_separate_into_a_full_tmpfs_then_rerun(exp, tmp_path):
    """A real full disk (a 128 KiB tmpfs): exit 1 with 'disk full writing <file>', every
    utterance has all of its outputs or none, no temporaries; with room, a rerun
    separates the rest and merges a complete dir."""
    from helpers.inference import tone_mix

    from sepcore.data import DataDir

    for i in range(6):
        sf.write(tmp_path / f"u{i}.wav", tone_mix(1.0, SR, seed=i), SR)  # 16 KB per output
    data = DataDir.write(tmp_path / "data", {f"utt{i}": str(tmp_path / f"u{i}.wav")
                                             for i in range(6)}, []).path
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = disk / "sep"
        with pytest.raises(DiskFullError, match=rf"disk full writing {out}/wav/utt\d_spk\d.wav"):
            from argparse import Namespace

            from sepcore.bin.separate import build_parser
            from sepcore.separate import run
            args: Namespace = build_parser().parse_args(
                ["--model", str(exp), "--data-dir", str(data), "--out-dir", str(out)])
            run(args)
        assert _no_temporaries(out) == []
        done = {p.name.rsplit("_", 1)[0] for p in (out / "wav").iterdir()}
        assert 0 < len(done) < 6
        for u in done:  # a whole set or nothing
            assert all((out / "wav" / f"{u}_spk{k}.wav").is_file() for k in (1, 2))
        assert not (out / ".parts").exists()  # this job's list was never written
        subprocess.run(["mount", "-o", "remount,size=4m", str(disk)], check=True)
        assert _separate("--model", exp, "--data-dir", data, "--out-dir", out) == 0
        assert len(list((out / "wav").iterdir())) == 12
    finally:
        subprocess.run(["umount", str(disk)], check=False)


# --- scp files that point at their own files (case 9) ---------------------------------------

def test_copied_separated_dir_scores_its_own_files_after_the_original_is_deleted(
        exp, tmp_path, monkeypatch):
    from helpers.inference import tone_mix

    from sepcore.bin import score
    from sepcore.data import DataDir

    work = tmp_path / "recipe"
    (work / "data/test/wav").mkdir(parents=True)
    monkeypatch.chdir(work)  # paths given relative to the recipe folder, as recipes do
    wav, refs = {}, [{}, {}]
    for i in range(2):
        u = f"utt{i}"
        a, b = tone_mix(0.5, SR, seed=2 * i), tone_mix(0.5, SR, seed=2 * i + 1)[::-1].copy()
        for name, x in ((u, a + b), (f"{u}_1", a), (f"{u}_2", b)):
            sf.write(f"data/test/wav/{name}.wav", x, SR, subtype="FLOAT")
        wav[u] = f"data/test/wav/{u}.wav"
        refs[0][u], refs[1][u] = f"data/test/wav/{u}_1.wav", f"data/test/wav/{u}_2.wav"
    DataDir.write("data/test", wav, refs)
    assert (work / "data/test/wav.scp").read_text() == "utt0 wav/utt0.wav\nutt1 wav/utt1.wav\n"
    sep = Path("exp/t/separate/test")
    assert _separate("--model", exp, "--data-dir", "data/test", "--out-dir", sep) == 0
    parts = sep / ".parts"
    for k in (1, 2):  # what steps/separate.sh's merge does
        (sep / f"spk{k}.scp").write_text((parts / f"spk{k}.1.scp").read_text())
    shutil.rmtree(parts)
    assert (sep / "spk1.scp").read_text().splitlines()[0] == "utt0 wav/utt0_spk1.wav"
    for args in ([], ["--merge"]):
        assert score.main(["data/test", str(sep), "--progress", "false", "--metrics", "si_sdr",
                           *args]) == 0
    first = json.loads((sep / "scores/summary.json").read_text())["scores"]["si_sdr"]["mean"]
    # copy both dirs elsewhere, delete the originals, score the copies from another folder
    copy = tmp_path / "copy"
    shutil.copytree(work / "data/test", copy / "data")
    shutil.copytree(work / "exp/t/separate/test", copy / "sep")
    shutil.rmtree(work)
    monkeypatch.chdir(tmp_path)
    shutil.rmtree(copy / "sep/scores")
    shutil.rmtree(copy / "data/scores", ignore_errors=True)
    for args in ([], ["--merge"]):
        assert score.main([str(copy / "data"), str(copy / "sep"), "--progress", "false",
                           "--metrics", "si_sdr", *args]) == 0
    again = json.loads((copy / "sep/scores/summary.json").read_text())["scores"]["si_sdr"]
    assert again["mean"] == pytest.approx(first, abs=1e-9) and again["count"] == 4


def test_recipe_relative_entries_of_older_dirs_still_resolve(tmp_path, monkeypatch):
    from sepcore.io.scp import read_scp

    (tmp_path / "data/x/wav").mkdir(parents=True)
    (tmp_path / "data/x/wav/a.wav").write_bytes(b"RIFF")
    (tmp_path / "data/x/wav.scp").write_text("a data/x/wav/a.wav\nb wav/a.wav\nc gone.wav\n"
                                             "d sox x.wav -t wav - |\n")
    monkeypatch.chdir(tmp_path)
    assert read_scp("data/x/wav.scp", paths=True) == [
        ("a", "data/x/wav/a.wav"),  # relative to the recipe folder (written before)
        ("b", "data/x/wav/a.wav"),  # relative to the scp's folder
        ("c", "data/x/gone.wav"),  # missing: named where it was expected
        ("d", "sox x.wav -t wav - |")]


def test_validate_data_dir_reports_files_outside_the_dir(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    d = tmp_path / "data"
    d.mkdir()
    for name in ("a", "b"):
        sf.write(tmp_path / "elsewhere" / f"{name}.wav", np.zeros(80), SR)
    (d / "wav.scp").write_text(f"a elsewhere/a.wav\nb {tmp_path}/elsewhere/b.wav\n")
    (d / "spk1.scp").write_text("a elsewhere/a.wav\nb elsewhere/b.wav\n")
    sh = str(UTILS / "validate_data_dir.sh")
    r = subprocess.run([sh, "data"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert ("warning: 3 audio paths are relative to the current folder, not to the data dir, "
            "e.g. data/wav.scp:1: elsewhere/a.wav") in r.stderr
    r = subprocess.run([sh, "--outside", "error", "data"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 1
    assert "3 audio paths are relative to the current folder" in r.stderr
    assert "1 audio files are outside data, e.g. data/wav.scp:2: " in r.stderr
    r = subprocess.run([sh, "--outside", "maybe", "data"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 1 and "--outside expects warn or error, got 'maybe'" in r.stderr


def test_split_data_dir_parts_point_at_the_same_files(tmp_path):
    from sepcore.data import DataDir

    (tmp_path / "d/wav").mkdir(parents=True)
    wav = {}
    for i in range(4):
        sf.write(tmp_path / f"d/wav/u{i}.wav", np.zeros(80), SR)
        wav[f"u{i}"] = str(tmp_path / f"d/wav/u{i}.wav")
    DataDir.write(tmp_path / "d", wav, [wav])
    r = subprocess.run([str(UTILS / "split_data_dir.sh"), "d", "2"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    part = DataDir.load(tmp_path / "d/split2/2")
    assert part.wav == {"u2": str(tmp_path / "d/split2/2/../../wav/u2.wav"),
                        "u3": str(tmp_path / "d/split2/2/../../wav/u3.wav")}
    assert all(os.path.isfile(p) for p in part.sources[0].values())
    # the lengths' jobs read parts of wav.scp in a folder of their own, too
    r = subprocess.run([str(UTILS / "get_utt2num_samples.sh"), "--nj", "2", "d"], cwd=tmp_path,
                       capture_output=True, text=True, env=_env())
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "d/utt2num_samples").read_text() == "".join(
        f"u{i} 80\n" for i in range(4))


# --- damaged checkpoints, model files and packs ---------------------------------------------

DAMAGE = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "zero-byte": lambda raw: b"",
    "random": lambda raw: bytes(np.random.default_rng(0).integers(1, 127, 4000, np.uint8)),
}
MESSAGES = {"truncated": "truncated or damaged", "zero-byte": r"file is empty \(0 bytes\)",
            "random": "not a file written by torch.save"}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_model_pt_is_named_by_separate(exp, tmp_path, damage, capsys):
    bad = tmp_path / "e"
    shutil.copytree(exp, bad)
    (bad / "model.pt").write_bytes(DAMAGE[damage]((exp / "model.pt").read_bytes()))
    sf.write(tmp_path / "m.wav", np.zeros(800), SR)
    assert _separate("--model", bad, "--out-dir", tmp_path / "o", tmp_path / "m.wav") == 1
    err = capsys.readouterr().err
    assert f"error: {bad}/model.pt: " in err and "Traceback" not in err
    import re
    assert re.search(MESSAGES[damage], err), err


def test_torch_file_that_is_not_a_sepcore_model(tmp_path):
    import torch

    import sepcore

    torch.save({"state_dict": {"w": torch.zeros(2)}}, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match=rf"{tmp_path}/other.pt: not a sepcore model file"):
        sepcore.load(tmp_path / "other.pt")


def test_model_file_holding_code_is_refused_by_name(tmp_path):
    import torch

    import sepcore

    torch.save({"format": "sepcore-model", "x": Path("/")}, tmp_path / "code.pt")
    with pytest.raises(ModelFileError, match=rf"{tmp_path}/code.pt: holds Python objects "
                       "other than tensors"):
        sepcore.load(tmp_path / "code.pt")


@pytest.mark.parametrize("damage, message", [
    ("truncated", r"corrupt archive|not a readable pack"),
    ("zero-byte", r"file is empty \(0 bytes\), expected a pack"),
    ("random", r"not a readable pack \(not a tar or gzip archive\)")])
def test_damaged_pack_is_named(exp, tmp_path, damage, message):
    import sepcore
    from sepcore.pack import pack

    good = tmp_path / "tiny.tar.gz"
    pack(exp, good)
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(DAMAGE[damage](good.read_bytes()))
    with pytest.raises(ModelFileError, match=rf"^{bad}: ({message})"):
        sepcore.load(bad)


def test_tar_gz_that_is_not_a_pack_is_named(tmp_path):
    import tarfile

    import sepcore

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/model.pt").write_bytes(b"x")
    with tarfile.open(tmp_path / "other.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "notes", arcname="notes")
    with pytest.raises(ModelFileError, match=rf"^{tmp_path}/other.tar.gz: no notes/MANIFEST "
                       r"\(not a sepcore pack\?\)"):
        sepcore.load(tmp_path / "other.tar.gz")


@pytest.mark.parametrize("damage", [*sorted(DAMAGE), "not-a-checkpoint", "wrong-weights"])
def test_damaged_checkpoint_on_resume_is_named(tmp_path, damage):
    import torch
    from helpers.inference import TINY

    from sepcore.models import build_model
    from sepcore.train.state import load_checkpoint, save_checkpoint

    class Policy:
        def state_dict(self):
            return {}

        def load_state_dict(self, d):
            pass

    model = build_model(TINY)
    opt = torch.optim.Adam(model.parameters())
    last = tmp_path / "last.pt"
    save_checkpoint(last, model, opt, Policy(), {"steps": 1}, TINY, None)
    if damage in DAMAGE:
        last.write_bytes(DAMAGE[damage](last.read_bytes()))
        message = MESSAGES[damage]
    elif damage == "not-a-checkpoint":
        torch.save({"model": model.state_dict()}, last)
        message = r"not a sepcore training checkpoint \(no optimizer, scheduler"
    else:
        ckpt = torch.load(last, weights_only=True)
        ckpt["model"] = {k: v[:1] for k, v in ckpt["model"].items()}
        torch.save(ckpt, last)
        message = "damaged checkpoint"
    with pytest.raises(ModelFileError, match=rf"^{last}: {message}.*--resume false"):
        load_checkpoint(last, "cpu", model, opt, Policy(), TINY, None, tmp_path)
