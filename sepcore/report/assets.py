"""The report's own files: audio copies (or excerpts) and their spectrograms.

Every file is written under the report folder and referred to by a relative path, so the
folder can be zipped and shared alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sepcore.errors import ConfigError
from sepcore.io import read_audio, write_audio
from sepcore.report import plots

AUDIO_FORMATS = ("auto", "wav", "flac", "ogg")
_SUBTYPES = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS")}


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:120]


def excerpt_window(x: np.ndarray, sample_rate: int, max_seconds: float | None) -> slice:
    """The ``max_seconds`` of ``x`` with the most energy (the whole of a shorter signal):
    a music track's chorus rather than its silent first seconds."""
    n = x.shape[0]
    if not max_seconds or n <= max_seconds * sample_rate:
        return slice(0, n)
    width = int(max_seconds * sample_rate)
    power = np.square(np.asarray(x, dtype=np.float64)).reshape(n, -1).sum(axis=1)
    hop = max(1, sample_rate // 10)  # candidate starts every 0.1 s
    cum = np.concatenate([[0.0], np.cumsum(power)])
    starts = np.arange(0, n - width + 1, hop)
    best = int(starts[np.argmax(cum[starts + width] - cum[starts])])
    return slice(best, best + width)


class Assets:
    """Writes audio and spectrogram files under ``root`` and returns their relative paths."""

    def __init__(self, root: Path, max_seconds: float | None = 10.0, audio_format: str = "auto"):
        if audio_format not in AUDIO_FORMATS:
            raise ConfigError(f"--audio-format: expected one of {', '.join(AUDIO_FORMATS)}, "
                              f"got {audio_format!r}")
        if max_seconds is not None and max_seconds <= 0:
            raise ConfigError(f"--max-seconds must be positive, got {max_seconds}")
        self.root = root
        self.max_seconds = max_seconds
        self.audio_format = audio_format

    def _format(self, sample_rate: int, channels: int) -> str:
        if self.audio_format != "auto":
            return self.audio_format
        # lossless where it is cheap (speech rates, mono); Vorbis keeps music reports small
        return "flac" if sample_rate <= 16000 and channels == 1 else "ogg"

    def write_audio(self, rel: str, data: np.ndarray, sample_rate: int) -> str:
        channels = 1 if data.ndim == 1 else data.shape[1]
        fmt = self._format(sample_rate, channels)
        rel = f"{rel}.{fmt}"
        container, subtype = _SUBTYPES[fmt]
        write_audio(self.root / rel, np.clip(data, -1.0, 1.0), sample_rate, subtype=subtype,
                    format=container)
        return rel

    def row(self, prefix: str, signals: list[tuple[str, str | None]],
            scale: tuple[float, float] | None = None):
        """Read ``[(label, scp value or None)]`` (the first is the one the excerpt is chosen
        by), cut them to the same excerpt, write audio + spectrograms on one colour scale.

        Returns ``([(label, audio rel, png rel) or (label, None, None)], scale)``.
        """
        audio = [(label, read_audio(spec) if spec else None) for label, spec in signals]
        present = [a for _, a in audio if a is not None]
        if not present:
            return [(label, None, None) for label, _ in audio], scale
        rate = present[0].sample_rate
        window = excerpt_window(present[0].data, rate, self.max_seconds)
        cut = [(label, a.data[window] if a is not None else None) for label, a in audio]
        specs = [plots.spectrogram_db(x, rate) if x is not None else None for _, x in cut]
        scale = scale or plots.row_scale([s for s in specs if s is not None])
        out = []
        for (label, x), spec in zip(cut, specs):
            if x is None:
                out.append((label, None, None))
                continue
            name = f"{prefix}_{safe_name(label)}"
            png = f"{name}.png"
            (self.root / png).parent.mkdir(parents=True, exist_ok=True)
            plots.save_spectrogram(spec, scale, self.root / png)
            out.append((label, self.write_audio(name, x, rate), png))
        return out, scale
