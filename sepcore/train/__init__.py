"""Training (``python -m sepcore.bin.train``, ``steps/train.sh``): writes the exp dir.

``config.yaml`` (resolved), ``train.log``, ``history.tsv`` (one row per epoch),
``checkpoints/last.pt`` (everything needed to resume, also saved every
``training.checkpoint_minutes`` inside an epoch), ``checkpoints/best.pt``,
``model.pt`` (best weights + model config + sample rate + sources) and, last,
``.train.done``; ``.train.lock`` while a trainer runs (sepcore/train/lock.py: a second
trainer on the same exp dir is refused, naming the first). An interrupted run continues
from ``last.pt`` at the batch where it stopped, with optimizer, LR policy, epoch and RNG
state; a finished one is refused.

The parts: ``trainer`` (the loop), ``state`` (checkpoints and resume), ``distributed``
(torchrun/DDP), ``lr`` (the LR policy), ``ema`` (the weight average).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from sepcore.config import dump_config, load_config
from sepcore.errors import ConfigError
from sepcore.io.atomic import atomic_write_text
from sepcore.log import setup_logging
from sepcore.train.distributed import Distributed
from sepcore.train.lock import ExpLock
from sepcore.train.trainer import DONE_MARKER, Trainer

__all__ = ["DONE_MARKER", "Trainer", "train"]

log = logging.getLogger("sepcore.train")


def train(config: str, train_dir: str, valid_dir: str, exp_dir: str, overrides: list[str],
          resume: bool = True, device: str = "auto") -> int:
    """Train per ``config`` + ``overrides`` and write ``exp_dir`` (never a finished one).

    ``device``: cpu, cuda or auto. Launched by torchrun, every process runs this."""
    cfg = load_config(config, overrides)
    exp = Path(exp_dir)
    if (exp / DONE_MARKER).exists():
        # a guard, not the skip: steps/train.sh decides to skip or (--force) move aside
        raise ConfigError(f"{exp} is a finished experiment ({DONE_MARKER} exists); "
                          "remove it or choose another --exp-dir")
    dist = Distributed(device)
    # one trainer per exp dir: the main process holds its lock until it ends
    with ExpLock(exp) if dist.is_main else contextlib.nullcontext():
        if (exp / DONE_MARKER).exists():  # finished while this one waited to start
            raise ConfigError(f"{exp} is a finished experiment ({DONE_MARKER} exists)")
        if dist.is_main:
            (exp / "checkpoints").mkdir(parents=True, exist_ok=True)
            setup_logging(exp / "train.log")
        else:
            setup_logging(None, level=logging.WARNING)
        log.info("command: %s", " ".join([sys.executable, "-m", "sepcore.bin.train",
                                          *sys.argv[1:]]))
        trainer = Trainer(cfg, train_dir, valid_dir, exp_dir, resume, dist)
        if dist.is_main:
            atomic_write_text(exp / "config.yaml", dump_config(cfg))
        trainer.run()
    dist.end()
    return 0
