"""utils/slurm.pl against a real one-node Slurm (tests/helpers/slurm.py).

The tests share one xdist group (one worker, one cluster, under --dist loadgroup;
pytest-xdist 3.8 under pytest 9 does not honour the mark, so each worker that gets some
of these tests starts its own cluster, in its own folder, on its own ports). The
time-limit test needs ~80 s of wall time (Slurm's limits are whole minutes), so its job
is submitted by a fixture when the first of these tests starts on a worker and is
checked by the last one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from helpers.configs import TINY_CONVTASNET, as_yaml_flow
from helpers.datadirs import make_datadir
from helpers.recipes import copy_recipe
from helpers.slurm import slurm  # noqa: F401  (the session fixture)
from test_train import env as train_env

from sepcore.modelfile import load_model_file

ROOT = Path(__file__).resolve().parents[1]
UTILS = ROOT / "utils"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("slurm")]


def slurm_pl(cluster, cwd, *args, timeout=120):
    return subprocess.run([UTILS / "slurm.pl", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **cluster.env}, timeout=timeout)


def log_body(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    assert lines[1].startswith("# Started at ")
    assert re.fullmatch(r"# Ended \(code \d+\) at .+, elapsed time \d+ seconds", lines[-1])
    return [line for line in lines if not line.startswith("#")]


def job_id_from_out(out: Path) -> str | None:
    """The job id in a job's scontrol dump that the job script printed (see below)."""
    m = re.search(r"JobId=(\d+)", out.read_text()) if out.exists() else None
    return m.group(1) if m else None


# session scope: xdist may run other modules' tests between this file's, and a module
# fixture would then be torn down and submitted again, for the last test to wait on
@pytest.fixture(scope="session", autouse=True)
def over_time_limit(slurm, tmp_path_factory):  # noqa: F811
    """A task that sleeps past its --time 0:01 (one minute), submitted at once."""
    cwd = tmp_path_factory.mktemp("timelimit")
    proc = subprocess.Popen(
        [UTILS / "slurm.pl", "--time", "0:01", "JOB=1:2", "log/t.JOB.log",
         "echo", "start", "&&", "test", "JOB", "-eq", "1", "||", "sleep", "300"],
        cwd=cwd, env={**os.environ, **slurm.env}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    yield cwd, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_array_job_with_threads_memory_and_time(slurm, tmp_path):  # noqa: F811
    # a script: JOB would be replaced inside $SLURM_JOB_ID too
    (tmp_path / "info.sh").write_text(
        'echo "task $1 of $SLURM_ARRAY_JOB_ID cpus $SLURM_CPUS_PER_TASK"\n'
        'scontrol -o show job "$SLURM_JOB_ID"\n')
    r = slurm_pl(slurm, tmp_path, "--num-threads", "2", "--mem", "300M", "--time", "10",
                 "JOB=1:3", "exp/log/info.JOB.log", "bash", "info.sh", "JOB")
    assert r.returncode == 0, r.stderr
    array_ids = set()
    for j in (1, 2, 3):
        body = log_body(tmp_path / f"exp/log/info.{j}.log")
        words = body[0].split()
        assert words[:2] == ["task", str(j)] and words[-2:] == ["cpus", "2"], body
        array_ids.add(words[3])
        job = dict(item.partition("=")[::2] for item in body[1].split())
        assert job["ArrayJobId"] == words[3]
        assert job["ArrayTaskId"] == str(j)
        assert job["NumCPUs"] == "2" and job["MinMemoryNode"] == "300M", job
        assert job["TimeLimit"] == "00:10:00" and job["JobName"] == "info"
        assert job["StdOut"].endswith("exp/log/q/info.out")
    assert len(array_ids) == 1  # one array job, not three jobs


def test_failing_task_is_reported_with_its_log(slurm, tmp_path):  # noqa: F811
    r = slurm_pl(slurm, tmp_path, "JOB=1:3", "log/f.JOB.log", "echo", "JOB", "&&",
                 "test", "JOB", "-ne", "2")
    assert r.returncode == 1
    assert "slurm.pl: 1 / 3 failed, log is in log/f.*.log" in r.stderr
    assert "slurm.pl: failed: log/f.2.log" in r.stderr
    assert "Ended (code 1)" in (tmp_path / "log/f.2.log").read_text()
    assert log_body(tmp_path / "log/f.3.log") == ["3"]


def test_max_jobs_run_runs_tasks_one_at_a_time(slurm, tmp_path):  # noqa: F811
    r = slurm_pl(slurm, tmp_path, "--max-jobs-run", "1", "JOB=1:3", "log/s.JOB.log",
                 "date", "+%s.%N", "&&", "sleep", "1", "&&", "date", "+%s.%N")
    assert r.returncode == 0, r.stderr
    spans = [tuple(map(float, log_body(tmp_path / f"log/s.{j}.log"))) for j in (1, 2, 3)]
    spans.sort()
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(2)), spans


