"""Tiny data dirs for tests: deterministic speech-like signals written as wav files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def voiced(rng: np.random.Generator, length: int, sample_rate: int) -> np.ndarray:
    """A harmonic signal with a wandering pitch and a syllable-like envelope."""
    t = np.arange(length) / sample_rate
    f0 = rng.uniform(90, 250) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 6))
    return (0.2 * x * envelope).astype(np.float32)


def make_datadir(
    root: str | Path,
    name: str = "train",
    num_utts: int = 6,
    num_sources: int = 2,
    sample_rate: int = 8000,
    min_len: float = 0.6,
    max_len: float = 1.2,
    seed: int = 0,
    subtype: str = "PCM_16",
    num_speakers: int = 4,
) -> Path:
    """Write ``root/wav/<name>/*.wav`` and the data dir ``root/data/<name>``; return it."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    wav_dir = root / "wav" / name
    data = root / "data" / name
    wav_dir.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {"wav.scp": [], "utt2num_samples": [], "utt2spk": [],
                                   "utt2spks": []}
    for k in range(num_sources):
        files[f"spk{k + 1}.scp"] = []
    for i in range(num_utts):
        utt = f"{name}_utt{i:03d}"
        length = int(rng.integers(int(min_len * sample_rate), int(max_len * sample_rate)))
        sources = [voiced(rng, length, sample_rate) for _ in range(num_sources)]
        speakers = [f"spk{(i + k) % num_speakers}" for k in range(num_sources)]
        for k, s in enumerate(sources):
            path = wav_dir / f"{utt}_s{k + 1}.wav"
            sf.write(path, s, sample_rate, subtype=subtype)
            files[f"spk{k + 1}.scp"].append(f"{utt} {path}")
        mix_path = wav_dir / f"{utt}_mix.wav"
        sf.write(mix_path, np.sum(sources, axis=0), sample_rate, subtype=subtype)
        files["wav.scp"].append(f"{utt} {mix_path}")
        files["utt2num_samples"].append(f"{utt} {length}")
        files["utt2spk"].append(f"{utt} {speakers[0]}")
        files["utt2spks"].append(f"{utt} {' '.join(speakers)}")
    for fname, lines in files.items():
        (data / fname).write_text("".join(f"{ln}\n" for ln in sorted(lines)))
    return data
