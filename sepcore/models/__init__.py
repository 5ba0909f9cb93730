"""Separation models, one per file, built by name from a config dict.

Every model maps a mixture ``[batch, time]`` to estimates ``[batch, sources, time]``
of the same length, and has ``num_sources``, ``stride`` (the shift in samples that its
output follows exactly: the encoder hop, or a coarser grid for a model that downsamples)
and ``receptive_field()``.
A multichannel model (music) has ``audio_channels = C > 1`` and maps ``[batch, C, time]``
to ``[batch, sources, C, time]``.
"""

from __future__ import annotations

import inspect

from torch import nn

from sepcore.errors import ConfigError
from sepcore.models.convtasnet import ConvTasNet
from sepcore.models.crn import CRN
from sepcore.models.demask import DeMask
from sepcore.models.demucs import Demucs
from sepcore.models.dprnn import DPRNN
from sepcore.models.sudormrf import SuDORMRF
from sepcore.models.umx import UMX

MODELS: dict[str, type[nn.Module]] = {
    "convtasnet": ConvTasNet,
    "crn": CRN,
    "demask": DeMask,
    "demucs": Demucs,
    "dprnn": DPRNN,
    "sudormrf": SuDORMRF,
    "umx": UMX,
}


def build_model(cfg: dict) -> nn.Module:
    """Build a model from ``{"name": <model>, **kwargs}``; unknown names/keys are errors."""
    cfg = dict(cfg)
    name = cfg.pop("name", None)
    if name not in MODELS:
        raise ConfigError(
            f"model.name: unknown model {name!r}; expected one of {', '.join(MODELS)}"
        )
    cls = MODELS[name]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(cfg) - accepted)
    if unknown:
        raise ConfigError(
            f"model: unknown option(s) {', '.join(unknown)} for {name}; "
            f"accepted: {', '.join(sorted(accepted))}"
        )
    return cls(**cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
