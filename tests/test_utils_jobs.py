"""utils/run.pl, slurm.pl, queue.pl: Kaldi's job-runner interface."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[1] / "utils"


def run(cwd, *args, env=None):
    return subprocess.run([*args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=60)


def check_log(path, command, code):
    lines = Path(path).read_text().splitlines()
    assert lines[0] == f"# {command}"
    assert lines[1].startswith("# Started at ")
    assert re.fullmatch(r"# Accounting: time=\d+ threads=\d+", lines[-2]), lines[-2]
    assert re.fullmatch(rf"# Ended \(code {code}\) at .+, elapsed time \d+ seconds", lines[-1])
    return [line for line in lines if not line.startswith("#")]


def test_run_pl_substitutes_job_in_command_and_log(tmp_path):
    r = run(tmp_path, UTILS / "run.pl", "JOB=1:3", "exp/log/x.JOB.log",
            "echo", "job JOB", "out.JOB", "|", "tr", "a-z", "A-Z")
    assert r.returncode == 0, r.stderr
    for j in (1, 2, 3):
        body = check_log(tmp_path / f"exp/log/x.{j}.log", f"echo 'job {j}' out.{j} | tr a-z A-Z", 0)
        assert body == [f"JOB {j} OUT.{j}"]
    assert not (tmp_path / "exp/log/x.4.log").exists()


def test_run_pl_single_job_and_options_accepted(tmp_path):
    r = run(tmp_path, UTILS / "run.pl", "--gpu", "1", "--mem", "2G", "--num-threads", "2",
            "--time", "1:00:00", "log/one.log", "echo", "it's")
    assert r.returncode == 0, r.stderr
    body = check_log(tmp_path / "log/one.log", "echo 'it'\\''s'", 0)
    assert body == ["it's"]
    assert "threads=2" in (tmp_path / "log/one.log").read_text()


def test_run_pl_failure_is_counted_and_reported(tmp_path):
    r = run(tmp_path, UTILS / "run.pl", "JOB=1:3", "log/t.JOB.log", "test", "JOB", "-ne", "2")
    assert r.returncode == 1
    assert "run.pl: 1 / 3 failed, log is in log/t.*.log" in r.stderr
    check_log(tmp_path / "log/t.2.log", "test 2 -ne 2", 1)
    check_log(tmp_path / "log/t.3.log", "test 3 -ne 2", 0)
    # the exit code of a pipeline is its first failure (pipefail)
    r = run(tmp_path, UTILS / "run.pl", "log/p.log", "false", "|", "cat")
    assert r.returncode == 1 and "1 / 1 failed, log is in log/p.log" in r.stderr


def test_run_pl_max_jobs_run(tmp_path):
    args = ["JOB=1:3", "log/s.JOB.log", "date", "+%s.%N", "&&", "sleep", "0.3", "&&",
            "date", "+%s.%N"]
    t0 = time.time()
    assert run(tmp_path, UTILS / "run.pl", "--max-jobs-run", "1", *args).returncode == 0
    serial = time.time() - t0
    spans = []
    for j in (1, 2, 3):
        start, end = map(float, check_log(tmp_path / f"log/s.{j}.log",
                                          "date +%s.%N && sleep 0.3 && date +%s.%N", 0))
        spans.append((start, end))
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(2)), spans  # one at a time
    assert serial >= 0.9
    t0 = time.time()
    assert run(tmp_path, UTILS / "run.pl", *args).returncode == 0
    assert time.time() - t0 < serial - 0.3  # default: all at once


def test_run_pl_passes_sigterm_to_the_jobs(tmp_path):
    proc = subprocess.Popen([UTILS / "run.pl", "JOB=1:2", "log/k.JOB.log", "sh", "-c",
                             "echo $$ > pid.JOB; exec sleep 30"], cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True)
    pids = [tmp_path / "pid.1", tmp_path / "pid.2"]
    for _ in range(100):
        if all(p.exists() and p.read_text().strip() for p in pids):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 1
    assert "got SIGTERM" in proc.stderr.read()
    stats = [Path(f"/proc/{int(p.read_text())}/stat") for p in pids]
    for _ in range(100):  # a loaded CPU may take a moment
        if not any(is_running(s) for s in stats):
            break
        time.sleep(0.05)
    else:
        pytest.fail("a job outlived run.pl's SIGTERM")


def is_running(stat: Path) -> bool:
    """Neither gone nor a zombie waiting for init to reap it."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_run_pl_usage_errors(tmp_path):
    r = run(tmp_path, UTILS / "run.pl", "JOB=1:2", "log/x.log", "true")
    assert r.returncode == 1 and "does not contain JOB" in r.stderr
    r = run(tmp_path, UTILS / "run.pl", "--help")
    assert r.returncode == 0 and r.stdout.startswith("Usage: run.pl")


