"""End-to-end smoke run of the mini music recipe (egs/mini_music/umx/run.sh, stages 1-7).

The recipe is copied to a temporary folder (steps/, utils/ and path.sh linked to this
checkout), four 3 s songs are rendered and conf/tiny.yaml trains a few steps. Checks that
every stage writes the files the next one reads (separation with and without the Wiener
filter, the oracle, per-stem scores and table, the report, the pack) and that a rerun
skips finished work.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import helpers.corpus_replicas as cr
import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "egs" / "mini_music" / "umx"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("fluidsynth") is None
                       or not Path("/usr/share/sounds/sf2/TimGM6mb.sf2").is_file(),
                       reason="needs fluidsynth and timgm6mb-soundfont (tools/install.sh)"),
]
SMALL = ["--songs", "2,1,1", "--seconds", "3", "--nj", "2", "--conf", "conf/tiny.yaml"]


def run(recipe: Path, *args: str) -> subprocess.CompletedProcess:
    proc = cr.run_recipe_script("", "./run.sh", *args, cwd=str(recipe), timeout=1200)
    assert proc.returncode == 0, f"run.sh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    return cr.copy_recipe(RECIPE, tmp_path_factory.mktemp("mini_music") / "umx")


def test_stages_1_to_7(recipe: Path):
    proc = run(recipe, "--stage", "1", "--stop-stage", "7", *SMALL)
    for s, n in (("train", 2), ("dev", 1), ("test", 1)):
        d = recipe / "data" / s
        assert len((d / "wav.scp").read_text().splitlines()) == n
        assert (d / "sources").read_text().split() == ["drums", "bass", "other", "vocals"]
        assert all(int(r.split()[1]) == 3 * 44100
                   for r in (d / "utt2num_samples").read_text().splitlines())
    exp = recipe / "exp" / "umx_tiny"
    assert (exp / ".train.done").is_file()
    history = (exp / "history.tsv").read_text().splitlines()
    assert history[0].split("\t")[4] == "valid_sdri" and len(history) == 2
    assert "input statistics from 2 training tracks" in (exp / "train.log").read_text()
    for sep in ("test", "test_wiener", "dev", "dev_wiener"):
        d = exp / "separate" / sep
        assert (d / "sources").read_text().split() == ["drums", "bass", "other", "vocals"]
        summary = json.loads((d / "scores" / "summary.json").read_text())
        assert summary["permutation"] == "none (spkN -> spkN)"
        assert {"sdr_v4", "sdr_mdx"} <= set(summary["metrics"])
    wiener = json.loads((exp / "separate/test_wiener/separate.json").read_text())
    assert "1" in json.dumps(wiener)
    assert (recipe / "exp/oracle_irm1/separate/test/scores/summary.json").is_file()
    table = (exp / "RESULTS_test.md").read_text()
    for row in ("| mixture (reference) |", "| umx_tiny |", "| umx_tiny + Wiener (1 it.) |",
                "| oracle IRM1 (reference) |", "| system | vocals | drums | bass | other | mean |"):
        assert row in table, row
    assert table in proc.stdout
    assert (exp / "report" / "index.html").is_file()
    with tarfile.open(exp / "umx_tiny.tar.gz") as tar:
        names = tar.getnames()
    assert any(n.endswith("model.pt") for n in names)

    # a rerun skips the finished data preparation and training
    again = run(recipe, "--stage", "1", "--stop-stage", "3", *SMALL)
    assert "data already prepared (seed=0 songs=2,1,1 seconds=3)" in again.stdout + again.stderr
    assert "is a finished experiment" not in again.stderr
