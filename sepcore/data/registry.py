"""The training datasets, by name: the config's ``data.dataset`` picks one.

Each entry names its factories as ``"module:function"`` strings, so reading the
registry (config validation, ``--help``) imports neither torch nor the dataset.
A dataset also declares the ``data.*`` keys it reads, with their defaults; the
config accepts exactly the common keys plus those of the chosen dataset.

    train(datadir, data_cfg, *, sample_rate, seed) -> a torch Dataset of
        (mixture, sources) with set_epoch(epoch); indexable by batch sampler.
    valid(datadir, data_cfg, *, sample_rate) -> a Dataset of (utt, mixture, sources).

A new dataset (e.g. ``music`` in sepcore/data/music.py) adds one
``register_dataset(...)`` line below; the trainer does not change.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from sepcore.errors import ConfigError


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset: its factories and the ``data.*`` keys (with defaults) it reads."""

    name: str
    train: str
    valid: str
    defaults: dict = field(default_factory=dict)
    doc: str = ""


DATASETS: dict[str, DatasetSpec] = {}
DEFAULT_DATASET = "segment"


def register_dataset(name: str, train: str, valid: str, defaults: dict | None = None,
                     doc: str = "") -> DatasetSpec:
    spec = DatasetSpec(name, train, valid, dict(defaults or {}), doc)
    DATASETS[name] = spec
    return spec


def dataset_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ConfigError(f"data.dataset: unknown dataset {name!r} (known: "
                          f"{', '.join(sorted(DATASETS))})")
    return DATASETS[name]


def _resolve(target: str) -> Callable:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def build_train_dataset(datadir, data_cfg: dict, *, sample_rate: int, seed: int):
    spec = dataset_spec(data_cfg.get("dataset") or DEFAULT_DATASET)
    return _resolve(spec.train)(datadir, data_cfg, sample_rate=sample_rate, seed=seed)


def build_valid_dataset(datadir, data_cfg: dict, *, sample_rate: int):
    spec = dataset_spec(data_cfg.get("dataset") or DEFAULT_DATASET)
    return _resolve(spec.valid)(datadir, data_cfg, sample_rate=sample_rate)


register_dataset(
    "segment", "sepcore.data.dataset:segment_dataset", "sepcore.data.dataset:utterance_dataset",
    defaults={
        "segment": 4.0,          # seconds per training example
        "dynamic_mixing": False,  # new mixtures of the sources of different utterances
        "mix_snr_range": 5.0,    # dynamic mixing: relative levels uniform in +-this dB
        "speed_perturb": None,   # dynamic mixing: [lo, hi], each source at a random speed
        "epoch_size": None,      # examples per epoch (default: the number of utterances)
    },
    doc="random fixed-length segments of the data dir's mixtures, or dynamic mixtures "
        "of its sources",
)

# the keys of sepcore/data/speech.py's CleanSpeechDataset, the base of noisy and masked
_CLEAN_SPEECH = {
    "segment": 4.0,           # seconds per training example
    "epoch_size": None,       # examples per epoch (default: the number of utterances)
    "target_level": [-35.0, -15.0],  # dBFS, RMS of the input (the mixture)
}

register_dataset(
    "noisy", "sepcore.data.noisy:noisy_dataset", "sepcore.data.dataset:utterance_dataset",
    defaults={
        **_CLEAN_SPEECH,
        "noise": None,            # the noise pool: a data dir (wav.scp) or a folder of audio
        "snr_range": [0.0, 40.0],  # dB, speech over noise; the DNS synthesizer's range
        "short_targets": "error",  # a clean utterance shorter than the segment: error|drop|pad
        "noise_layers": 1,        # noise windows summed per example (1 to this many)
        "noise_tilt": None,       # [lo, hi]: random spectral slope of the noise, dB/octave
    },
    doc="clean speech (spk1.scp) + a random noise of data.noise, mixed on the fly at an SNR "
        "and level drawn from data.snr_range and data.target_level",
)

register_dataset(
    "masked", "sepcore.data.masked:masked_dataset", "sepcore.data.dataset:utterance_dataset",
    defaults={
        **_CLEAN_SPEECH,
        "masks": None,            # mask responses: a YAML file (masks: {name: {freq, gain}})
        "mask_types": None,       # the masks drawn from (null: every one of data.masks)
        "mask_jitter_db": 1.5,    # each response point moved by N(0, this) dB per example
        "fir_ms": 32.0,           # FIR length (linear phase, its delay removed)
        "noise_snr_range": [10.0, 40.0],  # dB, masked speech over the added white noise
    },
    doc="clean speech (spk1.scp) filtered on the fly by a jittered face-mask response "
        "(data.masks) plus white noise; the target is the unmasked speech",
)

register_dataset(
    "music", "sepcore.data.music:music_dataset", "sepcore.data.music:music_tracks",
    defaults={
        "segment": 6.0,            # seconds per excerpt (Open-Unmix)
        "samples_per_track": 64,   # excerpts per training track and epoch (Open-Unmix)
        "dynamic_mixing": True,    # every stem from a random track at a random offset
        "gain_range": [0.25, 1.25],  # uniform gain per stem
        "channel_swap": True,      # swap each stem's channels with probability 1/2
        "audio_channels": 2,       # channels of every stem (= model.audio_channels)
    },
    doc="random excerpts of named stems (music) with Open-Unmix's augmentations; the "
        "mixture is the sum of the augmented stems",
)
