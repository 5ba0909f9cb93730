"""Spectral gating (Sainburg, Thielk & Gentner 2020, "Finding, visualizing, and
quantifying latent structure across diverse animal vocal repertoires"; the ``noisereduce``
package): a noise threshold per frequency from the signal's own statistics, a smoothed
gate on the STFT. The package's defaults: non-stationary gating (the threshold follows a
running estimate of the noise floor over 2 s), full attenuation (``prop_decrease`` 1).
"""

from __future__ import annotations

import numpy as np

from sepcore.errors import ConfigError

INSTALL = "pip install noisereduce"


def spectral_gating(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Spectral-gating estimate of the speech in ``x`` (1-D), same rate and length."""
    try:
        import noisereduce
    except ImportError as e:
        raise ConfigError(f"--method spectral_gating needs the package noisereduce ({e}); "
                          f"install it with: {INSTALL}") from None
    x = np.asarray(x, dtype=np.float32)
    y = noisereduce.reduce_noise(y=x, sr=sample_rate, n_jobs=1)
    y = np.asarray(y, dtype=np.float32).reshape(-1)[: len(x)]
    return np.pad(y, (0, len(x) - len(y)))
