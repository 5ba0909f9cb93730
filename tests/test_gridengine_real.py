"""utils/queue.pl against a real one-host Grid Engine (tests/helpers/gridengine.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers.gridengine import gridengine  # noqa: F401  (the session fixture)

UTILS = Path(__file__).resolve().parents[1] / "utils"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gridengine")]


def queue_pl(cluster, cwd, *args):
    return subprocess.run([UTILS / "queue.pl", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **cluster.env}, timeout=120)


def body(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    assert lines[1].startswith("# Started at ") and "# Running on " in lines[2]
    return [line for line in lines if not line.startswith("#")]


def test_array_job_with_slots_time_and_memory(gridengine, tmp_path):  # noqa: F811
    (tmp_path / "info.sh").write_text('echo "task $1 slots $NSLOTS"\n'
                                      'qstat -j "$JOB_ID" | grep resource_list\n')
    r = queue_pl(gridengine, tmp_path, "--num-threads", "2", "--time", "0:10:00", "--mem", "100M",
                 "JOB=1:3", "log/i.JOB.log", "bash", "info.sh", "JOB")
    assert r.returncode == 0, r.stderr
    for j in (1, 2, 3):
        lines = body(tmp_path / f"log/i.{j}.log")
        assert lines[0] == f"task {j} slots 2"  # -pe smp 2
        assert re.search(r"h_rt=600\b", lines[1]) and "mem_free=100M" in lines[1], lines


def test_failing_task_and_gpu_request(gridengine, tmp_path):  # noqa: F811
    r = queue_pl(gridengine, tmp_path, "JOB=1:3", "log/f.JOB.log", "test", "JOB", "-ne", "2")
    assert r.returncode == 1
    assert "queue.pl: 1 / 3 failed, log is in log/f.*.log" in r.stderr
    assert "queue.pl: failed: log/f.2.log" in r.stderr
    # no GPUs here: qsub refuses the resource, and says so
    r = queue_pl(gridengine, tmp_path, "--gpu", "1", "log/g.log", "true")
    assert r.returncode == 1 and "-l gpu=1" in r.stderr and 'unknown resource "gpu"' in r.stderr


def test_task_over_h_rt_is_reported_with_qacct_reason(gridengine, tmp_path):  # noqa: F811
    r = queue_pl(gridengine, tmp_path, "--time", "0:0:3", "JOB=1:2", "log/t.JOB.log",
                 "test", "JOB", "-eq", "1", "||", "sleep", "60")
    assert r.returncode == 1
    assert re.search(r"task 2 was ended by the scheduler: failed \d+ *: qmaster enforced h_rt.*"
                     r"\(qacct\)", r.stderr), r.stderr
    assert "queue.pl: 1 / 2 failed" in r.stderr and "failed: log/t.2.log" in r.stderr


def test_sigterm_deletes_the_job(gridengine, tmp_path):  # noqa: F811
    proc = subprocess.Popen([UTILS / "queue.pl", "JOB=1:2", "log/c.JOB.log", "sleep", "300"],
                            cwd=tmp_path, env={**os.environ, **gridengine.env},
                            stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if all((tmp_path / f"log/c.{j}.log").exists() for j in (1, 2)):
            break
        time.sleep(0.2)
    assert gridengine.jobs()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 1
    assert re.search(r"got SIGTERM; cancelled job \d+ \(qdel \d+\)", proc.stderr.read())
    end = time.monotonic() + 30
    while gridengine.jobs() and time.monotonic() < end:
        time.sleep(0.5)
    assert not gridengine.jobs()
