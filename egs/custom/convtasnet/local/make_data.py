#!/usr/bin/env python3
"""Data dirs of the custom recipe from two folders: the target to keep, the interference to remove.

Usage: make_data.py [options] <target-dir> <interference-dir> <corpus-dir> <data-root>

Every audio file under each folder (recursively; wav, flac, mp3, ogg, opus, any rate,
any number of channels) is decoded, mixed down to mono, resampled to --sample-rate
(sepcore.resample) and written to <corpus-dir>/{target,interference}/ as float WAV.
The files of each folder are split by file into train / dev / test (seeded shuffle;
--dev-fraction and --test-fraction of the files, at least one each), so no file is in
two sets. Training mixtures are made on the fly (data.dataset: noisy: a window of a
target file + a window of an interference file at an SNR of data.snr_range); dev and
test mixtures are fixed: each target file of the set (its first --max-seconds) plus a
random interference file of the same set at an SNR uniform in --snr-range.

Refused with a clear error: a folder with no audio, a folder with fewer files than the
split needs, a file that cannot be decoded, the same audio in both folders (the same
content, found by a SHA-256 of the decoded samples, whatever the paths or formats). The
same content twice in one folder is kept once, with a warning.

Output:
  <data-root>/train               wav.scp = spk1.scp (target files), sources (<target name>)
  <data-root>/train_interference  wav.scp (interference files)
  <data-root>/{dev,test}          wav.scp (mixtures), spk1.scp, noise1.scp, utt2snr,
                                  utt2num_samples, sources
  <data-root>/names               "<target name> <interference name>"
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from sepcore.data import DataDir
from sepcore.data.noisy import mix_at_snr
from sepcore.errors import DataError, SepcoreError
from sepcore.io import write_scp
from sepcore.io.audio import read_audio
from sepcore.resample import resample
from sepcore.separate import AUDIO_EXTENSIONS

SPLITS = ("train", "dev", "test")
PEAK = 0.99


def audio_files(folder: Path, option: str) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"{option} {folder}: no such folder")
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise DataError(f"{option} {folder}: no audio files ({', '.join(AUDIO_EXTENSIONS)}) "
                        f"in this folder or below it")
    return files


def decode(path: Path, rate: int) -> np.ndarray:
    """Mono float32 at ``rate``."""
    audio = read_audio(path)
    x = audio.data if audio.data.ndim == 1 else audio.data.mean(axis=1)
    if len(x) == 0:
        raise DataError(f"{path}: no samples")
    return resample(x, audio.sample_rate, rate)


def utt_id(path: Path, taken: set) -> str:
    """The file's name (less its suffix, odd characters replaced), made unique."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem) or "file"
    utt, k = base, 1
    while utt in taken:
        k += 1
        utt = f"{base}-{k}"
    taken.add(utt)
    return utt


