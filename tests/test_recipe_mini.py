"""End-to-end smoke run of the mini recipe (egs/mini/convtasnet/run.sh, stages 1-7).

The recipe is copied to a temporary folder (steps/, utils/ and path.sh linked to this
checkout), a tiny corpus is synthesized and conf/tiny.yaml trains for a few seconds.
Checks that every stage writes the files the next one reads, and that a rerun skips
finished work.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import helpers.corpus_replicas as cr
import pytest
from helpers.chromium import Chromium, check_in_browser, find_chromium

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "egs" / "mini" / "convtasnet"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    any(shutil.which(p) is None for p in ("sox", "espeak-ng", "flite", "festival")),
    reason="needs sox, espeak-ng, flite and festival (tools/install.sh)",
)]


def run(recipe: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        ["./run.sh", *args], cwd=recipe, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"run.sh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    return cr.copy_recipe(RECIPE, tmp_path_factory.mktemp("mini") / "convtasnet")


SMALL = ["--train-utts", "24", "--dev-mixtures", "3", "--test-mixtures", "4", "--nj", "2"]


def test_stages_1_to_7(recipe: Path):
    proc = run(recipe, "--stage", "1", "--stop-stage", "7", "--conf", "conf/tiny.yaml", *SMALL)
    exp = recipe / "exp" / "convtasnet_tiny"
    for s in ("train", "dev", "test"):
        lines = (recipe / "data" / s / "wav.scp").read_text().splitlines()
        assert len(lines) == {"train": 12, "dev": 3, "test": 4}[s]
        assert (recipe / "data" / s / "utt2num_samples").is_file()
    assert (exp / ".train.done").is_file() and (exp / "model.pt").is_file()
    for s, n in (("dev", 3), ("test", 4)):
        sep = exp / "separate" / s
        for k in (1, 2):
            rows = (sep / f"spk{k}.scp").read_text().splitlines()
            assert len(rows) == n
            assert all((sep / r.split(maxsplit=1)[1]).is_file() for r in rows)  # own folder
        summary = json.loads((sep / "scores" / "summary.json").read_text())
        assert summary  # scored
        assert (sep / "scores" / "RESULTS.md").is_file()
    assert "RESULTS" in proc.stdout or "si_sdr" in proc.stdout.lower()
    # stage 6: the report, opened in headless Chromium when it is installed
    index = exp / "report" / "index.html"
    assert f"report: {index.relative_to(recipe)}" in proc.stdout
    html = index.read_text()
    for s in ("dev", "test"):
        assert f"Set {s}" in html
    assert "Examples during training" in html  # conf/tiny.yaml: training.examples 2
    if find_chromium():
        with Chromium() as browser:
            page = check_in_browser(browser, index)
        results = (exp / "separate/test/scores/RESULTS.md").read_text()
        numbers = re.findall(r"(?<=\| )-?\d+\.\d{4}(?= \|)", results)
        assert numbers and [n for n in numbers if n not in page["text"]] == []
    pack = exp / "convtasnet_tiny.tar.gz"
    with tarfile.open(pack) as tar:
        names = tar.getnames()
    assert any(n.endswith("model.pt") for n in names)
    assert any(n.endswith("MANIFEST") for n in names)

    # a rerun skips the finished data preparation and training
    again = run(recipe, "--stage", "1", "--stop-stage", "3", "--conf", "conf/tiny.yaml", *SMALL)
    assert "skipping" in again.stdout + again.stderr
