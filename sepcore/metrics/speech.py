"""Speech metrics: SI-SDR, STOI/ESTOI (pystoi), PESQ (the ``pesq`` package)."""

from __future__ import annotations

import logging
import warnings

import numpy as np

from sepcore.metrics.sisdr import si_sdr

log = logging.getLogger(__name__)

PESQ_RATE = 16000

__all__ = ["compute_pesq", "compute_si_sdr", "pesq", "pesq_mode", "resample_for_pesq", "si_sdr",
           "stoi"]


def stoi(ref: np.ndarray, deg: np.ndarray, sample_rate: int, extended: bool = False) -> float:
    """pystoi's (E)STOI of ``deg`` against the clean ``ref`` (1-D)."""
    from pystoi import stoi as _stoi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Not enough STFT frames" returns 1e-5, kept
        return float(_stoi(np.asarray(ref, np.float64), np.asarray(deg, np.float64),
                           sample_rate, extended=extended))


def pesq_mode(sample_rate: int) -> tuple[str, int, str | None]:
    """``(mode, rate, note)``: nb at 8 kHz, wb at 16 kHz, else wb after resampling to 16 kHz."""
    if sample_rate == 8000:
        return "nb", 8000, None
    if sample_rate == 16000:
        return "wb", 16000, None
    return "wb", PESQ_RATE, (
        f"pesq: audio at {sample_rate} Hz was resampled to {PESQ_RATE} Hz (soxr HQ) and scored "
        "wide-band (PESQ is defined only at 8 and 16 kHz)"
    )


def resample_for_pesq(x: np.ndarray, sample_rate: int) -> np.ndarray:
    _, rate, _ = pesq_mode(sample_rate)
    if rate == sample_rate:
        return np.asarray(x, np.float64)
    from sepcore.resample import resample

    return resample(x, sample_rate, rate, dtype=np.float64)


def pesq(ref: np.ndarray, deg: np.ndarray, sample_rate: int, resampled: bool = False) -> float:
    """PESQ of ``deg`` against ``ref`` (1-D); NaN (with a warning) where pesq finds no speech.

    With ``resampled`` the inputs are already at the PESQ rate for ``sample_rate``.
    """
    from pesq import PesqError
    from pesq import pesq as _pesq

    mode, rate, _ = pesq_mode(sample_rate)
    if not resampled:
        ref, deg = resample_for_pesq(ref, sample_rate), resample_for_pesq(deg, sample_rate)
    try:
        return float(_pesq(rate, ref, deg, mode))
    except PesqError as e:
        log.warning("pesq failed (%s: %s); value set to NaN", type(e).__name__, e)
        return float("nan")


def compute_si_sdr(u, est: list[str], mix: list[str]):
    """The registry's compute function of si_sdr (sepcore/metrics/registry.py)."""
    refs = u.refs[:, :, 0]
    return ({"si_sdr": si_sdr(u.ests[:, :, 0], refs)} if est else {},
            {"si_sdr": si_sdr(u.mix[None, :, 0], refs)} if mix else {})


def compute_pesq(u, est: list[str], mix: list[str]):
    """The registry's compute function of pesq: each signal is resampled once."""
    rate, num = u.sample_rate, u.refs.shape[0]
    _, _, note = pesq_mode(rate)
    if note:
        u.notes.append(note)
    nan = float("nan")
    refs = [None if u.silent[j] else resample_for_pesq(u.refs[j, :, 0], rate)
            for j in range(num)]

    def scores(signal_of) -> list[float]:
        return [nan if u.silent[j] else pesq(refs[j], signal_of(j), rate, resampled=True)
                for j in range(num)]

    out_est = {"pesq": scores(lambda j: resample_for_pesq(u.ests[j, :, 0], rate))} if est else {}
    if not mix:
        return out_est, {}
    mixture = resample_for_pesq(u.mix[:, 0], rate)
    return out_est, {"pesq": scores(lambda j: mixture)}
