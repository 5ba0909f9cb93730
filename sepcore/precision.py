"""Numeric precision of training and separation: float32 (default) or bfloat16 autocast.

``bf16`` runs the matrix products (the models' linear layers, 1x1 convs, LSTMs' input
projections) in bfloat16 under ``torch.autocast`` and keeps the parameters, the norms'
statistics, the losses and the optimizer in float32. It pays only where the hardware
multiplies bfloat16 natively: on CPUs with AMX (``amx_bf16``) or AVX-512 BF16
(``avx512_bf16``) in /proc/cpuinfo, and on CUDA devices that report bf16 support.
Elsewhere torch emulates it, slower than float32, so :func:`resolve_precision` then
falls back to float32 with a warning: a recipe's config keeps working on any machine,
and the log says which precision ran.
"""

from __future__ import annotations

import contextlib
import functools
import logging

import torch

from sepcore.errors import ConfigError

PRECISIONS = ("fp32", "bf16")
NATIVE_BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")

log = logging.getLogger("sepcore.precision")


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of /proc/cpuinfo (empty where it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def native_bf16(device: str | torch.device = "cpu") -> bool:
    """Whether ``device`` multiplies bfloat16 matrices in hardware."""
    device = torch.device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return device.type == "cpu" and any(f in cpu_flags() for f in NATIVE_BF16_CPU_FLAGS)


def check_precision(precision: str, what: str = "precision") -> str:
    if precision not in PRECISIONS:
        raise ConfigError(f"{what}: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def resolve_precision(precision: str, device: str | torch.device = "cpu",
                      what: str = "precision") -> str:
    """The precision to run: ``precision``, or ``fp32`` (with a warning) when ``bf16`` is
    asked for on a device without native bfloat16."""
    check_precision(precision, what)
    if precision == "bf16" and not native_bf16(device):
        log.warning("%s bf16: this %s has no native bfloat16 (CPU flags %s); running float32",
                    what, torch.device(device).type, " or ".join(NATIVE_BF16_CPU_FLAGS))
        return "fp32"
    if precision == "bf16":
        log.info("%s bf16: bfloat16 autocast", what)
    return precision


def autocast(precision: str, device: str | torch.device = "cpu"):
    """A context that runs the enclosed forward pass at ``precision`` (already resolved)."""
    check_precision(precision)
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def autocast_forward(forward, precision: str, device: str | torch.device = "cpu"):
    """``forward`` run under :func:`autocast`, its output as float32 (for the loss)."""
    if check_precision(precision) == "fp32":
        return forward

    def run(*args):
        with autocast(precision, device):
            return forward(*args).float()
    return run
