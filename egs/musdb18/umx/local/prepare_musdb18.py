#!/usr/bin/env python3
"""MUSDB18 / MUSDB18-HQ → data dirs train (86 songs), valid (the official 14), test (50).

    python local/prepare_musdb18.py [--format auto|hq|stems] [--decoded-dir DIR] [--nj N] \
        <musdb-dir> <data-root>

Layouts (Rafii et al. 2017/2019):

  MUSDB18-HQ  <musdb-dir>/{train,test}/<Artist - Title>/{mixture,drums,bass,other,vocals}.wav
  MUSDB18     <musdb-dir>/{train,test}/<Artist - Title>.stem.mp4  (streams 0 mixture,
              1 drums, 2 bass, 3 other, 4 vocals; AAC)

The stem files are decoded once with ffmpeg into ``<decoded-dir>/{train,test}/<id>/*.wav``
(16-bit PCM, 44.1 kHz stereo; a song whose ``.done`` marker exists is not decoded again).
wav.scp is the mixture the corpus ships (HQ: mixture.wav; MUSDB18: stream 0, the AAC mix,
which is what museval/musdb evaluations feed a model — it is not exactly the sum of the
decoded stems); spk1..4.scp are the stems in the order of ``sources`` (drums bass other
vocals). Training mixes its own mixtures from the stems, so it never reads wav.scp.

Checks: every song has all five signals, 2 channels, one sample rate and one length
(decoded AAC streams may differ by up to ``AAC_SLACK`` samples, and are then cut to the
shortest); a missing split folder is an error naming it; fewer songs than published
(100 train, 50 test) or a missing official validation song is a warning (partial corpus).
Utterance ids are the song names with every run of characters other than letters and
digits replaced by ``_`` (``Actions - One Minute Smile`` → ``Actions_One_Minute_Smile``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import soundfile as sf

from sepcore.bin.common import report_errors
from sepcore.data import DataDir
from sepcore.errors import DataError
from sepcore.io.atomic import atomic_write_text

PROG = "prepare_musdb18.py"
STEMS = ("drums", "bass", "other", "vocals")
SIGNALS = ("mixture",) + STEMS  # = the stream order of a .stem.mp4
SAMPLE_RATE = 44100
PUBLISHED = {"train": 100, "test": 50}
AAC_SLACK = 4096  # samples: priming/padding differences between decoded AAC streams
VALIDATION = (
    "Actions - One Minute Smile",
    "Clara Berry And Wooldog - Waltz For My Victims",
    "Johnny Lokke - Promises & Lies",
    "Patrick Talbot - A Reason To Leave",
    "Triviul - Angelsaint",
    "Alexander Ross - Goodbye Bolero",
    "Fergessen - Nos Palpitants",
    "Leaf - Summerghost",
    "Skelpolu - Human Mistakes",
    "Young Griffo - Pennies",
    "ANiMAL - Rockshow",
    "James May - On The Line",
    "Meaxic - Take A Step",
    "Traffic Experiment - Sirens",
)
FFMPEG_HINT = "install ffmpeg (Debian: apt-get install -y ffmpeg; tools/install.sh as root)"


def warn(msg: str) -> None:
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def utt_id(song: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", song).strip("_")


def detect_format(root: Path) -> str:
    for split in PUBLISHED:
        folder = root / split
        if folder.is_dir():
            if any(p.name.endswith(".stem.mp4") for p in folder.iterdir()):
                return "stems"
            if any(p.is_dir() for p in folder.iterdir()):
                return "hq"
    raise DataError(f"{root}: neither MUSDB18-HQ song folders nor .stem.mp4 files under "
                    f"{root}/train or {root}/test")


def list_songs(root: Path, split: str, fmt: str) -> dict[str, Path]:
    """``{song name: folder (hq) or .stem.mp4 (stems)}`` of one split."""
    folder = root / split
    if not folder.is_dir():
        what = "<Artist - Title>/ song folders" if fmt == "hq" else "<Artist - Title>.stem.mp4"
        raise DataError(f"{folder}: folder not found (expected the MUSDB18 {split} set: {what})")
    if fmt == "hq":
        songs = {p.name: p for p in folder.iterdir() if p.is_dir()}
    else:
        songs = {p.name[: -len(".stem.mp4")]: p for p in folder.iterdir()
                 if p.name.endswith(".stem.mp4")}
    if not songs:
        raise DataError(f"{folder}: no songs found (format {fmt})")
    return songs


def check_song(files: dict[str, Path], origin: Path, slack: int = 0) -> int:
    """Check the five wavs of one song; return their common length (cut to it if needed)."""
    infos = {}
    for name, path in files.items():
        if not path.is_file():
            raise DataError(f"{path}: not found (every song needs {', '.join(SIGNALS)})")
        try:
            infos[name] = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError) as e:
            raise DataError(f"{path}: cannot read audio ({e})") from None
    for name, info in infos.items():
        if info.channels != 2:
            raise DataError(f"{files[name]}: {info.channels} channel(s), expected stereo "
                            f"(MUSDB18 is 2-channel)")
        if info.samplerate != SAMPLE_RATE:
            raise DataError(f"{files[name]}: sample rate {info.samplerate} Hz, expected "
                            f"{SAMPLE_RATE} Hz like the other signals of {origin}")
    lengths = {name: info.frames for name, info in infos.items()}
    shortest, longest = min(lengths.values()), max(lengths.values())
    if longest - shortest > slack:
        odd = max(lengths, key=lambda n: abs(lengths[n] - lengths["mixture"]))
        raise DataError(f"{files[odd]}: {lengths[odd]} samples, but {files['mixture']} has "
                        f"{lengths['mixture']} (the stems of a song must have one length)")
    if longest != shortest:  # decoded AAC only: cut every stream to the shortest
        for name, path in files.items():
            if lengths[name] != shortest:
                data, sr = sf.read(str(path), frames=shortest, dtype="int16")
                sf.write(str(path) + ".tmp.wav", data, sr, subtype="PCM_16")
                os.replace(str(path) + ".tmp.wav", path)
    return shortest


def decode_stem_file(mp4: Path, out: Path) -> dict[str, Path]:
    """Decode the five streams of ``mp4`` into ``out/<signal>.wav`` (once)."""
    files = {name: out / f"{name}.wav" for name in SIGNALS}
    if (out / ".done").is_file():
        return files
    out.mkdir(parents=True, exist_ok=True)
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(mp4)]
    for i, name in enumerate(SIGNALS):
        cmd += ["-map", f"0:a:{i}", "-c:a", "pcm_s16le", "-ar", str(SAMPLE_RATE),
                str(out / f"{name}.tmp.wav")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no message"
        raise DataError(f"{mp4}: ffmpeg cannot decode its 5 audio streams (mixture, "
                        f"drums, bass, other, vocals): {reason}")
    for name in SIGNALS:
        os.replace(out / f"{name}.tmp.wav", files[name])
    check_song(files, mp4, slack=AAC_SLACK)
    atomic_write_text(out / ".done", f"{mp4}\n")
    return files


def prepare(root: Path, data_root: Path, fmt: str, decoded: Path | None, nj: int) -> dict:
    if fmt == "auto":
        fmt = detect_format(root)
    if fmt == "stems":
        if shutil.which("ffmpeg") is None:
            raise DataError(f"the ffmpeg program is needed to decode {root}/*/*.stem.mp4; "
                            f"{FFMPEG_HINT}")
        if decoded is None:
            raise DataError("--decoded-dir is required for the MUSDB18 (.stem.mp4) format")
    sets: dict[str, list[tuple[str, dict[str, Path], int]]] = {"train": [], "valid": [],
                                                               "test": []}
    for split in ("train", "test"):
        songs = list_songs(root, split, fmt)
        if len(songs) != PUBLISHED[split]:
            warn(f"{root / split}: found {len(songs)} songs, MUSDB18 {split} has "
                 f"{PUBLISHED[split]} (partial corpus?)")
        ids: dict[str, str] = {}
        for song in songs:
            uid = utt_id(song)
            if uid in ids:
                raise DataError(f"{songs[song]}: its id {uid!r} is also that of {ids[uid]!r}")
            ids[uid] = song

        def one(song: str, split=split, songs=songs):
            if fmt == "hq":
                files = {name: songs[song] / f"{name}.wav" for name in SIGNALS}
                return files, check_song(files, songs[song])
            files = decode_stem_file(songs[song], decoded / split / utt_id(song))
            return files, sf.info(str(files["mixture"])).frames

        names = sorted(songs)
        with ThreadPoolExecutor(max(1, nj)) as pool:
            results = list(pool.map(one, names))
        for song, (files, length) in zip(names, results):
            target = "valid" if split == "train" and song in VALIDATION else split
            sets[target].append((utt_id(song), files, length))
        if split == "train":
            missing = [s for s in VALIDATION if s not in songs]
            if missing:
                warn(f"{root / split}: {len(missing)} of the 14 official validation songs "
                     f"are missing (first: {missing[0]!r})")
    for name, rows in sets.items():
        if not rows:
            warn(f"{name}: no songs; {data_root / name} not written")
            continue
        DataDir.write(data_root / name, [(u, str(f["mixture"].resolve())) for u, f, _ in rows],
                      [[(u, str(f[stem].resolve())) for u, f, _ in rows] for stem in STEMS],
                      source_names=list(STEMS), num_samples=[(u, n) for u, _, n in rows])
    return {name: len(rows) for name, rows in sets.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--format", choices=("auto", "hq", "stems"), default="auto",
                   help="hq: MUSDB18-HQ wav folders; stems: MUSDB18 .stem.mp4 (auto: detect)")
    p.add_argument("--decoded-dir", default=None,
                   help="where the .stem.mp4 files are decoded to wav (stems format)")
    p.add_argument("--nj", type=int, default=2, help="parallel checks / ffmpeg decodes")
    p.add_argument("musdb_dir")
    p.add_argument("data_root")
    args = p.parse_args(argv)

    def run() -> None:
        counts = prepare(Path(args.musdb_dir).absolute(), Path(args.data_root), args.format,
                         Path(args.decoded_dir).absolute() if args.decoded_dir else None,
                         args.nj)
        print(f"{PROG}: " + ", ".join(f"{n} {name}" for name, n in counts.items())
              + f" songs → {args.data_root}", file=sys.stderr)

    return report_errors(PROG, run)


if __name__ == "__main__":
    sys.exit(main())
