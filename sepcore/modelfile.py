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


def load_torch_file(path: str | os.PathLike, what: str, map_location="cpu"):
    """``torch.load(path, weights_only=True)``; a damaged file is a ModelFileError naming
    it and what is wrong (empty, not a torch file, truncated, holding code), never torch's
    traceback. ``what`` says what the file should be ("a sepcore model file")."""
    import pickle
    import zipfile

    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: file not found (expected {what})") from None
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read ({e.strerror or e})") from None
    if not head:
        raise ModelFileError(f"{path}: file is empty (0 bytes), expected {what}")
    if head == b"PK\x03\x04" and not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: truncated or damaged (its zip archive has no end: a "
                             f"copy or a save cut short?), expected {what}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        if head[:1] != b"\x80" and head != b"PK\x03\x04":
            raise ModelFileError(f"{path}: not a file written by torch.save, expected "
                                 f"{what}") from None
        if "Weights only load failed" in str(e):
            raise ModelFileError(f"{path}: holds Python objects other than tensors and plain "
                                 f"data (refused: loading it could run code), expected "
                                 f"{what}") from None
        raise ModelFileError(f"{path}: damaged ({e}), expected {what}") from None
    except Exception as e:  # truncated zip members, bad storages, legacy formats
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelFileError(f"{path}: damaged, cannot be loaded ({msg[:200]}), expected "
                             f"{what}") from None


def read_model_file(path: str | os.PathLike, map_location: str = "cpu") -> dict:
    """The model file's dict (weights included), upgraded to the current format, without
    building the model (what a model card needs)."""
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: model file not found")
    obj = load_torch_file(path, "a sepcore model file (model.pt)", map_location)
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
        sample_rate, sources = int(obj["sample_rate"]), list(obj["sources"])
    except (ConfigError, RuntimeError, KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{path}: model does not match its config ({e})") from None
    model.eval()
    return LoadedModel(
        model=model, model_cfg=dict(obj["model"]), sample_rate=sample_rate,
        sources=sources, info=dict(obj.get("info", {})),
        format_version=int(obj["format_version"]),
    )
