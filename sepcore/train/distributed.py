"""Several training processes (torchrun, DDP) or one, behind one small interface."""

from __future__ import annotations

import logging
import os
import sys

import torch

from sepcore.errors import ConfigError


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
