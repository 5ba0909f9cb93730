"""End-to-end smoke run of the DeMask recipe (egs/demask/demask/run.sh) on a tiny corpus.

The recipe is copied to a temporary folder (steps/, utils/ and path.sh linked to this
checkout), a few mini-corpus voices are synthesized and masked, conf/tiny.yaml trains a
few steps, every stage runs, scores are broken down per mask type, and ``sepcore-separate``
with the pack writes outputs of the input's length, rate and sample format.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers.recipes import copy_recipe

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "egs" / "demask" / "demask"
MASK_TYPES = ["cotton_denim_2l", "cotton_jersey_2l", "cotton_plain_2l", "cotton_spandex_2l",
              "cotton_spandex_3l", "kn95", "n95", "polyester_bedsheet_2l", "surgical"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(shutil.which(p) is None for p in ("sox", "espeak-ng", "flite", "festival")),
        reason="needs sox, espeak-ng, flite and festival (tools/install.sh)"),
]


def test_every_stage_and_separate(tmp_path):
    d = copy_recipe(RECIPE, tmp_path / "demask" / "demask")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        ["./run.sh", "--stage", "1", "--conf", "conf/tiny.yaml", "--train-utts", "12",
         "--dev-utts", "9", "--test-utts", "9", "--nj", "2", "--baselines", "spectral_gating"],
        cwd=d, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    again = subprocess.run(
        ["./run.sh", "--stage", "1", "--stop-stage", "1", "--conf", "conf/tiny.yaml",
         "--train-utts", "12", "--dev-utts", "9", "--test-utts", "9", "--nj", "2"],
        cwd=d, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "data already prepared" in again.stdout  # skipped
    data = d / "data"
    u2m = dict(ln.split() for ln in (data / "test" / "utt2mask_type").read_text().splitlines())
    assert sorted(u2m.values()) == MASK_TYPES  # one test file per mask type
    assert all(10 <= float(v) <= 40 for _, v in
               (ln.split() for ln in (data / "test" / "utt2snr").read_text().splitlines()))
    exp = d / "exp" / "demask_tiny"
    summary = json.loads((exp / "separate" / "test" / "scores" / "summary.json").read_text())
    assert sorted(summary["by_mask_type"]) == MASK_TYPES
    assert "Per mask type" in (exp / "separate" / "test" / "scores" / "RESULTS.md").read_text()
    compare = (exp / "compare_test.md").read_text()
    assert "si_sdr surgical" in compare and "| input |" in compare
    assert "spectral_gating" in compare and "oracle_irm" in compare

    rng = np.random.default_rng(0)
    x = 0.1 * rng.standard_normal(int(1.7 * 22050))
    sf.write(tmp_path / "talk.wav", x, 22050, subtype="PCM_16")
    out = tmp_path / "separated"
    pack = exp / "demask_tiny.tar.gz"
    for extra, names in (([], ["talk_speech.wav"]),
                         (["--stems", "speech", "--force", "true"],
                          ["talk_residual.wav", "talk_speech.wav"])):
        proc = subprocess.run([sys.executable, "-m", "sepcore.bin.separate", "--model",
                               str(pack), "--out-dir", str(out), "--no-progress", *extra,
                               str(tmp_path / "talk.wav")],
                              env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert sorted(p.name for p in out.iterdir()) == names
        for name in names:
            info = sf.info(out / name)
            assert (info.samplerate, info.channels, info.frames, info.subtype) == \
                (22050, 1, len(x), "PCM_16")
