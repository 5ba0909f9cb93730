"""Speech-like test signals (for tests and benchmarks; no corpus needed).

A voiced source: a harmonic series on a wandering pitch, shaped by two moving formant
resonances and cut into syllables (about 4 per second) with short pauses, so PESQ's voice
activity detector and STOI's silent-frame removal behave as on speech.
"""

from __future__ import annotations

import numpy as np
import scipy.signal


def speech_like(seconds: float, sample_rate: int, seed: int = 0) -> np.ndarray:
    """A float64 mono signal with peak about 0.5."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    f0 = rng.uniform(100, 220) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * t
                                                    + rng.uniform(0, 2 * np.pi)))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    nyq = sample_rate / 2
    x = np.zeros(n)
    for h in range(1, 40):
        amp = np.where(h * f0 < nyq * 0.95, 1.0 / h, 0.0)
        x += amp * np.sin(h * phase)
    x += 0.05 * rng.standard_normal(n)  # breath noise / fricatives
    # two formant resonators with slowly moving centre frequencies (segment-wise)
    y = np.zeros(n)
    seg = max(1, int(0.05 * sample_rate))
    for start in range(0, n, seg):
        f1 = rng.uniform(300, 900)
        f2 = rng.uniform(900, min(2500, 0.8 * nyq))
        part = x[max(0, start - 256):start + seg]
        out = np.zeros_like(part)
        for fc in (f1, f2):
            b, a = scipy.signal.iirpeak(fc, 4.0, fs=sample_rate)
            out += scipy.signal.lfilter(b, a, part)
        y[start:start + seg] = out[-len(y[start:start + seg]):]
    # syllables: raised-cosine envelopes with pauses
    env = np.zeros(n)
    pos = int(rng.uniform(0.05, 0.2) * sample_rate)
    while pos < n:
        dur = int(rng.uniform(0.12, 0.3) * sample_rate)
        seg_env = np.sin(np.pi * np.arange(dur) / dur) ** 2
        env[pos:pos + dur] = seg_env[:max(0, min(dur, n - pos))]
        pos += dur + int(rng.uniform(0.03, 0.2) * sample_rate)
    y *= env
    return 0.5 * y / (np.max(np.abs(y)) + 1e-12)
