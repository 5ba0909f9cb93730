"""sepcore.bin.train on tiny data dirs: the exp dir contract, resume after kill -9, errors."""

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from helpers.configs import TINY_CONVTASNET, as_yaml_flow
from helpers.datadirs import make_datadir

from sepcore.modelfile import load_model_file

pytestmark = pytest.mark.slow  # trains in subprocesses

ROOT = Path(__file__).resolve().parents[1]
TINY = f"model: {as_yaml_flow(TINY_CONVTASNET)}\n" + """\
data: {segment: 0.25, dynamic_mixing: true, epoch_size: 32}
training: {batch_size: 2, max_epochs: 2, num_threads: 1, log_interval: 0}
"""


def train_cmd(tmp_path, exp, *extra):
    return [sys.executable, "-m", "sepcore.bin.train", "--config", str(tmp_path / "tiny.yaml"),
            "--train-dir", str(tmp_path / "data/train"), "--valid-dir", str(tmp_path / "data/dev"),
            "--exp-dir", str(exp), *extra]


def env():
    """What path.sh sets up: utils/ and the interpreter's bin/ on PATH, the repo on PYTHONPATH."""
    path = os.pathsep.join([str(ROOT / "utils"), str(Path(sys.executable).parent),
                            os.environ["PATH"]])
    return {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


@pytest.fixture
def setup(tmp_path):
    make_datadir(tmp_path, "train", num_utts=6, seed=1)
    make_datadir(tmp_path, "dev", num_utts=2, seed=2)
    (tmp_path / "tiny.yaml").write_text(TINY)
    return tmp_path


def test_exp_dir_contract(setup):
    exp = setup / "exp/a"
    subprocess.run(train_cmd(setup, exp), check=True, env=env(), capture_output=True)
    for name in ["config.yaml", "train.log", "history.tsv", "checkpoints/last.pt",
                 "checkpoints/best.pt", "model.pt", ".train.done"]:
        assert (exp / name).is_file(), name
    rows = (exp / "history.tsv").read_text().splitlines()
    assert rows[0].split("\t")[:4] == ["epoch", "steps", "train_loss", "valid_loss"]
    assert [r.split("\t")[:2] for r in rows[1:]] == [["1", "16"], ["2", "32"]]
    loaded = load_model_file(exp / "model.pt")
    assert loaded.sample_rate == 8000 and loaded.sources == ["spk1", "spk2"]
    assert loaded.info["steps"] == 32 and loaded.info["num_params"] > 0
    assert "num_sources: 2" in (exp / "config.yaml").read_text()
    # a finished exp is never silently overwritten
    again = subprocess.run(train_cmd(setup, exp), env=env(), capture_output=True, text=True)
    assert again.returncode == 1 and "is a finished experiment" in again.stderr
    assert "Traceback" not in again.stderr


def test_kill_9_mid_epoch_then_resume_continues_where_it_stopped(setup):
    (setup / "tiny.yaml").write_text(TINY.replace("epoch_size: 32", "epoch_size: 400")
                                     .replace("max_epochs: 2", "max_epochs: 1"))
    exp = setup / "exp/killed"
    proc = subprocess.Popen(train_cmd(setup, exp, "--training.checkpoint_minutes", "0"),
                            env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = exp / "checkpoints/last.pt"
    deadline = time.time() + 120
    batch = 0
    while time.time() < deadline and batch < 20:
        time.sleep(0.2)
        if last.is_file():
            try:
                batch = torch.load(last, weights_only=True)["state"]["batch_in_epoch"]
            except Exception:  # renamed under us: try again
                pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 20 <= batch < 200, "the run should have been killed mid-epoch"
    assert not (exp / ".train.done").exists()
    # as a kill during a checkpoint write leaves it (sepcore/io/atomic.py names writers)
    from sepcore.io.atomic import _HOST
    cut = exp / f"checkpoints/.last.pt.tmp-{_HOST}-{proc.pid}-k1ll3d_9.pt"
    cut.write_bytes(b"half a checkpoint")
    resumed = subprocess.run(train_cmd(setup, exp), env=env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert not cut.exists()
    log = (exp / "train.log").read_text()
    assert "resumed from" in log and "epoch 1, batch " in log
    # the epoch was finished, not restarted: exactly one epoch's worth of optimizer steps
    assert load_model_file(exp / "model.pt").info["steps"] == 200
    assert (exp / "history.tsv").read_text().count("\n") == 2


def test_bad_inputs_are_clear_errors(setup):
    bad = subprocess.run(train_cmd(setup, setup / "exp/b", "--model.num_sources", "3"),
                         env=env(), capture_output=True, text=True)
    assert bad.returncode == 1
    assert "model.num_sources is 3 but" in bad.stderr and "Traceback" not in bad.stderr
    rate = subprocess.run(train_cmd(setup, setup / "exp/c", "--data.sample_rate", "16000"),
                          env=env(), capture_output=True, text=True)
    assert rate.returncode == 1 and "is at 8000 Hz but data.sample_rate is 16000" in rate.stderr
    typo = subprocess.run(train_cmd(setup, setup / "exp/d", "--optim.learning_rate", "1"),
                          env=env(), capture_output=True, text=True)
    assert typo.returncode == 1 and "unknown config key 'optim.learning_rate'" in typo.stderr


def test_steps_train_sh_ddp_on_cpu_skip_and_force(setup):
    exp = setup / "exp/ddp"
    script = str(ROOT / "steps/train.sh")
    args = [str(setup / "tiny.yaml"), str(setup / "data/train"), str(setup / "data/dev"), str(exp)]
    run = subprocess.run([script, "--nproc", "2", *args, "--", "--training.max_epochs", "1"],
                         env=env(), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr + (exp / "log/train.log").read_text()
    # 32 examples per epoch, batch 2 per process, 2 processes: 8 synchronised steps
    assert (exp / "history.tsv").read_text().splitlines()[1].split("\t")[:2] == ["1", "8"]
    again = subprocess.run([script, *args], env=env(), capture_output=True, text=True)
    assert again.returncode == 0 and "already trained" in again.stdout
    forced = subprocess.run([script, "--force", "true", *args, "--", "--training.max_epochs", "1"],
                            env=env(), capture_output=True, text=True)
    assert forced.returncode == 0, forced.stderr
    assert len(list(exp.parent.glob("ddp.old.*"))) == 1 and (exp / ".train.done").is_file()


def test_cosine_time_schedule_ends_annealed_at_the_budget(setup):
    exp = setup / "exp/cos"
    run = subprocess.run(train_cmd(setup, exp, "--scheduler.name", "cosine_time",
                                   "--training.max_minutes", "0.05", "--training.max_epochs", "80",
                                   "--optim.warmup_steps", "2"),
                         env=env(), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rows = [r.split("\t") for r in (exp / "history.tsv").read_text().splitlines()[1:]]
    # the LR of the last step, taken a step before the budget ran out: well down the cosine
    # (the exact values are tests/test_train_lr.py's; a loaded machine makes steps slower)
    assert float(rows[-1][5]) < 0.05 * 1e-3
    assert float(rows[-1][7]) >= 0.05  # it stopped on the budget, not on max_epochs
    assert len(rows) < 80
    no_budget = subprocess.run(train_cmd(setup, setup / "exp/nb", "--scheduler.name",
                                         "cosine_time"), env=env(), capture_output=True, text=True)
    assert no_budget.returncode == 1 and "needs a training.max_minutes" in no_budget.stderr


def test_cosine_time_holds_the_lr_for_hold_fraction_of_the_budget(setup):
    exp = setup / "exp/hold"
    run = subprocess.run(train_cmd(setup, exp, "--scheduler.name", "cosine_time",
                                   "--scheduler.hold_fraction", "0.5",
                                   "--training.max_minutes", "0.1", "--training.max_epochs", "200"),
                         env=env(), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rows = [r.split("\t") for r in (exp / "history.tsv").read_text().splitlines()[1:]]
    held = [float(r[5]) for r in rows if float(r[7]) < 0.1 * 0.45]
    assert held and all(lr == 1e-3 for lr in held)  # optim.lr until half the budget
    assert float(rows[-1][5]) < 0.05 * 1e-3
    bad = subprocess.run(train_cmd(setup, setup / "exp/bh", "--scheduler.name", "cosine_time",
                                   "--training.max_minutes", "1", "--scheduler.hold_fraction", "1"),
                         env=env(), capture_output=True, text=True)
    assert bad.returncode == 1 and "scheduler.hold_fraction must be in [0, 1)" in bad.stderr
    word = subprocess.run(train_cmd(setup, setup / "exp/bw", "--scheduler.name", "cosine_time",
                                    "--training.max_minutes", "1",
                                    "--scheduler.hold_fraction", "half"),
                          env=env(), capture_output=True, text=True)
    assert word.returncode == 1 and "got 'half'" in word.stderr and "Traceback" not in word.stderr


def test_max_steps_stops_mid_epoch_and_two_runs_are_bit_identical(setup):
    """training.max_steps: the same steps, weights and scores on every run (dynamic
    mixing, loader order and init all seeded), the cosine schedule annealed at the end."""
    runs = []
    for name in ("s1", "s2"):
        exp = setup / "exp" / name
        run = subprocess.run(train_cmd(setup, exp, "--training.max_steps", "21",
                                       "--training.max_epochs", "100", "--scheduler.name",
                                       "cosine", "--scheduler.min_lr", "1e-5",
                                       "--training.ema_decay", "0.9"),
                             env=env(), capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        runs.append(exp)
    rows = [r.split("\t") for r in (runs[0] / "history.tsv").read_text().splitlines()[1:]]
    # 16 steps per epoch: one full epoch, then 5 steps and the validation of the partial one
    assert [r[:2] for r in rows] == [["1", "16"], ["2", "21"]]
    assert float(rows[-1][5]) == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5 * (
        1 + math.cos(math.pi * 20 / 21)), rel=1e-3)  # history: 4 digits
    a, b = (load_model_file(exp / "model.pt") for exp in runs)
    assert a.info["steps"] == b.info["steps"] == 21
    for key, value in a.model.state_dict().items():
        assert torch.equal(value, b.model.state_dict()[key]), key
    strip = [[c for i, c in enumerate(r) if i not in (6, 7)] for r in rows]  # wall times
    assert strip == [[c for i, c in enumerate(r.split("\t")) if i not in (6, 7)]
                     for r in (runs[1] / "history.tsv").read_text().splitlines()[1:]]


def test_weight_average_is_validated_saved_and_resumed(setup):
    exp = setup / "exp/ema"
    one = subprocess.run(train_cmd(setup, exp, "--training.ema_decay", "0.9",
                                   "--training.max_epochs", "1"),
                         env=env(), capture_output=True, text=True)
    assert one.returncode == 0, one.stderr
    last = torch.load(exp / "checkpoints/last.pt", weights_only=True)
    assert last["ema"]["updates"] == 16
    averaged, raw = last["ema"]["model"], last["model"]
    assert any(not torch.equal(averaged[k], raw[k]) for k in raw)
    saved = load_model_file(exp / "model.pt").model.state_dict()
    assert all(torch.equal(saved[k], averaged[k]) for k in averaged)  # the average is the model
    # a second epoch resumes the average from last.pt instead of restarting it
    (exp / ".train.done").unlink()
    two = subprocess.run(train_cmd(setup, exp, "--training.ema_decay", "0.9",
                                   "--training.max_epochs", "2"),
                         env=env(), capture_output=True, text=True)
    assert two.returncode == 0, two.stderr
    assert torch.load(exp / "checkpoints/last.pt", weights_only=True)["ema"]["updates"] == 32
    bad = subprocess.run(train_cmd(setup, setup / "exp/bad", "--training.ema_decay", "1.5"),
                         env=env(), capture_output=True, text=True)
    assert bad.returncode == 1 and "training.ema_decay must be" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_steps_train_sh_preloads_tcmalloc_when_installed(setup):
    found = subprocess.run([str(ROOT / "utils/find_tcmalloc.sh")], capture_output=True, text=True)
    if found.returncode == 0:
        assert Path(found.stdout.strip()).is_file() and "tcmalloc" in found.stdout
    else:
        assert found.stdout == ""
    script = str(ROOT / "steps/train.sh")
    data = [str(setup / "tiny.yaml"), str(setup / "data/train"), str(setup / "data/dev")]
    for flag, exp in (("true", setup / "exp/tc"), ("false", setup / "exp/notc")):
        run = subprocess.run([script, "--tcmalloc", flag, *data, str(exp), "--",
                              "--training.max_epochs", "1"],
                             env=env(), capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        command = (exp / "log/train.log").read_text().splitlines()[0]  # run.pl's header
        preloaded = f"LD_PRELOAD={found.stdout.strip()}" in command
        assert preloaded == (flag == "true" and found.returncode == 0), command
