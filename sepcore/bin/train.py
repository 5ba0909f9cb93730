"""Train a separation model on a data dir and write the exp dir of DESIGN.md.

    python -m sepcore.bin.train --config conf/train.yaml --train-dir data/train \
        --valid-dir data/dev --exp-dir exp/convtasnet [--section.key value ...]

Writes ``config.yaml`` (resolved), ``train.log``, ``history.tsv`` (one row per
epoch), ``checkpoints/last.pt`` (everything needed to resume, also saved every
``training.checkpoint_minutes`` inside an epoch), ``checkpoints/best.pt``,
``model.pt`` (best weights + model config + sample rate + sources) and, last,
``.train.done``. With ``--resume true`` (default) an interrupted run continues
from ``last.pt`` at the batch where it stopped, with optimizer, scheduler, epoch
and RNG state; a finished exp dir is refused unless the caller removes it.
Multi-GPU: launch with ``torchrun --nproc_per_node K -m sepcore.bin.train ...``.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sepcore.bin.common import run_main, setup_logging
from sepcore.config import dump_config, load_config
from sepcore.data import DataDir, build_train_dataset, build_valid_dataset
from sepcore.data.loader import train_loader
from sepcore.errors import ConfigError
from sepcore.io.atomic import atomic_torch_save, atomic_write_text
from sepcore.io.audio import is_pipe, read_audio
from sepcore.losses import LOSSES, PITLoss, reorder_sources, si_sdr
from sepcore.lr_schedule import cosine_time_lr
from sepcore.modelfile import save_model_file
from sepcore.models import build_model, count_parameters
from sepcore.nn.ema import WeightAverage

log = logging.getLogger("sepcore.train")

DONE_MARKER = ".train.done"
HISTORY_COLUMNS = [
    "epoch", "steps", "train_loss", "valid_loss", "valid_si_sdri", "lr", "epoch_seconds",
    "elapsed_minutes",
]
MAX_NONFINITE_STEPS = 20


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python -m sepcore.bin.train",
        description="Train a separation model. Extra '--section.key value' arguments "
        "override the config (e.g. --optim.lr 5e-4 --model.causal true).",
    )
    parser.add_argument("--config", required=True, help="YAML training config")
    parser.add_argument("--train-dir", required=True, help="training data dir")
    parser.add_argument("--valid-dir", required=True, help="validation data dir")
    parser.add_argument("--exp-dir", required=True, help="experiment dir to write")
    parser.add_argument("--resume", default="true", choices=["true", "false"],
                        help="continue from checkpoints/last.pt if present (default true)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, or auto (default)")
    return parser.parse_known_args(argv)


class Distributed:
    """Rank/world from torchrun's environment; single process otherwise."""

    def __init__(self, device_arg: str):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        want_cuda = device_arg == "cuda" or (device_arg == "auto" and torch.cuda.is_available())
        if device_arg == "cuda" and not torch.cuda.is_available():
            raise ConfigError("--device cuda: no CUDA device is available to torch")
        self.device = torch.device(f"cuda:{local_rank}" if want_cuda else "cpu")
        if want_cuda:
            torch.cuda.set_device(self.device)
        if self.world > 1:
            torch.distributed.init_process_group("nccl" if want_cuda else "gloo")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.world == 1:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def mean(self, value: float) -> float:
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t)
        return float(t.item()) / self.world

    def max(self, value: float) -> float:
        """The largest value over the ranks (the same on every rank afterwards)."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return float(t.item())

    def end(self) -> None:
        """After a successful run: wait for rank 0 to finish writing, end the process group
        and, with several processes, leave at once with exit code 0.

        Why not return: gloo's worker threads outlive destroy_process_group() and free
        their last collective's tensors whenever they get to it; one that does so after
        Python has begun finalizing needs the GIL, gets its thread ended instead and takes
        the process down ("terminate called without an active exception", SIGABRT; seen
        about once in 5 runs on a loaded 2-core machine). Everything is written and flushed
        by then, so nothing is lost by skipping finalization. A failed run does not come
        here: it exits non-zero without waiting, and torchrun stops the other ranks."""
        if self.world == 1:
            return
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def check_sample_rate(datadir: DataDir, sample_rate: int | None) -> int:
    """The rate of the data dir's first mixture; a ConfigError if ``sample_rate`` differs."""
    import soundfile as sf

    utt = datadir.utts[0]
    spec = datadir.wav[utt]
    try:
        actual = read_audio(spec).sample_rate if is_pipe(spec) else sf.info(spec).samplerate
    except (sf.LibsndfileError, RuntimeError) as e:
        raise ConfigError(f"{datadir.path}/wav.scp: {utt}: cannot read {spec} ({e})") from None
    if sample_rate is not None and actual != sample_rate:
        raise ConfigError(
            f"{datadir.path}/wav.scp: {utt} is at {actual} Hz but data.sample_rate is "
            f"{sample_rate}; set --data.sample_rate {actual} or prepare {sample_rate} Hz data"
        )
    return actual