def load_folder(folder: Path, option: str, rate: int, out_dir: Path):
    """``[(utt, wav path, sha256)]`` of the folder's decoded files, duplicates dropped."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, seen, taken = [], {}, set()
    for path in audio_files(folder, option):
        x = decode(path, rate)
        digest = hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()
        if digest in seen:
            print(f"make_data.py: warning: {path} has the same audio as {seen[digest]}; "
                  f"kept once", file=sys.stderr)
            continue
        seen[digest] = path
        utt = utt_id(path, taken)
        wav = out_dir / f"{utt}.wav"
        sf.write(wav, x, rate, subtype="FLOAT")
        rows.append((utt, str(wav), digest, str(path), len(x)))
    return rows


def split_rows(rows, dev_fraction: float, test_fraction: float, seed: int, option: str,
               folder: Path) -> dict[str, list]:
    n = len(rows)
    n_dev = max(1, int(round(dev_fraction * n)))
    n_test = max(1, int(round(test_fraction * n)))
    if n - n_dev - n_test < 1:
        raise DataError(
            f"{option} {folder}: {n} distinct audio file{'s' if n != 1 else ''}; splitting by "
            f"file into train / dev / test needs at least 3 (one each; with --dev-fraction "
            f"{dev_fraction:g} and --test-fraction {test_fraction:g}: {n_dev + n_test + 1})")
    order = np.random.default_rng(seed).permutation(n)
    picked = [rows[i] for i in order]
    parts = {"test": picked[:n_test], "dev": picked[n_test:n_test + n_dev],
             "train": picked[n_test + n_dev:]}
    return {k: sorted(v) for k, v in parts.items()}


def write_mixtures(split, targets, interferences, args, corpus: Path, data_root: Path,
                   names: tuple[str, str]):
    rng = np.random.default_rng([args.seed, 31, SPLITS.index(split)])
    d = corpus / split
    for sub in ("mix", "target", "interference"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    wav, spk1, noise1, u2snr, u2n = {}, {}, {}, {}, {}
    limit = int(args.max_seconds * args.sample_rate)
    for utt, path, _, _, n in targets:
        t, _ = sf.read(path, dtype="float64")
        if n > limit:
            start = int(rng.integers(0, n - limit + 1))
            t = t[start:start + limit]
        iutt, ipath, _, _, m = interferences[int(rng.integers(0, len(interferences)))]
        x, _ = sf.read(ipath, dtype="float64")
        x = np.tile(x, -(-len(t) // m) + 1)
        start = int(rng.integers(0, m))
        x = x[start:start + len(t)]
        snr = float(np.round(rng.uniform(*args.snr_range), 1))
        try:
            t, x = mix_at_snr(t, x, snr, peak=PEAK)
        except DataError:
            raise DataError(f"{path} or {ipath}: silent where they were cut for the {split} "
                            f"set (no SNR can be set)") from None
        mid = f"{utt}__{iutt}"
        for sub, y in (("mix", t + x), ("target", t), ("interference", x)):
            sf.write(d / sub / f"{mid}.wav", y, args.sample_rate, subtype="FLOAT")
        wav[mid], spk1[mid] = str(d / "mix" / f"{mid}.wav"), str(d / "target" / f"{mid}.wav")
        noise1[mid], u2snr[mid], u2n[mid] = str(d / "interference" / f"{mid}.wav"), \
            f"{snr:g}", len(t)
    DataDir.write(data_root / split, wav, [spk1], source_names=[names[0]], noise=noise1,
                  num_samples=u2n)
    write_scp(data_root / split / "utt2snr", u2snr.items())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("target_dir")
    p.add_argument("interference_dir")
    p.add_argument("corpus_dir")
    p.add_argument("data_root")
    p.add_argument("--target-name", required=True)
    p.add_argument("--interference-name", required=True)
    p.add_argument("--sample-rate", type=int, default=16000)
    p.add_argument("--dev-fraction", type=float, default=0.1)
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument("--snr-range", type=float, nargs=2, default=(-5.0, 10.0))
    p.add_argument("--max-seconds", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        for opt, v in (("--dev-fraction", args.dev_fraction),
                       ("--test-fraction", args.test_fraction)):
            if not 0 < v < 1:
                raise DataError(f"{opt} must be in (0, 1), got {v:g}")
        if args.dev_fraction + args.test_fraction >= 1:
            raise DataError(f"--dev-fraction {args.dev_fraction:g} + --test-fraction "
                            f"{args.test_fraction:g} must leave files for training (< 1)")
        names = (args.target_name, args.interference_name)
        for opt, name in zip(("--target-name", "--interference-name"), names):
            if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
                raise DataError(f"{opt} {name!r}: expected letters, digits, '.', '_' or '-'")
        if names[0] == names[1]:
            raise DataError(f"the target and the interference have the same name {names[0]!r}"
                            f"; give --target-name / --interference-name")
        corpus, data_root = Path(args.corpus_dir).resolve(), Path(args.data_root)
        for folder in (corpus, *(data_root / s for s in (*SPLITS, "train_interference"))):
            shutil.rmtree(folder, ignore_errors=True)  # a partial run or other options: redo
        folders = (Path(args.target_dir), Path(args.interference_dir))
        rows = [load_folder(f, opt, args.sample_rate, corpus / sub)
                for f, opt, sub in zip(folders, ("--target-dir", "--interference-dir"),
                                       ("target", "interference"))]
        by_hash = {r[2]: r[3] for r in rows[0]}
        both = [(by_hash[r[2]], r[3]) for r in rows[1] if r[2] in by_hash]
        if both:
            raise DataError(f"the same audio is in both folders: {both[0][0]} (--target-dir) "
                            f"and {both[0][1]} (--interference-dir)"
                            + (f", and {len(both) - 1} more pairs" if len(both) > 1 else "")
                            + "; a file must be the target or the interference, not both")
        parts = [split_rows(r, args.dev_fraction, args.test_fraction, args.seed + k, opt, f)
                 for k, (r, opt, f) in enumerate(zip(rows, ("--target-dir",
                                                            "--interference-dir"), folders))]
        train = {r[0]: r[1] for r in parts[0]["train"]}
        DataDir.write(data_root / "train", train, [train], source_names=[names[0]],
                      num_samples={r[0]: r[4] for r in parts[0]["train"]})
        DataDir.write(data_root / "train_interference",
                      {r[0]: r[1] for r in parts[1]["train"]}, [])
        for split in ("dev", "test"):
            write_mixtures(split, parts[0][split], parts[1][split], args, corpus, data_root,
                           names)
        (data_root / "names").write_text(f"{names[0]} {names[1]}\n")
    except SepcoreError as e:
        print(f"make_data.py: error: {e}", file=sys.stderr)
        return 1
    for split in SPLITS:
        print(f"make_data.py: {split}: {len(parts[0][split])} {names[0]} files, "
              f"{len(parts[1][split])} {names[1]} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
