"""The audio of a data dir checked against its metadata, from the headers alone.

``utils/validate_data_dir.sh`` runs this (``python -m sepcore.bin.validate_audio``) after
its text checks: every file of ``wav.scp``, ``spkN.scp`` and ``noise1.scp`` is opened (one
header read each, no decoding: about 20 us a file) and compared with ``utt2num_samples``
(or, without it, with its mixture) in frames, and with its mixture in sample rate and
channels. A file cut short (a copy that stopped, a full disk) or one with no samples is
named with its scp line, never trained on as zero padding or dropped as "silent". Pipes
(``cmd |``) are not run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import soundfile as sf

from sepcore.data.datadir import DataDir
from sepcore.io.audio import is_pipe

MAX_FAULTS_PER_FILE = 20


@dataclass(frozen=True)
class Header:
    frames: int
    sample_rate: int
    channels: int


def read_header(path: str) -> Header:
    """Frames, rate and channels of an audio file, from its header (libsndfile counts the
    frames from the data actually present, so a truncated file reports fewer)."""
    with sf.SoundFile(path) as f:
        return Header(int(f.frames), int(f.samplerate), int(f.channels))


def _faults(dd: DataDir, channels: int | None) -> Iterator[tuple[str, str]]:
    """``(file, "file:line: what is wrong")`` for each fault."""
    lengths = dd.num_samples or {}
    len_line = {u: i for i, u in enumerate(lengths, 1)}
    lengths_file = dd.path / "utt2num_samples"
    tables = [("wav.scp", dd.wav)] + [(f"spk{k + 1}.scp", t) for k, t in enumerate(dd.sources)]
    if dd.noise is not None:
        tables.append(("noise1.scp", dd.noise))
    mixture: dict[str, Header] = {}
    for name, table in tables:
        scp = dd.path / name
        for lineno, (utt, spec) in enumerate(table.items(), 1):
            if is_pipe(spec):
                continue
            where = f"{scp}:{lineno}: utterance {utt}: {spec}"
            try:
                h = read_header(spec)
            except (sf.LibsndfileError, RuntimeError, OSError) as e:
                yield name, f"{where}: cannot read audio header ({e})"
                continue
            if name == "wav.scp":
                mixture[utt] = h
            if h.frames == 0:
                what = "mixture" if name == "wav.scp" else "reference"
                yield name, (f"{where}: no samples (0 frames); a {what} must not be empty "
                             "(regenerate or remove this utterance)")
                continue
            if utt in lengths:
                if h.frames != lengths[utt]:
                    yield name, (f"{where}: {h.frames} frames, but {lengths_file}:"
                                 f"{len_line[utt]} says {lengths[utt]} (truncated or damaged? "
                                 "if the audio was regenerated, delete utt2num_samples "
                                 "and rerun utils/get_utt2num_samples.sh)")
                    continue
            mix = mixture.get(utt)
            if mix is None or name == "wav.scp":
                if name == "wav.scp" and channels is not None and h.channels != channels:
                    yield name, (f"{where}: {h.channels} channels, expected {channels} "
                                 "(--channels)")
                continue
            if utt not in lengths and h.frames != mix.frames:
                yield name, (f"{where}: {h.frames} frames, its mixture {dd.wav[utt]} "
                             f"{mix.frames} (truncated or damaged?)")
            elif h.sample_rate != mix.sample_rate:
                yield name, (f"{where}: {h.sample_rate} Hz, its mixture {dd.wav[utt]} "
                             f"{mix.sample_rate} Hz")
            elif h.channels != mix.channels:
                yield name, (f"{where}: {h.channels} channels, its mixture {dd.wav[utt]} "
                             f"{mix.channels}")


def audio_faults(dd: DataDir, channels: int | None = None,
                 max_per_file: int = MAX_FAULTS_PER_FILE) -> list[str]:
    """Every audio fault of a data dir (at most ``max_per_file`` listed per scp file, then
    a count), as ``file:line: utterance U: <path>: what is wrong``; ``channels``: the number
    every mixture must have (e.g. 1 for a single-channel speech recipe)."""
    out: list[str] = []
    counts: dict[str, int] = {}
    for name, msg in _faults(dd, channels):
        counts[name] = counts.get(name, 0) + 1
        if counts[name] <= max_per_file:
            out.append(msg)
    for name, n in counts.items():
        if n > max_per_file:
            out.append(f"{dd.path / name}: ... and {n - max_per_file} more faults")
    return out