def test_kaldi_style_config_file(slurm, tmp_path):  # noqa: F811
    # as Kaldi's conf/slurm.conf: partitions chosen by option, memory per CPU
    (tmp_path / "slurm.conf").write_text(
        "command sbatch --export=ALL --parsable\n"
        "option mem=* --mem-per-cpu=$0\n"
        "option mem=0          # nothing\n"
        "option num_threads=* --cpus-per-task=$0 --ntasks-per-node=1\n"
        "default gpu=0\n"
        "option gpu=0 -p long\n"
        "option gpu=* -p gpu --gres=gpu:$0\n"
    )
    r = slurm_pl(slurm, tmp_path, "--config", "slurm.conf", "--mem", "200M",
                 "--num-threads", "2", "log/c.log", "scontrol", "-o", "show", "job",
                 "$SLURM_JOB_ID")  # no JOB=: nothing is replaced
    assert r.returncode == 0, r.stderr
    job = dict(item.partition("=")[::2] for item in log_body(tmp_path / "log/c.log")[0].split())
    assert job["Partition"] == "long" and job["MinMemoryCPU"] == "200M"
    assert job["NumCPUs"] == "2"
    r = slurm_pl(slurm, tmp_path, "--config", "slurm.conf", "--time", "5", "log/c.log", "true")
    assert r.returncode == 1 and "--time is not supported by the config" in r.stderr


