"""utils/lib/corpus_prep.sh, the shared part of the corpus preps (egs/*/*/local/prepare_data.sh),
on a fake prep made by the test, and the argument checks of the preps that use it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FAKE_PREP = """#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <corpus-dir> <data-root>
# Options:
#   --seed <0>   the seed
set -euo pipefail
seed=0
. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/corpus_prep.sh"
prep_args corpus data -- "$@"
prep_need_programs "install it with apt-get" ${NEED:-bash}
prep_once "$data" "$(prep_corpus_stamp "$corpus") seed=$seed" \\
  bash -c 'echo ran >> "$0"/runs' "$data"
"""


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    (tmp_path / "local").mkdir()
    (tmp_path / "utils").symlink_to(ROOT / "utils")
    prep = tmp_path / "local" / "prepare_data.sh"
    prep.write_text(FAKE_PREP)
    prep.chmod(0o755)
    (tmp_path / "corpus").mkdir()
    return tmp_path


def prep(recipe: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["local/prepare_data.sh", *args], cwd=recipe, text=True,
                          capture_output=True, env={**os.environ, **env})


def test_runs_once_per_stamp_and_again_for_other_options(recipe: Path):
    assert prep(recipe, "corpus", "data").returncode == 0
    stamp = (recipe / "data" / ".prepare_data.done").read_text().strip()
    assert stamp == f"corpus={recipe / 'corpus'} seed=0"
    again = prep(recipe, "corpus", "data")
    assert again.returncode == 0 and "data already prepared" in again.stdout
    assert again.stdout.rstrip().endswith("local/prepare_data.sh: done: data")
    assert (recipe / "data" / "runs").read_text() == "ran\n"
    assert prep(recipe, "--seed", "3", "corpus", "data").returncode == 0
    assert (recipe / "data" / "runs").read_text() == "ran\nran\n"


def test_wrong_argument_count_missing_program_and_unknown_option(recipe: Path):
    few = prep(recipe, "corpus")
    assert few.returncode == 1
    assert "local/prepare_data.sh: expected 2 arguments, <corpus> <data>; got 1" in few.stderr
    missing = prep(recipe, "corpus", "data", NEED="no-such-program-x")
    assert missing.returncode == 1
    assert "'no-such-program-x' not found; install it with apt-get" in missing.stderr
    unknown = prep(recipe, "--sed", "1", "corpus", "data")
    assert unknown.returncode == 1 and "prepare_data.sh: unknown option --sed" in unknown.stderr
    assert not (recipe / "data").exists()
    assert "--seed <0>" in prep(recipe, "--help").stdout


@pytest.mark.parametrize("recipe_dir,nargs,first", [
    ("egs/mini/convtasnet", 2, "corpus"), ("egs/mini_music/umx", 2, "corpus"),
    ("egs/musdb18/umx", 2, "corpus"),
    ("egs/mini_enh/convtasnet", 2, "corpus"), ("egs/dns2020/convtasnet", 2, "corpus"),
    ("egs/voicebank_demand/convtasnet", 3, "corpus"), ("egs/demask/demask", 2, "corpus"),
    ("egs/custom/convtasnet", 4, "target_dir")])
def test_the_preps_check_their_arguments(recipe_dir: str, nargs: int, first: str):
    proc = subprocess.run(["local/prepare_data.sh", "x"], cwd=ROOT / recipe_dir, text=True,
                          capture_output=True)
    assert proc.returncode == 1
    assert f"local/prepare_data.sh: expected {nargs} arguments, <{first}> " in proc.stderr
    assert "; got 1 (see local/prepare_data.sh --help)" in proc.stderr