class Trainer:
    def __init__(self, cfg: dict, args: argparse.Namespace, dist: Distributed):
        self.cfg, self.args, self.dist = cfg, args, dist
        self.exp = Path(args.exp_dir)
        self.ckpt_dir = self.exp / "checkpoints"
        tcfg, dcfg = cfg["training"], cfg["data"]
        torch.manual_seed(tcfg["seed"])
        if tcfg["num_threads"]:
            torch.set_num_threads(int(tcfg["num_threads"]))

        self.train_dd = DataDir.load(args.train_dir)
        self.valid_dd = DataDir.load(args.valid_dir)
        if self.valid_dd.num_sources != self.train_dd.num_sources:
            raise ConfigError(
                f"{args.valid_dir} has {self.valid_dd.num_sources} sources but "
                f"{args.train_dir} has {self.train_dd.num_sources}"
            )
        given = None if dcfg["sample_rate"] is None else int(dcfg["sample_rate"])
        self.sample_rate = check_sample_rate(self.train_dd, given)
        check_sample_rate(self.valid_dd, self.sample_rate)
        dcfg["sample_rate"] = self.sample_rate  # config.yaml records the rate trained at
        model_cfg = cfg["model"]
        given = model_cfg.setdefault("num_sources", self.train_dd.num_sources)
        if given != self.train_dd.num_sources:
            raise ConfigError(
                f"model.num_sources is {given} but {args.train_dir} has "
                f"{self.train_dd.num_sources} sources (spk1..spk{self.train_dd.num_sources}.scp)"
            )

        self.train_set = build_train_dataset(self.train_dd, dcfg, sample_rate=self.sample_rate,
                                             seed=tcfg["seed"])
        self.valid_set = build_valid_dataset(self.valid_dd, dcfg, sample_rate=self.sample_rate)
        self.model = build_model(model_cfg).to(dist.device)
        self.ddp_model = dist.wrap(self.model)
        decay = tcfg["ema_decay"]
        self.ema = WeightAverage(self.model, decay) if decay else None
        ocfg = cfg["optim"]
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=ocfg["lr"], weight_decay=ocfg["weight_decay"]
        )
        scfg = cfg["scheduler"]
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode="min", factor=scfg["factor"], patience=scfg["patience"],
            min_lr=scfg["min_lr"],
        )
        self.pairwise = LOSSES[cfg["loss"]["name"]]
        self.pit = PITLoss(self.pairwise)
        self.state = {
            "epoch": 1, "batch_in_epoch": 0, "steps": 0, "best_loss": math.inf,
            "best_epoch": 0, "best_si_sdri": None, "bad_epochs": 0, "elapsed": 0.0,
            "history": [], "epoch_loss_sum": 0.0, "epoch_batches": 0, "epoch_seconds": 0.0,
        }

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, name: str) -> None:
        if not self.dist.is_main:
            return
        atomic_torch_save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "state": self.state,
                "torch_rng": torch.get_rng_state(),
                "model_cfg": self.cfg["model"],
                "ema": self.ema.state_dict() if self.ema else None,
            },
            self.ckpt_dir / name,
        )

    def maybe_resume(self) -> None:
        last = self.ckpt_dir / "last.pt"
        if self.args.resume != "true" or not last.is_file():
            return
        ckpt = torch.load(last, map_location=self.dist.device, weights_only=True)
        if ckpt["model_cfg"] != self.cfg["model"]:
            raise ConfigError(
                f"{last} was trained with model config {ckpt['model_cfg']}, which differs from "
                f"the current {self.cfg['model']}; use another --exp-dir or remove {self.exp}"
            )
        self.model.load_state_dict(ckpt["model"])
        if self.ema and ckpt.get("ema"):
            self.ema.load_state_dict(ckpt["ema"])
        elif self.ema:  # ema_decay was switched on for the rest of the run
            self.ema.reset(self.model)
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.state = ckpt["state"]
        torch.set_rng_state(ckpt["torch_rng"])
        log.info(
            "resumed from %s: epoch %d, batch %d, %d steps, %.1f min trained", last,
            self.state["epoch"], self.state["batch_in_epoch"], self.state["steps"],
            self.state["elapsed"] / 60,
        )

    # ------------------------------------------------------------------ loops
    def epoch_batches(self, epoch: int) -> list[list[int]]:
        bs = self.cfg["training"]["batch_size"]
        order = np.random.default_rng([self.cfg["training"]["seed"], epoch, 7919]).permutation(
            len(self.train_set)
        )
        batches = [order[i : i + bs].tolist() for i in range(0, len(order), bs)]
        if len(batches) > 1 and len(batches[-1]) < bs:
            batches.pop()
        world = self.dist.world
        if len(batches) >= world:  # every rank runs the same number of steps
            batches = batches[: len(batches) - len(batches) % world]
        return batches[self.dist.rank :: world]

    def out_of_time(self) -> bool:
        limit = self.cfg["training"]["max_minutes"]
        return limit is not None and self.state["elapsed"] >= 60 * float(limit)

    def set_lr(self) -> None:
        """Linear warm-up over ``optim.warmup_steps``; with ``scheduler.name: cosine_time``
        ``optim.lr`` for the first ``scheduler.hold_fraction`` of the time budget
        (``training.max_minutes``), then a cosine decay to ``scheduler.min_lr`` over the
        rest, so the run ends annealed whenever the budget ends.
        The plateau scheduler sets the LR itself at the end of each epoch."""
        ocfg, scfg = self.cfg["optim"], self.cfg["scheduler"]
        warmup = ocfg["warmup_steps"]
        if scfg["name"] == "cosine_time":
            budget = 60 * float(self.cfg["training"]["max_minutes"])
            lr = cosine_time_lr(self.state["elapsed"], budget, ocfg["lr"], scfg["min_lr"],
                                float(scfg["hold_fraction"]))
        elif warmup and self.state["steps"] <= warmup:
            lr = ocfg["lr"]
        else:
            return
        if warmup and self.state["steps"] < warmup:
            lr *= (self.state["steps"] + 1) / warmup
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def train_epoch(self, epoch: int) -> bool:
        """Run (the rest of) one epoch; return False if it stopped on the time budget."""
        from tqdm import tqdm

        tcfg, ocfg = self.cfg["training"], self.cfg["optim"]
        self.train_set.set_epoch(epoch)
        batches = self.epoch_batches(epoch)
        start = self.state["batch_in_epoch"]
        loader = train_loader(
            self.train_set, batches[start:], num_workers=self.cfg["data"]["num_workers"],
            seed=self.cfg["training"]["seed"], epoch=epoch,
            pin_memory=self.dist.device.type == "cuda",
        )
        accum = max(1, int(ocfg["accum_grad"]))
        minutes = tcfg["checkpoint_minutes"]
        ckpt_every = math.inf if minutes is None else 60 * float(minutes)
        last_ckpt = time.monotonic()
        nonfinite = 0
        self.ddp_model.train()
        bar = tqdm(
            total=len(batches), initial=start, desc=f"epoch {epoch}", file=sys.stderr,
            mininterval=1.0 if sys.stderr.isatty() else 30.0, disable=not self.dist.is_main,
            dynamic_ncols=True,
        )
        tick = time.monotonic()
        completed = True
        for i, (mixture, sources) in enumerate(loader, start):
            mixture = mixture.to(self.dist.device)
            sources = sources.to(self.dist.device)
            loss, _ = self.pit(self.ddp_model(mixture), sources)
            if not torch.isfinite(loss):
                nonfinite += 1
                self.optimizer.zero_grad(set_to_none=True)
                log.warning("epoch %d batch %d: non-finite loss, batch skipped", epoch, i)
                if nonfinite >= MAX_NONFINITE_STEPS:
                    raise ConfigError(
                        f"{nonfinite} non-finite losses in a row; lower optim.lr or check the data"
                    )
                continue
            nonfinite = 0
            (loss / accum).backward()
            if (i + 1) % accum == 0 or i + 1 == len(batches):
                if ocfg["clip_grad_norm"]:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), ocfg["clip_grad_norm"])
                self.set_lr()
                self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
                if self.ema:
                    self.ema.update(self.model)
                self.state["steps"] += 1
            now = time.monotonic()
            # the slowest rank's clock: every rank sees the same budget and LR
            self.state["elapsed"] = self.dist.max(self.state["elapsed"] + now - tick)
            self.state["epoch_seconds"] += now - tick
            tick = now
            self.state["epoch_loss_sum"] += float(loss.item())
            self.state["epoch_batches"] += 1
            self.state["batch_in_epoch"] = i + 1
            mean_loss = self.state["epoch_loss_sum"] / self.state["epoch_batches"]
            bar.update(1)
            bar.set_postfix(loss=f"{mean_loss:.3f}", refresh=False)
            if tcfg["log_interval"] and (i + 1) % tcfg["log_interval"] == 0:
                log.info("epoch %d batch %d/%d loss %.3f lr %.2e", epoch, i + 1, len(batches),
                         mean_loss, self.optimizer.param_groups[0]["lr"])
            if now - last_ckpt >= ckpt_every and (i + 1) % accum == 0:
                self.save_checkpoint("last.pt")
                last_ckpt = now
            if self.out_of_time():
                completed = i + 1 == len(batches)
                log.info("time budget of %s min reached", tcfg["max_minutes"])
                break
        bar.close()
        return completed

    @property
    def evaluated_model(self) -> torch.nn.Module:
        """The weights that are validated and saved: the moving average when enabled."""
        return self.ema.model if self.ema else self.model

    @torch.inference_mode()
    def validate(self) -> tuple[float, float]:
        self.ddp_model.eval()
        model = self.evaluated_model.eval()
        losses, improvements = [], []
        for index in range(self.dist.rank, len(self.valid_set), self.dist.world):
            _, mixture, sources = self.valid_set[index]
            mixture = mixture.unsqueeze(0).to(self.dist.device)
            sources = sources.unsqueeze(0).to(self.dist.device)
            estimates = model(mixture)
            loss, perm = self.pit(estimates, sources)
            ordered = reorder_sources(estimates, perm)
            gain = si_sdr(ordered, sources) - si_sdr(mixture.unsqueeze(1), sources)
            losses.append(float(loss))
            improvements.append(float(gain.mean()))
        return (
            self.dist.mean(float(np.mean(losses)) if losses else math.nan),
            self.dist.mean(float(np.mean(improvements)) if improvements else math.nan),
        )

    def write_history(self) -> None:
        lines = ["\t".join(HISTORY_COLUMNS)]
        for row in self.state["history"]:
            lines.append("\t".join(str(row[c]) for c in HISTORY_COLUMNS))
        atomic_write_text(self.exp / "history.tsv", "\n".join(lines) + "\n")

    def end_epoch(self, epoch: int) -> None:
        start = time.monotonic()
        valid_loss, valid_gain = self.validate()
        # validation counts against training.max_minutes: the budget is wall time
        self.state["elapsed"] = self.dist.max(self.state["elapsed"] + time.monotonic() - start)
        if self.cfg["scheduler"]["name"] == "plateau":
            self.scheduler.step(valid_loss)
        st = self.state
        # over every rank's batches, as with one process and the global batch
        train_loss = self.dist.mean(st["epoch_loss_sum"] / max(1, st["epoch_batches"]))
        improved = valid_loss < st["best_loss"]
        if improved:
            st.update(best_loss=valid_loss, best_epoch=epoch, best_si_sdri=valid_gain, bad_epochs=0)
        else:
            st["bad_epochs"] += 1
        st["history"].append({
            "epoch": epoch, "steps": st["steps"], "train_loss": f"{train_loss:.4f}",
            "valid_loss": f"{valid_loss:.4f}", "valid_si_sdri": f"{valid_gain:.3f}",
            "lr": f"{self.optimizer.param_groups[0]['lr']:.3e}",
            "epoch_seconds": f"{st['epoch_seconds']:.1f}",
            "elapsed_minutes": f"{st['elapsed'] / 60:.2f}",
        })
        log.info(
            "epoch %d: train loss %.3f, valid loss %.3f, valid SI-SDRi %.2f dB%s (%.1f min)",
            epoch, train_loss, valid_loss, valid_gain, " *best*" if improved else "",
            st["elapsed"] / 60,
        )
        st.update(epoch=epoch + 1, batch_in_epoch=0, epoch_loss_sum=0.0, epoch_batches=0,
                  epoch_seconds=0.0)
        if self.dist.is_main:
            if improved:
                atomic_torch_save(
                    {"model": self.evaluated_model.state_dict(), "epoch": epoch,
                     "valid_loss": valid_loss},
                    self.ckpt_dir / "best.pt",
                )
            self.write_history()
        self.save_checkpoint("last.pt")

    def finish(self) -> None:
        if not self.dist.is_main:
            return
        best_path = self.ckpt_dir / "best.pt"
        if best_path.is_file():
            best = torch.load(best_path, map_location="cpu", weights_only=True)
            self.model.load_state_dict(best["model"])
        else:
            log.warning("no epoch had a finite validation loss; model.pt holds the last weights")
            self.model.load_state_dict(self.evaluated_model.state_dict())  # the average, if on
        st = self.state
        info = {
            "num_params": count_parameters(self.model),
            "train_seconds": round(st["elapsed"], 1),
            "epochs": st["epoch"] - 1,
            "steps": st["steps"],
            "best_epoch": st["best_epoch"],
            "best_valid_loss": st["best_loss"],
            "best_valid_si_sdri": st["best_si_sdri"],
            "train_dir": str(self.args.train_dir),
            "valid_dir": str(self.args.valid_dir),
        }
        for key in ("corpus", "task", "license", "description"):
            if key in self.cfg:
                info[key] = self.cfg[key]
        save_model_file(self.exp / "model.pt", self.model.cpu(), self.cfg["model"],
                        self.sample_rate, self.train_dd.source_names, info)
        atomic_write_text(self.exp / DONE_MARKER, time.strftime("%Y-%m-%d %H:%M:%S\n"))
        log.info("done: best epoch %d (valid loss %.3f, SI-SDRi %.2f dB); wrote %s",
                 st["best_epoch"], st["best_loss"], st["best_si_sdri"] or math.nan,
                 self.exp / "model.pt")

    def run(self) -> None:
        self.maybe_resume()
        tcfg = self.cfg["training"]
        log.info("model %s: %.3f M parameters; %d training %s per epoch, batch %d",
                 self.cfg["model"]["name"], count_parameters(self.model) / 1e6,
                 len(self.train_set), "dynamic mixtures" if self.cfg["data"]["dynamic_mixing"]
                 else "segments", tcfg["batch_size"])
        patience = self.cfg["early_stop"]["patience"]
        while self.state["epoch"] <= tcfg["max_epochs"]:
            epoch = self.state["epoch"]
            if self.state["batch_in_epoch"] < len(self.epoch_batches(epoch)):
                self.train_epoch(epoch)
            self.end_epoch(epoch)
            if self.out_of_time():
                break
            if patience and self.state["bad_epochs"] >= patience:
                log.info("early stop: no improvement for %d epochs", patience)
                break
        self.finish()


def main(argv: list[str] | None = None) -> int:
    args, overrides = parse_args(argv)
    cfg = load_config(args.config, overrides)
    exp = Path(args.exp_dir)
    if (exp / DONE_MARKER).exists():
        raise ConfigError(f"{exp} is a finished experiment ({DONE_MARKER} exists); "
                          "remove it or choose another --exp-dir")
    dist = Distributed(args.device)
    if dist.is_main:
        (exp / "checkpoints").mkdir(parents=True, exist_ok=True)
        setup_logging(exp / "train.log")
    else:
        setup_logging(None, level=logging.WARNING)
    log.info("command: %s", " ".join([sys.executable, "-m", "sepcore.bin.train", *sys.argv[1:]]))
    trainer = Trainer(cfg, args, dist)
    if dist.is_main:
        atomic_write_text(exp / "config.yaml", dump_config(cfg))
    trainer.run()
    dist.end()
    return 0


if __name__ == "__main__":
    run_main(main, prog="sepcore.bin.train")