def test_gpu_is_requested_as_gres(slurm, tmp_path):  # noqa: F811
    # this cluster has no GPUs: the real sbatch refuses the gres, and says so
    r = slurm_pl(slurm, tmp_path, "--gpu", "2", "log/g.log", "true")
    assert r.returncode == 1
    assert "slurm.pl: submitting failed" in r.stderr and "--gres=gpu:2" in r.stderr
    assert re.search(r"sbatch: error: .*(gres|generic resource|configuration)", r.stderr,
                     re.IGNORECASE), r.stderr
    assert not slurm.queue(name="g")
    assert not list((tmp_path / "log/q").glob("*.alive"))  # no heartbeat left behind


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_cancels_the_jobs(slurm, tmp_path, sig):  # noqa: F811
    proc = subprocess.Popen([UTILS / "slurm.pl", "JOB=1:2", "log/c.JOB.log", "sleep", "300"],
                            cwd=tmp_path, env={**os.environ, **slurm.env},
                            stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 60
    while time.monotonic() < end:  # both tasks have started
        if all((tmp_path / f"log/c.{j}.log").exists() for j in (1, 2)):
            break
        time.sleep(0.2)
    assert len(slurm.queue(name="c")) == 2
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 1
    stderr = proc.stderr.read()
    m = re.search(r"got SIG(INT|TERM); cancelled job (\d+)", stderr)
    assert m, stderr
    assert slurm.wait_queue_empty(name="c", timeout=30), slurm.queue()
    for j in (1, 2):
        assert slurm.job(f"{m.group(2)}_{j}")["JobState"] == "CANCELLED"


def test_sigkill_of_slurm_pl_ends_its_jobs_through_the_heartbeat(slurm, tmp_path):  # noqa: F811
    env = {**os.environ, **slurm.env, "SEPCORE_QUEUE_HEARTBEAT": "1",
           "SEPCORE_QUEUE_ORPHAN_TIMEOUT": "4"}
    proc = subprocess.Popen([UTILS / "slurm.pl", "JOB=1:2", "log/k.JOB.log", "sleep", "300"],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 60
    while time.monotonic() < end:  # both tasks have started
        if all((tmp_path / f"log/k.{j}.log").exists() for j in (1, 2)):
            break
        time.sleep(0.2)
    time.sleep(6)  # past the timeout while slurm.pl waits: the tasks run on
    assert len(slurm.queue(name="k")) == 2
    proc.kill()  # no handler, no scancel
    proc.wait()
    assert slurm.wait_queue_empty(name="k", timeout=60), slurm.queue()
    for j in (1, 2):
        text = (tmp_path / f"log/k.{j}.log").read_text()
        assert "slurm.pl: stopping the task:" in text and "# Ended (code 143)" in text


TRAIN_CONFIG = f"model: {as_yaml_flow(TINY_CONVTASNET)}\n" + """\
data: {segment: 0.25, dynamic_mixing: true, epoch_size: 160}
training: {batch_size: 2, max_epochs: 3, num_threads: 1, log_interval: 0}
"""


def history_epochs(exp: Path) -> list[str]:
    path = exp / "history.tsv"
    return [r.split("\t")[0] for r in path.read_text().splitlines()[1:]] if path.exists() else []


def test_training_job_with_two_processes_resumes_after_scancel(slurm, tmp_path):  # noqa: F811
    make_datadir(tmp_path, "train", num_utts=6, seed=1)
    make_datadir(tmp_path, "dev", num_utts=2, seed=2)
    (tmp_path / "c.yaml").write_text(TRAIN_CONFIG)
    exp = tmp_path / "exp/ddp"
    cmd = [str(ROOT / "steps/train.sh"), "--cmd", "slurm.pl", "--nproc", "2",
           str(tmp_path / "c.yaml"), str(tmp_path / "data/train"), str(tmp_path / "data/dev"),
           str(exp)]
    environ = {**train_env(), **slurm.env}
    first = subprocess.Popen(cmd, cwd=tmp_path, env=environ, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 180
    while time.monotonic() < end and not history_epochs(exp) and first.poll() is None:
        time.sleep(0.2)
    assert history_epochs(exp) == ["1"], first.communicate()
    epoch1 = (exp / "history.tsv").read_text().splitlines()[1]
    (job,) = {j.split("_")[0] for j in slurm.queue(name="train")}
    assert slurm.job(f"{job}_1")["NumCPUs"] == "2"  # --nproc 2: the job holds 2 CPUs
    slurm.run("scancel", job)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 1, out + err
    assert "CANCELLED" in err and "slurm.pl: 1 / 1 failed" in err
    assert not (exp / ".train.done").exists()
    assert slurm.wait_queue_empty(name="train")
    log = (exp / "log/train.log").read_text()
    assert "rendezvous at " in log  # srun + torchrun + c10d, as on several nodes
    second = subprocess.run(cmd, cwd=tmp_path, env=environ, capture_output=True, text=True,
                            timeout=300)
    assert second.returncode == 0, second.stderr + (exp / "log/train.log").read_text()
    assert history_epochs(exp) == ["1", "2", "3"]
    assert (exp / "history.tsv").read_text().splitlines()[1] == epoch1  # not redone
    assert "resumed from" in (exp / "train.log").read_text()
    # 160 examples, batch 2 per process, 2 processes: 40 steps per epoch, 3 epochs
    assert load_model_file(exp / "model.pt").info["steps"] == 120


RECIPE = ROOT / "egs" / "mini" / "convtasnet"
SMALL = ["--conf", "conf/tiny.yaml", "--train-utts", "24", "--dev-mixtures", "3",
         "--test-mixtures", "4", "--nj", "2", "--test-sets", "test"]


def run_recipe(recipe: Path, environ: dict, *args: str) -> subprocess.CompletedProcess:
    r = subprocess.run(["./run.sh", *args], cwd=recipe, env=environ, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, f"run.sh {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
    return r


@pytest.mark.skipif(any(shutil.which(p) is None for p in ("sox", "espeak-ng", "flite")),
                    reason="needs sox, espeak-ng and flite (tools/install.sh)")
def test_mini_recipe_through_slurm_gives_the_outputs_of_run_pl(slurm, tmp_path):  # noqa: F811
    recipe = copy_recipe(RECIPE, tmp_path / "convtasnet")
    environ = {**os.environ, "OMP_NUM_THREADS": "1", **slurm.env}
    run_recipe(recipe, environ, "--stage", "1", "--stop-stage", "1", *SMALL)
    for f in (recipe / "data").glob("*/utt2num_samples"):
        f.unlink()  # so that stage 2 has jobs to run
    shutil.copytree(recipe / "data", recipe / "data.orig")
    run_recipe(recipe, environ, "--stage", "2", "--stop-stage", "5", "--tag", "local", *SMALL)
    # the same stages again, every job through Slurm (Kaldi's cmd.sh)
    shutil.rmtree(recipe / "data")
    shutil.copytree(recipe / "data.orig", recipe / "data")
    (recipe / "cmd.sh").write_text('train_cmd="slurm.pl --mem 1G"\n'
                                   'decode_cmd="slurm.pl --mem 500M"\n')
    run_recipe(recipe, environ, "--stage", "2", "--stop-stage", "5", "--tag", "slurm", *SMALL)
    jobs = (slurm.folder / "log/jobcomp.txt").read_text()
    ran = {m.group(1) for m in re.finditer(r"WorkDir=(\S+)", jobs)}
    assert str(recipe) in ran
    for name in ("utt2num_samples", "train", "separate", "score"):  # stages 2-5
        assert f"Name={name} " in jobs, name
    log = (recipe / "exp/slurm/log/train.log").read_text()
    assert "# Running on " in log  # slurm.pl's job script, not run.pl
    local, through = recipe / "exp/local", recipe / "exp/slurm"
    a, b = load_model_file(local / "model.pt"), load_model_file(through / "model.pt")
    for key, value in a.model.state_dict().items():
        torch.testing.assert_close(value, b.model.state_dict()[key], msg=key)
    for k in (1, 2):
        ids = [[line.split()[0] for line in (e / f"separate/test/spk{k}.scp").read_text()
                .splitlines()] for e in (local, through)]
        assert len(ids[0]) == 4 and ids[0] == ids[1]
    # the same estimates, to every digit
    tsv = [(e / "separate/test/scores/per_utt.tsv").read_text() for e in (local, through)]
    assert tsv[0] == tsv[1]
    summaries = []
    for e in (local, through):
        summary = json.loads((e / "separate/test/scores/summary.json").read_text())
        # the provenance names each exp's own model file: its path, and a checksum that
        # differs because model.pt records its training time; the settings must agree
        for key in ("model", "model_sha256"):
            summary["separation"].pop(key)
        summaries.append({k: v for k, v in summary.items()  # not the names or the time
                          if not (isinstance(v, str) and re.search(r"slurm|local|\d:\d\d", v))})
    assert summaries[0] == summaries[1] and len(summaries[0]) > 2


def test_task_over_its_time_limit_is_reported_with_the_reason(slurm, over_time_limit):  # noqa: F811
    cwd, proc = over_time_limit
    assert proc.wait(timeout=240) == 1
    stderr = proc.stderr.read()
    assert re.search(r"job \d+ task 2 was ended by the scheduler: TIMEOUT, reason TimeLimit "
                     r"\(scontrol\); see log/t\.2\.log", stderr), stderr
    assert "slurm.pl: 1 / 2 failed, log is in log/t.*.log" in stderr
    assert "failed: log/t.2.log" in stderr
    log = (cwd / "log/t.2.log").read_text()
    assert "TIMEOUT, reason TimeLimit" in log
    assert "DUE TO TIME LIMIT" in (cwd / "log/q/t.out").read_text()
    assert log_body(cwd / "log/t.1.log") == ["start"]
