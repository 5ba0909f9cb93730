"""Face-mask frequency responses as FIR filters: read, jitter, design, apply.

A mask response is a list of points ``(frequency in Hz, linear gain)`` measured on a
talker or loudspeaker with and without the mask (the DeMask recipe's conf/masks.yaml: the
responses of Corey, Jones & Singer 2020). :func:`design_fir` turns one into a
linear-phase FIR filter the way ``scipy.signal.firwin2`` does (window method), but
interpolates the response between the points in dB rather than in linear gain: the
responses are dips of 10-20 dB a few hundred Hz wide, and a linear-gain ramp under a
Hamming window smooths such a dip out by several dB where a dB ramp stays within 1 dB of
every point with half the taps. Above the last point the response is held at its last
value (the points stop below the Nyquist frequency of 16 kHz audio); points above the
Nyquist frequency of the audio are dropped.

:func:`jitter_db` perturbs a response per example (no two masks, fits or talkers are
alike), :func:`apply_fir` filters with the filter's delay removed, so the filtered signal
stays aligned with the clean one sample for sample.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sepcore.errors import ConfigError

HOLD_FLOOR_DB = -60.0  # a point of gain 0 (some encodings end with one) is held at this


@dataclass(frozen=True)
class MaskResponse:
    """One mask's response points: ``freqs`` (Hz, increasing from 0) and ``gains_db``."""

    name: str
    freqs: np.ndarray
    gains_db: np.ndarray


def _points(name: str, entry, where: str) -> MaskResponse:
    if not isinstance(entry, dict) or set(entry) - {"freq", "gain", "gain_db"} \
            or "freq" not in entry or ("gain" in entry) == ("gain_db" in entry):
        raise ConfigError(f"{where}: mask {name!r}: expected {{freq: [Hz...], gain: [linear...]}}"
                          f" or {{freq: [...], gain_db: [dB...]}}, got {entry!r}")
    try:
        freqs = np.asarray(entry["freq"], dtype=np.float64)
        values = np.asarray(entry.get("gain", entry.get("gain_db")), dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: mask {name!r}: freq and gain must be lists of numbers") \
            from None
    if freqs.ndim != 1 or freqs.shape != values.shape or len(freqs) < 2:
        raise ConfigError(f"{where}: mask {name!r}: freq and gain must be lists of the same "
                          f"length >= 2 (got {freqs.size} and {values.size})")
    if freqs[0] != 0 or np.any(np.diff(freqs) <= 0) or not np.all(np.isfinite(values)):
        raise ConfigError(f"{where}: mask {name!r}: freq must start at 0 Hz and increase, "
                          f"gains be finite (got freq {freqs.tolist()})")
    if "gain" in entry:
        if np.any(values < 0):
            raise ConfigError(f"{where}: mask {name!r}: linear gains must be >= 0")
        gains_db = 20 * np.log10(np.maximum(values, 10 ** (HOLD_FLOOR_DB / 20)))
    else:
        gains_db = values
    return MaskResponse(str(name), freqs, gains_db)


def load_mask_responses(spec, where: str = "data.masks") -> dict[str, MaskResponse]:
    """``{name: MaskResponse}`` from a mapping or a YAML file holding one under ``masks:``."""
    if isinstance(spec, (str, os.PathLike)):
        from sepcore.config import load_yaml

        path = Path(spec)
        if not path.is_file():
            raise ConfigError(f"{where}: {path}: mask response file not found")
        doc = load_yaml(path)
        where = f"{where} ({path})"
        spec = doc.get("masks", doc)
    if not isinstance(spec, dict) or not spec:
        raise ConfigError(f"{where}: expected a mapping of mask names to response points "
                          f"(or a YAML file with one under 'masks:'), got {spec!r}")
    return {str(name): _points(name, entry, where) for name, entry in spec.items()}


def select_masks(responses: dict[str, MaskResponse], names, where: str = "data.mask_types"
                 ) -> list[MaskResponse]:
    """The responses named in ``names`` (None: every one, in file order)."""
    if names is None:
        return list(responses.values())
    if isinstance(names, str):
        names = names.split(",")
    unknown = [n for n in names if n not in responses]
    if unknown or not names:
        raise ConfigError(f"{where}: unknown mask type(s) {', '.join(unknown) or '(none)'}; "
                          f"known: {', '.join(responses)}")
    return [responses[n] for n in names]


def fir_taps(sample_rate: int, milliseconds: float) -> int:
    """An odd number of taps spanning about ``milliseconds`` (type I: any gain at Nyquist)."""
    if not milliseconds > 0:
        raise ConfigError(f"data.fir_ms must be > 0, got {milliseconds!r}")
    return 2 * int(round(milliseconds * sample_rate / 2000.0)) + 1


def jitter_db(response: MaskResponse, rng: np.random.Generator, std_db: float) -> MaskResponse:
    """Every point above 0 Hz moved by an independent N(0, std_db) dB (0 Hz stays)."""
    if std_db <= 0:
        return response
    delta = rng.normal(0.0, std_db, response.gains_db.shape)
    delta[0] = 0.0
    return MaskResponse(response.name, response.freqs, response.gains_db + delta)


def design_fir(response: MaskResponse, sample_rate: int, numtaps: int) -> np.ndarray:
    """Linear-phase FIR (``numtaps`` odd) whose magnitude follows the response points."""
    from scipy.signal import firwin2

    if numtaps < 3 or numtaps % 2 == 0:
        raise ConfigError(f"mask filter: numtaps must be odd and >= 3, got {numtaps}")
    nyq = sample_rate / 2.0
    nfreqs = 1 + 2 ** int(np.ceil(np.log2(numtaps)) + 1)
    grid = np.linspace(0.0, nyq, nfreqs)
    # np.interp holds the last point's value beyond it; points above Nyquist only shape
    # the ramp up to it
    dense_db = np.interp(grid, response.freqs, response.gains_db)
    return firwin2(numtaps, grid, 10 ** (dense_db / 20), fs=sample_rate, window="hamming")


def apply_fir(x: np.ndarray, h: np.ndarray, margin: int = 0) -> np.ndarray:
    """``x`` filtered by the linear-phase ``h`` without its delay, ``margin`` samples of
    context cut off each end (``x`` read with that much before and after what is kept)."""
    from scipy.signal import oaconvolve

    delay = (len(h) - 1) // 2
    y = oaconvolve(np.asarray(x, dtype=np.float64), h, mode="full")
    return y[delay + margin:delay + len(x) - margin]


def response_db(h: np.ndarray, freqs, sample_rate: int) -> np.ndarray:
    """Magnitude response of ``h`` in dB at ``freqs`` (Hz)."""
    from scipy.signal import freqz

    _, H = freqz(h, worN=np.asarray(freqs, dtype=np.float64), fs=sample_rate)
    return 20 * np.log10(np.maximum(np.abs(H), 1e-12))