FAKE_SBATCH = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$FAKE_DIR/sbatch.args"
script=${@: -1}
for a in "$@"; do
  case $a in --array=*) r=${a#--array=}; r=${r%%%*}; s=${r%-*}; e=${r#*-};; esac
done
for ((t=s; t<=e; t++)); do
  # FAKE_SKIP: a task (or all) killed by the scheduler before it could run
  [ "${FAKE_SKIP:-0}" = "$t" ] || [ "${FAKE_SKIP:-0}" = all ] && continue
  if [ -n "${FAKE_BACKGROUND:-}" ]; then  # the task runs on while sbatch returns
    SLURM_ARRAY_TASK_ID=$t setsid bash "$script" >/dev/null 2>&1 < /dev/null &
  else
    SLURM_ARRAY_TASK_ID=$t bash "$script" >/dev/null 2>&1 || true
  fi
done
touch "$FAKE_DIR/sbatch.done"
echo 4242
"""

FAKE_QSUB = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$FAKE_DIR/qsub.args"
script=${@: -1}
prev=
for a in "$@"; do [ "$prev" = -t ] && r=$a; prev=$a; done
s=${r%:*}; e=${r#*:}
for ((t=s; t<=e; t++)); do SGE_TASK_ID=$t bash "$script" >/dev/null 2>&1 || true; done
echo "777.1-$e:1"
"""


@pytest.fixture
def fake_bin(tmp_path):
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    for name, text in [("sbatch", FAKE_SBATCH), ("qsub", FAKE_QSUB),
                       ("squeue", "#!/usr/bin/env bash\nexit 0\n"),  # job gone: empty output
                       ("scancel", '#!/usr/bin/env bash\necho "$@" > "$FAKE_DIR/scancel.args"\n')]:
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_DIR": str(tmp_path)}


def test_slurm_pl_submits_array_job(tmp_path, fake_bin):
    r = run(tmp_path, UTILS / "slurm.pl", "--gpu", "1", "--mem", "4G", "--num-threads", "2",
            "--max-jobs-run", "2", "JOB=1:3", "exp/log/sep.JOB.log", "echo", "part", "JOB",
            "&&", "test", "JOB", "-ne", "3", env=fake_bin)
    assert r.returncode == 1
    assert "slurm.pl: 1 / 3 failed, log is in exp/log/sep.*.log" in r.stderr
    args = (tmp_path / "sbatch.args").read_text().split("\n")
    for opt in ["--array=1-3%2", "--gres=gpu:1", "--mem=4G", "--cpus-per-task=2",
                "--job-name=sep", "--output=exp/log/q/sep.out"]:
        assert opt in args
    assert args[-2] == "exp/log/q/sep.sh"
    for j in (1, 2, 3):
        body = check_log(tmp_path / f"exp/log/sep.{j}.log", f"echo part {j} && test {j} -ne 3",
                         int(j == 3))
        assert body == [f"part {j}"]
        assert "threads=2" in (tmp_path / f"exp/log/sep.{j}.log").read_text()
    assert not list((tmp_path / "exp/log/q").glob("*.done.*"))  # markers cleaned up


def test_slurm_pl_gpu0_and_success(tmp_path, fake_bin):
    r = run(tmp_path, UTILS / "slurm.pl", "--gpu", "0", "JOB=2:3", "log/a.JOB.log", "true",
            env=fake_bin)
    assert r.returncode == 0, r.stderr
    args = (tmp_path / "sbatch.args").read_text().split("\n")
    assert "--array=2-3" in args and not any(a.startswith("--gres") for a in args)
    check_log(tmp_path / "log/a.3.log", "true", 0)


def test_slurm_pl_task_that_never_finishes_counts_as_failed(tmp_path, fake_bin):
    env = {**fake_bin, "FAKE_SKIP": "2", "SEPCORE_QUEUE_CHECK_INTERVAL": "0.2",
           "SEPCORE_QUEUE_GRACE": "0.2"}
    r = run(tmp_path, UTILS / "slurm.pl", "JOB=1:2", "log/k.JOB.log", "true", env=env)
    assert r.returncode == 1
    assert "task 2 ended without writing its done marker" in r.stderr
    assert "slurm.pl: 1 / 2 failed" in r.stderr


def test_slurm_pl_cancels_the_job_when_killed(tmp_path, fake_bin):
    env = {**os.environ, **fake_bin, "FAKE_SKIP": "all"}  # submitted, never runs
    proc = subprocess.Popen([UTILS / "slurm.pl", "JOB=1:2", "log/c.JOB.log", "true"],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    for _ in range(100):
        if (tmp_path / "sbatch.done").exists():
            break
        time.sleep(0.05)
    time.sleep(0.2)  # for slurm.pl to read the job id
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 1
    assert "cancelled job 4242" in proc.stderr.read()
    assert (tmp_path / "scancel.args").read_text().split() == ["4242"]


def test_queue_pl_submits_array_job(tmp_path, fake_bin):
    r = run(tmp_path, UTILS / "queue.pl", "--gpu", "1", "--mem", "4G", "--num-threads", "4",
            "--max-jobs-run", "2", "JOB=1:2", "log/q.JOB.log", "echo", "JOB", env=fake_bin)
    assert r.returncode == 0, r.stderr
    args = " ".join((tmp_path / "qsub.args").read_text().split("\n"))
    for opt in ["-t 1:2", "-tc 2", "-l gpu=1", "-l mem_free=4G", "-pe smp 4",
                "-N q", "-V"]:
        assert opt in args
    for j in (1, 2):
        assert check_log(tmp_path / f"log/q.{j}.log", f"echo {j}", 0) == [str(j)]


def test_queue_pl_config_file(tmp_path, fake_bin):
    (tmp_path / "queue.conf").write_text(
        "command qsub -V -cwd -q all.q\n"
        "option gpu=0\noption gpu=* -l gpu=$0 -q g.q\n"
        "default gpu=0\n"
    )
    r = run(tmp_path, UTILS / "queue.pl", "--config", "queue.conf", "--gpu", "2",
            "log/c.log", "true", env=fake_bin)
    assert r.returncode == 0, r.stderr
    args = " ".join((tmp_path / "qsub.args").read_text().split("\n"))
    assert "-q all.q" in args and "-l gpu=2 -q g.q" in args
    r = run(tmp_path, UTILS / "queue.pl", "--config", "queue.conf", "--mem", "2G",
            "log/c.log", "true", env=fake_bin)
    assert r.returncode == 1 and "--mem is not supported" in r.stderr


def _wait_for(path: Path, text: str, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and text in path.read_text():
            return True
        time.sleep(0.1)
    return False


def test_slurm_pl_killed_with_sigkill_its_tasks_stop_themselves(tmp_path, fake_bin):
    """No handler runs on SIGKILL: the tasks see the heartbeat stop and end their command
    (all of its processes), with a line in the log that says why."""
    env = {**os.environ, **fake_bin, "FAKE_BACKGROUND": "1", "SEPCORE_QUEUE_HEARTBEAT": "0.3",
           "SEPCORE_QUEUE_ORPHAN_TIMEOUT": "2"}
    proc = subprocess.Popen([UTILS / "slurm.pl", "JOB=1:2", "log/o.JOB.log",
                             "sleep", "317", "|", "cat", "&&", "touch", "finished.JOB"],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    assert _wait_for(tmp_path / "log/o.2.log", "# Running on", 20)
    time.sleep(3)  # longer than the timeout: the heartbeat keeps the tasks running
    assert "stopping the task" not in (tmp_path / "log/o.1.log").read_text()
    proc.kill()
    proc.wait()
    for j in (1, 2):
        log = tmp_path / f"log/o.{j}.log"
        assert _wait_for(log, "# Ended (code", 20), log.read_text()
        assert "stopping the task:" in log.read_text()
        assert "has not changed for 2 s" in log.read_text()
        assert "# Ended (code 143)" in log.read_text()  # SIGTERM
    assert not list(tmp_path.glob("finished.*"))
    time.sleep(0.5)  # every process of the pipeline was stopped, not only its shell
    assert subprocess.run(["pgrep", "-f", "sleep 317"], capture_output=True).returncode == 1


def test_slurm_pl_heartbeat_variables_are_checked(tmp_path, fake_bin):
    for bad, message in [({"SEPCORE_QUEUE_ORPHAN_TIMEOUT": "1"}, "whole number of seconds >= 2"),
                         ({"SEPCORE_QUEUE_ORPHAN_TIMEOUT": "10", "SEPCORE_QUEUE_HEARTBEAT": "6"},
                          "below half of SEPCORE_QUEUE_ORPHAN_TIMEOUT \\(10\\)")]:
        r = run(tmp_path, UTILS / "slurm.pl", "log/x.log", "true", env={**fake_bin, **bad})
        assert r.returncode == 1
        assert re.search(message, r.stderr), r.stderr
