"""Speech muffled by a face mask, made on the fly: clean speech → mask FIR + white noise.

``MaskedSpeechDataset`` (``data.dataset: masked``) draws, for every training segment, a
random window of a clean utterance (``spk1.scp`` of the training data dir), one of the
mask responses of ``data.masks`` (a YAML file or mapping, sepcore/data/mask_filters.py)
restricted to ``data.mask_types``, moves each of its points by N(0, ``data.mask_jitter_db``)
dB, designs its FIR filter (``data.fir_ms`` long, linear phase, delay removed) and filters
the window with it, read with the filter's length of context on both sides so the
segment has no edge transient. White noise is added at an SNR uniform in
``data.noise_snr_range`` (dB, over the masked speech), and the mixture is scaled to a
level uniform in ``data.target_level`` (dBFS RMS). The target is the clean, unmasked
speech with the same gain. Utterances shorter than the segment are zero-padded at a
random offset. Randomness comes from ``(seed, epoch, index)``, as in the other datasets.

:func:`mask_example` is the one place a masked example is made: the recipe's fixed dev
and test files (egs/demask) use it too.
"""

from __future__ import annotations

import numpy as np
import torch

from sepcore.data.datadir import DataDir
from sepcore.data.dataset import check_range
from sepcore.data.mask_filters import (
    MaskResponse,
    apply_fir,
    design_fir,
    fir_taps,
    jitter_db,
    load_mask_responses,
    select_masks,
)
from sepcore.data.speech import PEAK, CleanSpeechDataset
from sepcore.errors import ConfigError, DataError


def mask_example(context: np.ndarray, response: MaskResponse, sample_rate: int,
                 numtaps: int, margin: int, snr: float, level: float | None,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(masked + white noise, clean)`` from ``context``: the clean signal with ``margin``
    samples of context on each side (the returned pair is ``len(context) - 2 * margin``
    long). ``snr``: masked speech over noise (dB); ``level``: mixture RMS in dBFS (None:
    the clean signal's gain is kept). Both are scaled down together where either would
    pass ``PEAK``."""
    h = design_fir(response, sample_rate, numtaps)
    masked = apply_fir(context, h, margin)
    clean = np.asarray(context[margin:len(context) - margin], dtype=np.float64)
    power = float(np.mean(masked**2))
    if power <= 0:
        raise DataError("mask_example: silent speech (no SNR can be set)")
    noise = rng.standard_normal(len(masked)) * np.sqrt(power * 10 ** (-snr / 10))
    mixture = masked + noise
    gain = 1.0 if level is None else 10 ** (level / 20) / np.sqrt(np.mean(mixture**2))
    top = max(np.abs(mixture).max(), np.abs(clean).max()) * gain
    if top > PEAK:
        gain *= PEAK / top
    return mixture * gain, clean * gain


class MaskedSpeechDataset(CleanSpeechDataset):
    def __init__(
        self, datadir: DataDir, masks, segment: float, sample_rate: int, seed: int = 0,
        epoch_size: int | None = None, mask_types=None, mask_jitter_db: float = 1.5,
        fir_ms: float = 32.0, noise_snr_range=(10.0, 40.0), target_level=(-35.0, -15.0),
    ):
        super().__init__(datadir, segment, sample_rate, seed, epoch_size, target_level,
                         "masked speech")
        if not isinstance(mask_jitter_db, (int, float)) or mask_jitter_db < 0:
            raise ConfigError(f"data.mask_jitter_db must be a number >= 0, got {mask_jitter_db!r}")
        self.masks = select_masks(load_mask_responses(masks), mask_types)
        self.jitter = float(mask_jitter_db)
        self.numtaps = fir_taps(sample_rate, fir_ms)
        self.margin = self.numtaps  # the filter's length of context on both sides
        self.snr_range = check_range(noise_snr_range, "data.noise_snr_range")

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = self._rng(index)
        context = self._speech(rng, self.margin)
        response = jitter_db(self.masks[int(rng.integers(0, len(self.masks)))], rng,
                             self.jitter)
        mixture, clean = mask_example(
            context, response, self.sample_rate, self.numtaps, self.margin,
            rng.uniform(*self.snr_range), rng.uniform(*self.target_level), rng)
        return (torch.from_numpy(mixture.astype(np.float32)),
                torch.from_numpy(clean[None].astype(np.float32)))


def masked_dataset(datadir: DataDir, data_cfg: dict, *, sample_rate: int,
                   seed: int) -> MaskedSpeechDataset:
    """The ``masked`` dataset of sepcore/data/registry.py, from the config's data section."""
    if not data_cfg["masks"]:
        raise ConfigError("data.dataset masked needs data.masks (a YAML file of mask "
                          "responses or a mapping)")
    return MaskedSpeechDataset(
        datadir, data_cfg["masks"], segment=data_cfg["segment"], sample_rate=sample_rate,
        seed=seed, epoch_size=data_cfg["epoch_size"], mask_types=data_cfg["mask_types"],
        mask_jitter_db=data_cfg["mask_jitter_db"], fir_ms=data_cfg["fir_ms"],
        noise_snr_range=data_cfg["noise_snr_range"], target_level=data_cfg["target_level"],
    )
