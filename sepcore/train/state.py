"""The training state that a checkpoint holds, and saving / resuming it.

``checkpoints/last.pt`` holds the model, optimizer and LR-policy state, the moving
average (if on), the torch RNG state and :func:`new_state`'s counters; it is written
atomically at the end of every epoch and every ``training.checkpoint_minutes``, so a
killed run resumes at the batch where it stopped and sees the batches it would have seen.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import torch

from sepcore.errors import ConfigError, ModelFileError
from sepcore.io.atomic import atomic_torch_save

log = logging.getLogger("sepcore.train")


CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "state", "torch_rng", "model_cfg")


def new_state() -> dict:
    """The counters of a run (a plain dict, so ``torch.load(weights_only=True)`` reads it).

    ``epoch`` (the current one, from 1), ``batch_in_epoch`` (batches done in it),
    ``steps`` (optimizer steps), ``best_loss`` / ``best_epoch`` / ``best_si_sdri`` (the
    best validation so far), ``bad_epochs`` (since it), ``elapsed`` (seconds of training
    and validation, across resumes), ``history`` (one row per epoch: history.tsv), and the
    running sums of the current epoch (``epoch_loss_sum``, ``epoch_batches``,
    ``epoch_seconds``).
    """
    return {
        "epoch": 1, "batch_in_epoch": 0, "steps": 0, "best_loss": math.inf,
        "best_epoch": 0, "best_si_sdri": None, "bad_epochs": 0, "elapsed": 0.0,
        "history": [], "epoch_loss_sum": 0.0, "epoch_batches": 0, "epoch_seconds": 0.0,
    }


def save_checkpoint(path: Path, model, optimizer, lr_policy, state: dict, model_cfg: dict,
                    ema) -> None:
    atomic_torch_save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": lr_policy.state_dict(),
            "state": state,
            "torch_rng": torch.get_rng_state(),
            "model_cfg": model_cfg,
            "ema": ema.state_dict() if ema else None,
        },
        path,
    )


def load_checkpoint(path: Path, device, model, optimizer, lr_policy, model_cfg: dict, ema,
                    exp: Path) -> dict:
    """Restore everything from ``path``; returns the state. ConfigError if the checkpoint
    was made with another model config; ModelFileError naming it if it is damaged (empty,
    truncated, not a checkpoint, or weights that do not fit the model)."""
    from sepcore.modelfile import load_torch_file

    fix = "remove it to start again, or train with --resume false (or into another --exp-dir)"
    ckpt = load_torch_file(path, f"a training checkpoint; {fix}", device)
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise ModelFileError(f"{path}: not a sepcore training checkpoint (no "
                             f"{', '.join(missing)}); {fix}")
    if ckpt["model_cfg"] != model_cfg:
        raise ConfigError(
            f"{path} was trained with model config {ckpt['model_cfg']}, which differs from "
            f"the current {model_cfg}; use another --exp-dir or remove {exp}"
        )
    try:
        model.load_state_dict(ckpt["model"])
        if ema and ckpt.get("ema"):
            ema.load_state_dict(ckpt["ema"])
        elif ema:  # ema_decay was switched on for the rest of the run
            ema.reset(model)
        optimizer.load_state_dict(ckpt["optimizer"])
        lr_policy.load_state_dict(ckpt["scheduler"])
        torch.set_rng_state(ckpt["torch_rng"])
    except (RuntimeError, ValueError, KeyError, TypeError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelFileError(f"{path}: damaged checkpoint ({msg[:200]}); {fix}") from None
    state = ckpt["state"]
    log.info(
        "resumed from %s: epoch %d, batch %d, %d steps, %.1f min trained", path,
        state["epoch"], state["batch_in_epoch"], state["steps"], state["elapsed"] / 60,
    )
    return state
