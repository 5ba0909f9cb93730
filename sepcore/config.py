"""Training configuration: built-in defaults ← YAML file ← ``--section.key value`` overrides.

Override values are parsed as YAML scalars (``--optim.lr 3e-4``, ``--data.dynamic_mixing
true``, ``--model.norm cLN``). Every key must already exist in the defaults or the file,
so a typo is an error naming it instead of a silently ignored setting. The ``model``
section is free-form (its keys are checked by the model itself).
"""

from __future__ import annotations

import copy
import os
import re

import yaml

from sepcore.errors import ConfigError

DEFAULTS: dict = {
    "model": {"name": "convtasnet"},
    "data": {
        "sample_rate": 8000,
        "segment": 4.0,
        "dynamic_mixing": False,
        "mix_snr_range": 5.0,
        "epoch_size": None,
        "num_workers": 0,
        "valid_max_seconds": None,
        "min_segment": None,
        # segment: speech segments (SegmentDataset); music: excerpts of named stems
        # (sepcore/data/music.py), where dynamic_mixing draws every stem from a random track
        "dataset": "segment",
        "samples_per_track": 64,  # music: excerpts per training track and epoch
        "gain_range": [0.25, 1.25],  # music: uniform gain per source
        "channel_swap": True,  # music: swap the channels of each source with p = 1/2
    },
    "training": {
        "batch_size": 4,
        "max_epochs": 200,
        "max_minutes": None,  # wall-time budget of training + validation (across resumes)
        "seed": 0,
        "num_threads": None,
        "log_interval": 20,
        "checkpoint_minutes": 5.0,
        "valid_batch_size": 1,
        # e.g. 0.999: validate, select and save an exponential moving average of the
        # weights (sepcore/nn/ema.py) instead of the raw weights; null: off
        "ema_decay": None,
    },
    "optim": {
        "name": "adam",
        "lr": 1e-3,
        "weight_decay": 0.0,
        "clip_grad_norm": 5.0,
        "accum_grad": 1,
        "warmup_steps": 0,
    },
    # plateau: halve after `patience` epochs without improvement; cosine_time: optim.lr for
    # the first hold_fraction of training.max_minutes, then a cosine decay to min_lr that
    # ends with the budget (ends annealed whenever time is up)
    "scheduler": {"name": "plateau", "factor": 0.5, "patience": 5, "min_lr": 1e-8,
                  "hold_fraction": 0.0},
    "early_stop": {"patience": 30},
    # pit false: estimate k against reference k (named stems); losses without PIT:
    # si_sdr, sdr (MDX SDR), mag_mse (STFT magnitudes, n_fft / hop_length)
    "loss": {"name": "si_sdr", "pit": True, "n_fft": 4096, "hop_length": 1024},
}

FREE_FORM_SECTIONS = {"model"}


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float (YAML 1.1 wants ``1.0e-3``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _yaml_load(text):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
TOP_LEVEL_INFO_KEYS = {"corpus", "task", "license", "description"}


def _merge(base: dict, update: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        path = f"{where}.{key}" if where else key
        if not where and key in TOP_LEVEL_INFO_KEYS:
            out[key] = value
            continue
        if key not in out and where.split(".")[0] not in FREE_FORM_SECTIONS:
            raise ConfigError(f"unknown config key {path!r}")
        if isinstance(out.get(key), dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config key {path!r} must be a mapping, got {value!r}")
            out[key] = _merge(out[key], value, path)
        else:
            out[key] = value
    return out


def parse_overrides(args: list[str]) -> dict:
    """``["--optim.lr", "1e-3", "--model.N=64"]`` → nested dict."""
    out: dict = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or "." not in arg:
            raise ConfigError(f"expected an override '--section.key value', got {arg!r}")
        if "=" in arg:
            key, raw = arg[2:].split("=", 1)
            i += 1
        else:
            if i + 1 >= len(args):
                raise ConfigError(f"override {arg} has no value")
            key, raw = arg[2:], args[i + 1]
            i += 2
        try:
            value = _yaml_load(raw)
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.replace("-", "_").split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def load_yaml(path: str | os.PathLike) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = _yaml_load(f) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid YAML ({e})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return data


def load_config(path: str | os.PathLike | None, overrides: list[str] | None = None) -> dict:
    cfg = copy.deepcopy(DEFAULTS)
    if path is not None:
        try:
            cfg = _merge(cfg, load_yaml(path), "")
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from None
    if overrides:
        cfg = _merge(cfg, parse_overrides(overrides), "")
    return cfg


def dump_config(cfg: dict) -> str:
    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=False)
