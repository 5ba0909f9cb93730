"""Training on several "nodes": two torchrun launchers meeting in a c10d rendezvous on
loopback (what utils/slurm_torchrun.sh starts on each node of a Slurm job) train the
same model as one process with the same global batch."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.configs import TINY_CONVTASNET, as_yaml_flow
from helpers.datadirs import make_datadir
from test_train import env

from sepcore.modelfile import load_model_file

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = str(Path(sys.executable).parent / "torchrun")
CONFIG = f"model: {as_yaml_flow(TINY_CONVTASNET)}\n" + """\
data: {segment: 0.25, dynamic_mixing: true, epoch_size: 16}
training: {max_epochs: 2, num_threads: 1, log_interval: 0, seed: 3}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_args(tmp_path: Path, exp: Path, batch: int) -> list[str]:
    return ["-m", "sepcore.bin.train", "--config", str(tmp_path / "c.yaml"),
            "--train-dir", str(tmp_path / "data/train"), "--valid-dir", str(tmp_path / "data/dev"),
            "--exp-dir", str(exp), "--device", "cpu", "--training.batch_size", str(batch)]


@pytest.mark.slow
def test_two_nodes_train_the_model_of_one_process_with_the_global_batch(tmp_path):
    make_datadir(tmp_path, "train", num_utts=6, seed=1)
    make_datadir(tmp_path, "dev", num_utts=2, seed=2)  # even: both ranks validate one
    (tmp_path / "c.yaml").write_text(CONFIG)
    one = subprocess.run([sys.executable, *train_args(tmp_path, tmp_path / "one", 4)],
                         env=env(), capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    port = free_port()
    launchers = [
        subprocess.Popen([TORCHRUN, "--nnodes", "2", "--nproc_per_node", "1",
                          "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}",
                          "--rdzv_id", "sepcore-test", *train_args(tmp_path, tmp_path / "two", 2)],
                         env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in launchers]
    assert [p.returncode for p in launchers] == [0, 0], "\n".join(outputs)
    a, b = load_model_file(tmp_path / "one/model.pt"), load_model_file(tmp_path / "two/model.pt")
    # 16 examples, global batch 4: 4 optimizer steps per epoch in both runs
    assert a.info["steps"] == b.info["steps"] == 8
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        torch.testing.assert_close(sa[key], sb[key], rtol=1e-4, atol=1e-5, msg=key)
    h1 = (tmp_path / "one/history.tsv").read_text().splitlines()
    h2 = (tmp_path / "two/history.tsv").read_text().splitlines()
    # same losses, to the printed digits (train loss: mean over the ranks' batches)
    assert [r.split("\t")[:5] for r in h1] == [r.split("\t")[:5] for r in h2]


def test_several_nodes_need_slurm_and_a_job(tmp_path):
    make_datadir(tmp_path, "train", num_utts=2, seed=1)
    (tmp_path / "c.yaml").write_text(CONFIG)
    data = str(tmp_path / "data/train")
    r = subprocess.run([str(ROOT / "steps/train.sh"), "--num-nodes", "2", str(tmp_path / "c.yaml"),
                        data, data, str(tmp_path / "exp")], env=env(), capture_output=True,
                       text=True)
    assert r.returncode == 1 and "--num-nodes 2 needs --cmd slurm.pl (got 'run.pl')" in r.stderr
    r = subprocess.run([str(ROOT / "utils/slurm_torchrun.sh"), "-m", "sepcore.bin.train"],
                       env={k: v for k, v in env().items() if not k.startswith("SLURM_")},
                       capture_output=True, text=True)
    assert r.returncode == 1 and "not inside a Slurm job" in r.stderr
