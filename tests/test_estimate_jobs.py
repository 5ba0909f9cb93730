"""utils/lib/estimate_jobs.sh, the job loop of steps/oracle.sh and steps/enhance_baseline.sh:
the data dir checks (each step names its file and why), nj lowered to the utterances, and a
failing job named with its logs. The steps' full runs: tests/test_spectral.py and
tests/test_baselines.py (slow)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "utils" / "lib" / "estimate_jobs.sh"
ENV = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{ROOT / 'utils'}:{os.environ['PATH']}")


def sh(*args, cwd):
    return subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("step, why", [
    (["steps/oracle.sh"], "the oracle needs the references"),
    (["steps/enhance_baseline.sh", "--method", "rnnoise"], "expected the clean speech references"),
])
def test_the_steps_check_the_data_dir(tmp_path, step, why):
    data = tmp_path / "data"
    data.mkdir()
    run = lambda: sh(str(ROOT / step[0]), *step[1:], str(data), str(tmp_path / "o"),  # noqa: E731
                     cwd=tmp_path)
    r = run()
    assert r.returncode == 1 and f"{data}/wav.scp not found (expected a data dir)" in r.stderr
    (data / "wav.scp").write_text("")
    r = run()
    assert r.returncode == 1 and f"{data}/spk1.scp not found ({why})" in r.stderr
    (data / "spk1.scp").write_text("")
    r = run()
    assert r.returncode == 1 and f"{data}/wav.scp is empty" in r.stderr
    assert not (tmp_path / "o").exists()


def test_jobs_lowered_to_the_utterances_and_a_failure_names_the_logs(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "wav.scp").write_text("u1 a.wav\nu2 b.wav\n")
    (data / "spk1.scp").write_text("u1 a.wav\nu2 b.wav\n")
    r = sh("bash", "-c", f"nj=5; cmd=run.pl; . {LIB}; estimates_data data why; "
           'echo "nj=$nj num_utts=$num_utts"; '
           "estimates_run no_such_program 'nothing (test)' data out --x 1", cwd=tmp_path)
    assert r.returncode == 1
    assert "nj=2 num_utts=2" in r.stdout
    assert "nothing (test) estimates of 2 utterances of data into out (2 jobs)" in r.stdout
    assert "nothing (test) failed; see out/log/no_such_program.*.log" in r.stderr
    log = (tmp_path / "out" / "log" / "no_such_program.1.log").read_text()
    assert "--data-dir data --out-dir out --job 1 --num-jobs 2 --x 1" in log
