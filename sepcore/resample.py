"""The one resampler: soxr (very high quality polyphase), along the first axis."""

from __future__ import annotations

import numpy as np


def resample(x: np.ndarray, rate_in: int, rate_out: int, length: int | None = None,
             dtype=np.float32) -> np.ndarray:
    """``x`` (``[time]`` or ``[time, channels]``) from ``rate_in`` to ``rate_out`` Hz, as
    ``dtype``; ``length`` trims or zero-pads the result (the input's length at the other
    rate, so a round trip keeps every sample aligned)."""
    if rate_in == rate_out:
        y = x
    else:
        import soxr

        y = soxr.resample(np.ascontiguousarray(x, dtype=dtype), rate_in, rate_out, "HQ")
    if length is not None and y.shape[0] != length:
        if y.shape[0] > length:
            y = y[:length]
        else:
            pad = [(0, length - y.shape[0])] + [(0, 0)] * (y.ndim - 1)
            y = np.pad(y, pad)
    return np.asarray(y, dtype=dtype)
