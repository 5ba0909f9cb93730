"""DNSMOS P.835 (Reddy et al., "DNSMOS P.835: a non-intrusive perceptual objective speech
quality metric to evaluate noise suppressors", ICASSP 2022): SIG, BAK and OVRL.

Optional: the ONNX models ship in the ``speechmos`` wheel (Microsoft's DNS-Challenge
models), run offline with onnxruntime; install with

    pip install speechmos onnxruntime librosa requests

Non-intrusive: only the estimate (or the mixture, for the input row) is rated. The models
are defined at 16 kHz; other rates are resampled (soxr) first. Clips shorter than the
models' 9.01 s input are repeated by speechmos to that length, as the DNS Challenge does.
"""

from __future__ import annotations

import numpy as np

from sepcore.errors import ConfigError

DNSMOS_RATE = 16000
INSTALL = "pip install speechmos onnxruntime librosa requests"
_KEYS = {"dnsmos_sig": "sig_mos", "dnsmos_bak": "bak_mos", "dnsmos_ovrl": "ovrl_mos"}


def available() -> bool:
    try:
        import onnxruntime  # noqa: F401
        import speechmos.dnsmos  # noqa: F401
    except ImportError:
        return False
    return True


def dnsmos(x: np.ndarray, sample_rate: int) -> dict[str, float]:
    """``{"dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl"}`` of the 1-D signal ``x``."""
    try:
        from speechmos import dnsmos as _dnsmos
    except ImportError as e:
        raise ConfigError(f"metric dnsmos needs the optional packages speechmos, onnxruntime "
                          f"and librosa ({e}); install them with: {INSTALL}") from None
    from sepcore.resample import resample

    x = resample(np.asarray(x, dtype=np.float64), sample_rate, DNSMOS_RATE, dtype=np.float64)
    # speechmos refuses values outside [-1, 1]; estimates are written not to clip anyway
    x = np.clip(x, -1.0, 1.0).astype(np.float32)
    out = _dnsmos.run(x, DNSMOS_RATE)
    return {name: float(out[key]) for name, key in _KEYS.items()}


def compute_dnsmos(u, est: list[str], mix: list[str]):
    """The registry's compute function of dnsmos_sig/bak/ovrl (non-intrusive: the mixture
    is rated once for every reference)."""
    num = u.refs.shape[0]
    out_est: dict[str, list[float]] = {m: [] for m in est}
    for j in range(num):
        d = None if u.silent[j] or not est else dnsmos(u.ests[j, :, 0], u.sample_rate)
        for m in est:
            out_est[m].append(float("nan") if d is None else d[m])
    if not mix:
        return out_est, {}
    d = dnsmos(u.mix[:, 0], u.sample_rate)
    return out_est, {m: [d[m]] * num for m in mix}
