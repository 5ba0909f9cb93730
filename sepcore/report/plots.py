"""The report's images: spectrograms (dB, one colour scale per row), training curves and
histograms. Matplotlib with the Agg backend only, so nothing needs a display."""

from __future__ import annotations

import math
import os

import numpy as np

# a row's colours span this many dB below its loudest bin
DYNAMIC_RANGE_DB = 80.0
# spectrogram images are pooled down to this (twice the size they are shown at)
MAX_ROWS, MAX_COLS = 192, 480


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


# above this rate (music) the frequency axis is logarithmic from LOG_FMIN: on a linear
# axis a song's bass, chords and voice share the bottom tenth of the image
LOG_ABOVE_RATE, LOG_FMIN = 16000, 40.0


def spectrogram_db(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """``x`` [time] or [time, channels] (channels averaged) → dB magnitude [freq, frames],
    32 ms Hann windows, 75% overlap, lowest frequency first, pooled (max) to at most
    MAX_ROWS × MAX_COLS (log-spaced rows above LOG_ABOVE_RATE)."""
    from scipy.signal import stft

    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    nperseg = 1 << max(6, int(round(math.log2(0.032 * sample_rate))))
    if x.size < nperseg:
        x = np.pad(x, (0, nperseg - x.size))
    _, _, z = stft(x, nperseg=nperseg, noverlap=3 * nperseg // 4, boundary=None, padded=False)
    power = np.abs(z) ** 2
    if sample_rate > LOG_ABOVE_RATE:
        power = _log_rows(power, sample_rate, nperseg)
    power = _pool(_pool(power, MAX_ROWS, axis=0), MAX_COLS, axis=1)
    return 10.0 * np.log10(power + 1e-12)


def _log_rows(power: np.ndarray, sample_rate: int, nperseg: int) -> np.ndarray:
    """MAX_ROWS rows log-spaced from LOG_FMIN to Nyquist, each the max of its STFT bins
    (the nearest bin where a row is narrower than one bin)."""
    bins = power.shape[0]
    edges = np.geomspace(LOG_FMIN, sample_rate / 2, MAX_ROWS + 1) * nperseg / sample_rate
    lo = np.clip(np.floor(edges[:-1]).astype(int), 0, bins - 1)
    hi = np.clip(np.maximum(lo + 1, np.ceil(edges[1:]).astype(int)), 1, bins)
    return np.stack([power[a:b].max(axis=0) for a, b in zip(lo, hi)])


def _pool(a: np.ndarray, limit: int, axis: int) -> np.ndarray:
    n = a.shape[axis]
    if n <= limit:
        return a
    k = math.ceil(n / limit)
    pad = (-n) % k
    widths = [(0, 0), (0, 0)]
    widths[axis] = (0, pad)
    a = np.pad(a, widths, mode="edge")
    shape = (a.shape[0] // k, k, a.shape[1]) if axis == 0 else (a.shape[0], a.shape[1] // k, k)
    return a.reshape(shape).max(axis=axis + 1)


def row_scale(spectrograms: list[np.ndarray]) -> tuple[float, float]:
    """The shared colour scale of one row: (vmin, vmax) in dB."""
    top = max((float(s.max()) for s in spectrograms if s.size), default=0.0)
    return top - DYNAMIC_RANGE_DB, top


def save_spectrogram(db: np.ndarray, scale: tuple[float, float], path: str | os.PathLike) -> None:
    """A palette PNG (1 byte per pixel: small files) of ``db`` on the colour scale ``scale``."""
    from matplotlib import colormaps
    from PIL import Image

    vmin, vmax = scale
    index = np.clip((db - vmin) / max(vmax - vmin, 1e-9), 0.0, 1.0) * 255.0
    img = Image.fromarray(index[::-1].astype(np.uint8), mode="P")
    lut = (colormaps["magma"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    img.putpalette(lut.reshape(-1).tolist())
    img.save(path, format="PNG", optimize=True)


def colour_bar(path: str | os.PathLike) -> None:
    """The legend of every spectrogram: dB below the loudest bin of its row."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 1.1), dpi=100)
    ax.imshow(np.linspace(-DYNAMIC_RANGE_DB, 0, 256)[None, :], aspect="auto", cmap="magma",
              extent=(-DYNAMIC_RANGE_DB, 0, 0, 1))
    ax.set_yticks([])
    ax.set_xlabel("dB relative to the loudest bin of the utterance", fontsize=10)
    ax.tick_params(labelsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def training_curves(history: dict[str, list[float]], path: str | os.PathLike) -> None:
    """Loss (train, valid), valid SI-SDRi and LR against steps (top) and minutes (bottom)."""
    plt = _pyplot()
    panels = [
        ("loss", [("train_loss", "train"), ("valid_loss", "valid")], False),
        ("valid SI-SDRi (dB)", [("valid_si_sdri", "valid")], False),
        ("learning rate", [("lr", "lr")], True),
    ]
    axes_x = [("steps", "steps"), ("elapsed_minutes", "minutes")]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6), dpi=80)
    for r, (xkey, xlabel) in enumerate(axes_x):
        x = history.get(xkey, [])
        for c, (title, series, log) in enumerate(panels):
            ax = axes[r][c]
            for key, label in series:
                y = history.get(key, [])
                if len(y) == len(x) and y:
                    ax.plot(x, y, marker="o", markersize=3, label=label)
            if log and any(v > 0 for v in history.get("lr", [])):
                ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_title(title, fontsize=10)
            ax.grid(alpha=0.3)
            if len(series) > 1:
                ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def histograms(values: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """One histogram per metric (per-utterance values, the mean and median marked)."""
    plt = _pyplot()
    n = len(values)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), dpi=80, squeeze=False)
    for ax in axes.reshape(-1)[n:]:
        ax.axis("off")
    for ax, (name, v) in zip(axes.reshape(-1), values.items()):
        v = v[np.isfinite(v)]
        if v.size:
            ax.hist(v, bins=min(40, max(5, int(np.sqrt(v.size)) * 2)), color="#4c72b0")
            ax.axvline(float(np.mean(v)), color="#c44e52", label=f"mean {np.mean(v):.2f}")
            ax.axvline(float(np.median(v)), color="#55a868", linestyle="--",
                       label=f"median {np.median(v):.2f}")
            ax.legend(fontsize=8)
        ax.set_title(f"{name} ({v.size} utterances)", fontsize=10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
