"""``model.pt``: weights + model config + sample rate + source names, loadable alone.

The file is a plain dict of tensors, strings and numbers, so it loads with
``torch.load(weights_only=True)``: opening a shared model never runs its code.
``format_version`` (sepcore.version.MODEL_FORMAT_VERSION) lets later versions of
sepcore read files written by earlier ones; files from a newer sepcore are refused
with a message saying so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
from torch import nn

from sepcore.errors import ConfigError, ModelFileError
from sepcore.io.atomic import atomic_torch_save
from sepcore.models import build_model
from sepcore.version import MODEL_FORMAT_VERSION, __version__

FORMAT_NAME = "sepcore-model"


@dataclass
class LoadedModel:
    model: nn.Module
    model_cfg: dict
    sample_rate: int
    sources: list[str]
    info: dict = field(default_factory=dict)
    format_version: int = MODEL_FORMAT_VERSION


def model_file_dict(
    model: nn.Module, model_cfg: dict, sample_rate: int, sources: list[str],
    info: dict | None = None,
) -> dict:
    return {
        "format": FORMAT_NAME,
        "format_version": MODEL_FORMAT_VERSION,
        "sepcore_version": __version__,
        "torch_version": str(torch.__version__),  # TorchVersion is refused by weights_only
        "model": dict(model_cfg),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "sample_rate": int(sample_rate),
        "sources": list(sources),
        "info": dict(info or {}),
    }


def save_model_file(
    path: str | os.PathLike, model: nn.Module, model_cfg: dict, sample_rate: int,
    sources: list[str], info: dict | None = None,
) -> None:
    atomic_torch_save(model_file_dict(model, model_cfg, sample_rate, sources, info), path)


# Format 2 names ConvTasNet's hyperparameters as every model does; format 1 used the
# paper's letters.
_CONVTASNET_V1_NAMES = {"N": "n_filters", "L": "kernel_size", "B": "bn_chan", "H": "hid_chan",
                        "P": "conv_kernel_size", "X": "n_blocks", "R": "n_repeats",
                        "Sc": "skip_chan"}


def _upgrade(obj: dict, path) -> dict:
    """Bring an older format version to the current layout; ``format_version`` keeps the
    version the file was written in."""
    version = obj.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid format_version {version!r}")
    if version > MODEL_FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written by a newer sepcore (model format {version}, this sepcore "
            f"{__version__} reads up to {MODEL_FORMAT_VERSION}); upgrade sepcore"
        )
    if version < 2 and isinstance(obj.get("model"), dict) and \
            obj["model"].get("name") == "convtasnet":
        obj = dict(obj, model={_CONVTASNET_V1_NAMES.get(k, k): v
                               for k, v in obj["model"].items()})
    return obj


def read_model_file(path: str | os.PathLike, map_location: str = "cpu") -> dict:
    """The model file's dict (weights included), upgraded to the current format, without
    building the model (what a model card needs)."""
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: model file not found")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # pickle errors, truncated zip, code objects refused by weights_only
        raise ModelFileError(
            f"{path}: cannot load as a sepcore model ({type(e).__name__}: {e})"
        ) from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path}: not a sepcore model file (no format '{FORMAT_NAME}')")
    return _upgrade(obj, path)


def read_exp_config(path: str | os.PathLike) -> dict | None:
    """The training config saved beside a model (``config.yaml``), or None if absent."""
    from sepcore.config import load_yaml
    from sepcore.errors import ConfigError

    if not os.path.isfile(path):
        return None
    try:
        return load_yaml(path)
    except ConfigError as e:
        raise ModelFileError(f"cannot parse config ({e})") from None


def load_model_file(path: str | os.PathLike, map_location: str = "cpu") -> LoadedModel:
    obj = read_model_file(path, map_location)
    try:
        model = build_model(obj["model"])
        model.load_state_dict(obj["state_dict"])
    except (ConfigError, RuntimeError, KeyError) as e:
        raise ModelFileError(f"{path}: model does not match its config ({e})") from None
    model.eval()
    return LoadedModel(
        model=model, model_cfg=dict(obj["model"]), sample_rate=int(obj["sample_rate"]),
        sources=list(obj["sources"]), info=dict(obj.get("info", {})),
        format_version=int(obj["format_version"]),
    )
