"""End-to-end smoke run of the mini enhancement recipe (egs/mini_enh/convtasnet/run.sh).

The recipe is copied to a temporary folder (steps/, utils/ and path.sh linked to this
checkout), a tiny noisy corpus is synthesized, conf/tiny.yaml trains a few steps, and
the enhancement stages write the baselines, the oracle and the comparison table.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers.recipes import copy_recipe

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "egs" / "mini_enh" / "convtasnet"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(shutil.which(p) is None for p in ("sox", "espeak-ng", "flite", "festival")),
        reason="needs sox, espeak-ng, flite and festival (tools/install.sh)"),
]


def run(recipe: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(["./run.sh", *args], cwd=recipe, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"run.sh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    return copy_recipe(RECIPE, tmp_path_factory.mktemp("mini_enh") / "convtasnet")


SMALL = ["--conf", "conf/tiny.yaml", "--train-utts", "16", "--train-noises", "7",
         "--dev-utts", "5", "--test-per-snr", "2", "--nj", "2"]


def test_every_stage(recipe: Path):
    run(recipe, "--stage", "1", "--stop-stage", "5", *SMALL)
    proc = run(recipe, "--stage", "8", "--stop-stage", "11", *SMALL)
    data = recipe / "data"
    test = dict(line.split() for line in (data / "test" / "utt2snr").read_text().splitlines())
    assert sorted(test.values(), key=float) == ["-5", "-5", "0", "0", "5", "5", "10", "10",
                                                "15", "15"]
    kinds = set((data / "test" / "utt2noise_type").read_text().split()[1::2])
    train_kinds = set((data / "train_noise" / "utt2noise_type").read_text().split()[1::2])
    assert kinds <= {"blue", "music", "siren", "rain"} and not kinds & train_kinds
    assert (data / "test" / "sources").read_text() == "speech\n"
    exp = recipe / "exp" / "convtasnet_tiny"
    assert (exp / "model.pt").is_file()
    for system in ("rnnoise", "spectral_gating", "oracle_irm"):
        sep = recipe / "exp" / system / "separate" / "test"
        assert len((sep / "spk1.scp").read_text().splitlines()) == 10
        summary = json.loads((sep / "scores" / "summary.json").read_text())
        assert set(summary["by_snr"]) == {"-5", "0", "5", "10", "15"}
    table = (exp / "compare_test.md").read_text()
    assert table in proc.stdout
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    names = [r.split("|")[1].strip() for r in rows[1:]]
    assert names[0] == "input" and len(names) == 5
    assert all(any(n.startswith(s) for n in names) for s in ("rnnoise", "spectral_gating",
                                                              "oracle_irm", "convtasnet_tiny"))
    assert "-5" in rows[0] and "15" in rows[0]
