"""RNNoise (Valin, "A hybrid DSP/deep learning approach to real-time full-band speech
enhancement", MMSP 2018) through the ``pyrnnoise`` wheel, which ships ``librnnoise``
and its trained model.

RNNoise runs at 48 kHz on 480-sample (10 ms) frames of int16-scaled floats; other rates
are resampled with sepcore's resampler (soxr HQ) and back. The library's output lags its
input by 960 samples (20 ms: one frame of analysis overlap and one of look-ahead; measured
with GCC-PHAT, tests/test_baselines.py checks it): the output is shifted back by that
much, so it is aligned with the input and has its length.
"""

from __future__ import annotations

import ctypes

import numpy as np

from sepcore.errors import ConfigError

RATE = 48000
FRAME = 480
DELAY = 960
INSTALL = "pip install pyrnnoise"


def _lib():
    try:
        from pyrnnoise import rnnoise
    except (ImportError, OSError) as e:
        raise ConfigError(f"--method rnnoise needs the package pyrnnoise ({e}); install it "
                          f"with: {INSTALL}") from None
    return rnnoise


def rnnoise_48k(x: np.ndarray) -> np.ndarray:
    """Denoise a 1-D float signal at 48 kHz (full scale ±1); same length, aligned."""
    rn = _lib()
    n = len(x)
    frames = -(-(n + DELAY) // FRAME)
    buf = np.zeros(frames * FRAME, dtype=np.float32)
    buf[:n] = np.asarray(x, dtype=np.float32) * 32768.0
    state = rn.create()
    try:
        for i in range(frames):
            frame = buf[i * FRAME:(i + 1) * FRAME]  # a view: processed in place
            ptr = frame.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            rn.lib.rnnoise_process_frame(state, ptr, ptr)
    finally:
        rn.destroy(state)
    return buf[DELAY:DELAY + n] / 32768.0


def rnnoise(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """RNNoise estimate of the speech in ``x`` (1-D, any rate), at ``x``'s rate and length."""
    from sepcore.resample import resample

    x48 = resample(np.asarray(x, dtype=np.float32), sample_rate, RATE)
    return resample(rnnoise_48k(x48), RATE, sample_rate, length=len(x))
