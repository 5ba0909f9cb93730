"""The training loop: epochs of batches, validation, model selection, the exp dir."""

from __future__ import annotations

import logging
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sepcore.data import DataDir, build_train_dataset, build_valid_dataset
from sepcore.data.loader import train_loader
from sepcore.data.music import MusicTrackDataset
from sepcore.errors import ConfigError, DataError
from sepcore.io.atomic import atomic_torch_save, atomic_write_text, remove_stale_temporaries
from sepcore.losses import build_criterion, neg_sdr, reorder_sources, si_sdr
from sepcore.modelfile import save_model_file
from sepcore.models import build_model, count_parameters
from sepcore.precision import autocast_forward, resolve_precision
from sepcore.train.distributed import Distributed
from sepcore.train.ema import WeightAverage
from sepcore.train.lr import LRPolicy
from sepcore.train.state import load_checkpoint, new_state, save_checkpoint

log = logging.getLogger("sepcore.train")

DONE_MARKER = ".train.done"
HISTORY_COLUMNS = [
    "epoch", "steps", "train_loss", "valid_loss", "valid_si_sdri", "lr", "epoch_seconds",
    "elapsed_minutes",
]
MAX_NONFINITE_STEPS = 20


class Trainer:
    """Trains one model on a data dir and writes the exp dir (see sepcore/train/__init__.py).

    Args:
        cfg: the resolved, validated config (sepcore.config.load_config); ``cfg['model']``
            gets ``num_sources`` from the data, ``cfg['data']['sample_rate']`` the data's rate.
        train_dir: the training data dir.
        valid_dir: the validation data dir (model selection, early stopping, plateau LR).
        exp_dir: the exp dir to write.
        resume: continue from ``checkpoints/last.pt`` when there is one.
        dist: the process group (one process, or torchrun's).

    Every choice that makes a run reproducible is here: the seed set before the model is
    built, epoch batches drawn from ``(seed, epoch)``, the dataset's randomness from
    ``(seed, epoch, index)``, and a resume that restores all of it.
    """

    def __init__(self, cfg: dict, train_dir: str, valid_dir: str, exp_dir: str, resume: bool,
                 dist: Distributed):
        self.cfg, self.dist = cfg, dist
        self.train_dir, self.valid_dir, self.resume = train_dir, valid_dir, resume
        self.exp = Path(exp_dir)
        self.ckpt_dir = self.exp / "checkpoints"
        tcfg, dcfg = cfg["training"], cfg["data"]
        torch.manual_seed(tcfg["seed"])
        if tcfg["num_threads"]:
            torch.set_num_threads(int(tcfg["num_threads"]))

        self.train_dd = DataDir.load(train_dir)
        self.valid_dd = DataDir.load(valid_dir)
        if self.valid_dd.num_sources != self.train_dd.num_sources:
            raise ConfigError(
                f"{valid_dir} has {self.valid_dd.num_sources} sources but "
                f"{train_dir} has {self.train_dd.num_sources}"
            )
        given = None if dcfg["sample_rate"] is None else int(dcfg["sample_rate"])
        self.sample_rate = self.train_dd.check_sample_rate(given)
        self.valid_dd.check_sample_rate(self.sample_rate)
        dcfg["sample_rate"] = self.sample_rate  # config.yaml records the rate trained at
        model_cfg = cfg["model"]
        given = model_cfg.setdefault("num_sources", self.train_dd.num_sources)
        if given != self.train_dd.num_sources:
            raise ConfigError(
                f"model.num_sources is {given} but {train_dir} has "
                f"{self.train_dd.num_sources} sources (spk1..spk{self.train_dd.num_sources}.scp)"
            )

        self.train_set = build_train_dataset(self.train_dd, dcfg, sample_rate=self.sample_rate,
                                             seed=tcfg["seed"])
        self.valid_set = build_valid_dataset(self.valid_dd, dcfg, sample_rate=self.sample_rate)
        self.model = build_model(model_cfg).to(dist.device)
        self.music = dcfg["dataset"] == "music"
        channels = getattr(self.train_set, "channels", None)
        if channels is not None and channels != int(getattr(self.model, "audio_channels", 1)):
            raise ConfigError(f"data.audio_channels is {channels} but the model takes "
                              f"{getattr(self.model, 'audio_channels', 1)} channel(s) "
                              f"(model.audio_channels)")
        self.ddp_model = dist.wrap(self.model)
        self.precision = resolve_precision(tcfg["precision"], dist.device, "training.precision")
        self.train_forward = autocast_forward(self.ddp_model, self.precision, dist.device)
        decay = tcfg["ema_decay"]
        self.ema = WeightAverage(self.model, decay) if decay else None
        ocfg = cfg["optim"]
        # fused: one kernel over all parameters instead of ~10 ops per tensor (on the mini
        # recipe's 175 tensors a Python loop that was ~8% of a CPU step)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=ocfg["lr"], weight_decay=ocfg["weight_decay"],
            fused=True,  # the trainer's devices are cpu and cuda, both with the kernel
        )
        scfg = cfg["scheduler"]
        self.lr_policy = LRPolicy(self.optimizer, ocfg, scfg, tcfg["max_minutes"],
                                  tcfg["max_steps"])
        # loss.pit false: estimate k is trained for reference k, as inference then assumes
        self.pit = build_criterion(cfg["loss"])
        # music: the validation gain is the MDX SDR's (mixture as the reference estimate)
        self.gain_column = "valid_sdri" if self.music else "valid_si_sdri"
        self.history_columns = [self.gain_column if c == "valid_si_sdri" else c
                                for c in HISTORY_COLUMNS]
        self.state = new_state()
        self.monitor = None  # training.examples / training.tensorboard (sepcore/report)

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, name: str) -> None:
        if self.dist.is_main:
            save_checkpoint(self.ckpt_dir / name, self.model, self.optimizer, self.lr_policy,
                            self.state, self.cfg["model"], self.ema)

    def maybe_resume(self) -> None:
        for folder in (self.exp, self.ckpt_dir):  # a checkpoint write cut by kill -9
            remove_stale_temporaries(folder)
        last = self.ckpt_dir / "last.pt"
        if self.resume and last.is_file():
            self.state = load_checkpoint(last, self.dist.device, self.model, self.optimizer,
                                         self.lr_policy, self.cfg["model"], self.ema, self.exp)

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
        """True once training.max_steps steps are taken or training.max_minutes are up."""
        limit, steps = self.cfg["training"]["max_minutes"], self.cfg["training"]["max_steps"]
        return ((steps is not None and self.state["steps"] >= steps)
                or (limit is not None and self.state["elapsed"] >= 60 * float(limit)))

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
            mixture = torch.as_tensor(mixture).to(self.dist.device)
            sources = torch.as_tensor(sources).to(self.dist.device)
            loss, _ = self.pit(self.train_forward(mixture), sources)
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
                self.lr_policy.before_step(self.state["steps"], self.state["elapsed"])
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
                log.info("budget reached: %d steps, %.1f min (training.max_steps %s, "
                         "training.max_minutes %s)", self.state["steps"],
                         self.state["elapsed"] / 60, tcfg["max_steps"], tcfg["max_minutes"])
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
            mixture = torch.as_tensor(mixture).unsqueeze(0).to(self.dist.device)
            sources = torch.as_tensor(sources).unsqueeze(0).to(self.dist.device)
            estimates = model(mixture)
            loss, perm = self.pit(estimates, sources)
            ordered = reorder_sources(estimates, perm)
            as_estimate = mixture.unsqueeze(1).expand_as(sources)
            if self.music:  # SDR(estimate) - SDR(mixture), MDX's SDR
                gain = neg_sdr(as_estimate, sources) - neg_sdr(ordered, sources)
            else:
                gain = si_sdr(ordered, sources) - si_sdr(as_estimate, sources)
            losses.append(float(loss))
            improvements.append(float(gain.mean()))
        return (
            self.dist.mean(float(np.mean(losses)) if losses else math.nan),
            self.dist.mean(float(np.mean(improvements)) if improvements else math.nan),
        )

    def write_history(self) -> None:
        lines = ["\t".join(self.history_columns)]
        for row in self.state["history"]:
            lines.append("\t".join(str(row[c]) for c in self.history_columns))
        atomic_write_text(self.exp / "history.tsv", "\n".join(lines) + "\n")

    def end_epoch(self, epoch: int) -> None:
        start = time.monotonic()
        valid_loss, valid_gain = self.validate()
        if self.monitor:
            self.monitor.validation(self.state["steps"], self.evaluated_model, self.pit,
                                    self.dist.device, {
                "loss/train": self.state["epoch_loss_sum"] / max(1, self.state["epoch_batches"]),
                "loss/valid": valid_loss, "valid/si_sdri": valid_gain,
                "lr": self.optimizer.param_groups[0]["lr"]})
        # validation counts against training.max_minutes: the budget is wall time
        self.state["elapsed"] = self.dist.max(self.state["elapsed"] + time.monotonic() - start)
        self.lr_policy.end_epoch(valid_loss)
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
            "valid_loss": f"{valid_loss:.4f}", self.gain_column: f"{valid_gain:.3f}",
            "lr": f"{self.optimizer.param_groups[0]['lr']:.3e}",
            "epoch_seconds": f"{st['epoch_seconds']:.1f}",
            "elapsed_minutes": f"{st['elapsed'] / 60:.2f}",
        })
        log.info(
            "epoch %d: train loss %.3f, valid loss %.3f, valid %s %.2f dB%s (%.1f min)",
            epoch, train_loss, valid_loss, "SDRi" if self.music else "SI-SDRi", valid_gain,
            " *best*" if improved else "", st["elapsed"] / 60,
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
        if self.state["steps"] == 0:  # an untrained model must never look finished
            tcfg = self.cfg["training"]
            raise DataError(
                f"{self.exp}: training ran 0 steps ({len(self.train_set)} examples per epoch "
                f"of {self.train_dir}, training.batch_size {tcfg['batch_size']}, "
                f"training.max_minutes {tcfg['max_minutes']}); model.pt and {DONE_MARKER} "
                "not written")
        if not self.dist.is_main:
            return
        best_path = self.ckpt_dir / "best.pt"
        if best_path.is_file():
            from sepcore.modelfile import load_torch_file

            best = load_torch_file(best_path, "the best weights (checkpoints/best.pt)")
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
            f"best_{self.gain_column}": st["best_si_sdri"],
            "train_dir": str(self.train_dir),
            "valid_dir": str(self.valid_dir),
        }
        for key in ("corpus", "task", "license", "description", "residual_name"):
            if key in self.cfg:
                info[key] = self.cfg[key]
        save_model_file(self.exp / "model.pt", self.model.cpu(), self.cfg["model"],
                        self.sample_rate, self.train_dd.source_names, info)
        atomic_write_text(self.exp / DONE_MARKER, time.strftime("%Y-%m-%d %H:%M:%S\n"))
        log.info("done: best epoch %d (valid loss %.3f, %s %.2f dB); wrote %s",
                 st["best_epoch"], st["best_loss"], "SDRi" if self.music else "SI-SDRi",
                 st["best_si_sdri"] or math.nan, self.exp / "model.pt")

    def fit_input_statistics(self) -> None:
        """Models with learnable input normalisation (umx) start from the training set's
        statistics, as Open-Unmix does: every training track's mixture, unaugmented."""
        fit = getattr(self.model, "fit_input_statistics", None)
        fresh = self.state["steps"] == 0 and self.state["batch_in_epoch"] == 0
        if not (callable(fit) and self.music and fresh and self.state["epoch"] == 1):
            return
        start = time.monotonic()
        tracks = MusicTrackDataset(self.train_dd, self.sample_rate,
                                   channels=self.train_set.channels)
        mean, std = fit(torch.from_numpy(x) for x in tracks.mixtures())
        log.info("input statistics from %d training tracks (%.1f s): mean magnitude %.3g, "
                 "std %.3g (averaged over bins)", len(tracks), time.monotonic() - start,
                 float(mean.mean()), float(std.mean()))

    def run(self) -> None:
        self.maybe_resume()
        self.fit_input_statistics()
        tcfg = self.cfg["training"]
        if self.dist.is_main and (tcfg["examples"] or tcfg["tensorboard"]):
            from sepcore.report.monitor import TrainingMonitor

            self.monitor = TrainingMonitor(self.exp, self.valid_set, self.train_dd.source_names,
                                           tcfg["examples"], tcfg["tensorboard"],
                                           self.state["steps"])
        log.info("model %s: %.3f M parameters; %d training %s per epoch, batch %d",
                 self.cfg["model"]["name"], count_parameters(self.model) / 1e6,
                 len(self.train_set), "dynamic mixtures" if self.cfg["data"].get("dynamic_mixing")
                 else "segments", tcfg["batch_size"])
        patience = self.cfg["early_stop"]["patience"]
        while self.state["epoch"] <= tcfg["max_epochs"]:
            epoch = self.state["epoch"]
            # a resume after the last step (killed before its validation) only validates
            if (self.state["batch_in_epoch"] < len(self.epoch_batches(epoch))
                    and not self.out_of_time()):
                self.train_epoch(epoch)
            self.end_epoch(epoch)
            if self.out_of_time():
                break
            if patience and self.state["bad_epochs"] >= patience:
                log.info("early stop: no improvement for %d epochs", patience)
                break
        if self.monitor:
            self.monitor.close()
        self.finish()
