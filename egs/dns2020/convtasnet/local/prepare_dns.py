#!/usr/bin/env python3
"""Data dirs for the DNS Challenge, Interspeech 2020 (Reddy et al. 2020), 16 kHz.

Published layout (microsoft/DNS-Challenge, branch interspeech2020, ``datasets/``):

    <root>/clean/**/*.wav                 clean read speech (training)
    <root>/noise/**/*.wav                 noise clips (training)
    <root>/test_set/synthetic/{no_reverb,with_reverb}/{clean,noisy}/
        clean/clean_fileid_<N>.wav  ↔  noisy/<anything>_fileid_<N>.wav   (150 pairs each)

Training mixtures are made on the fly (data.dataset: noisy) from data/train (the clean
files: wav.scp = spk1.scp) and data/train_noise (the noise files). A dev set for
validation is held out of both and mixed once here: ``--dev-utts`` clean files and
``--dev-noises`` noise files (chosen with a fixed seed), ``--dev-seconds`` long, SNR and
level uniform in the training ranges. Test sets: data/test_{no_reverb,with_reverb},
paired by the trailing ``fileid_<N>``; the SNR written in a noisy name (``_snr<N>_``)
goes to utt2snr. A test folder with fewer than 150 pairs is a warning, a missing
folder, a clean file without its noisy file (or the reverse) an error naming it.

Only directory listings and wav headers are read, except for the dev mixtures.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from sepcore.bin.common import report_errors
from sepcore.data import DataDir
from sepcore.data.noisy import check_range, mix_at_snr
from sepcore.errors import DataError
from sepcore.io import write_scp

PROG = "prepare_dns.py"
SR = 16000
CONDITIONS = ("no_reverb", "with_reverb")
PUBLISHED_TEST = 150
_FILEID = re.compile(r"(?:^|_)fileid_(\d+)$")
_SNR = re.compile(r"_snr(-?\d+(?:\.\d+)?)(?:_|$)")


def warn(msg: str) -> None:
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def find_wavs(folder: Path, what: str) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found (expected {what})")
    wavs = sorted(p for p in folder.rglob("*.wav") if p.is_file())
    if not wavs:
        raise DataError(f"{folder}: no .wav files (expected {what})")
    return wavs


def header(path: Path) -> int:
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as e:
        raise DataError(f"{path}: cannot read wav header ({e})") from None
    if info.samplerate != SR:
        raise DataError(f"{path}: sample rate {info.samplerate} Hz, expected {SR} Hz "
                        f"(the DNS 2020 data are 16 kHz)")
    return info.frames


def by_fileid(files: list[Path], folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for f in files:
        m = _FILEID.search(f.stem)
        if not m:
            raise DataError(f"{f}: name does not end in _fileid_<N>.wav")
        key = f"fileid_{int(m.group(1))}"
        if key in out:
            raise DataError(f"{folder}: two files for {key}: {out[key].name}, {f.name}")
        out[key] = f
    return out


def prepare_test(root: Path, condition: str, out: Path) -> int:
    base = root / "test_set" / "synthetic" / condition
    clean = by_fileid(find_wavs(base / "clean", "clean_fileid_<N>.wav"), base / "clean")
    noisy = by_fileid(find_wavs(base / "noisy", "<noise>_fileid_<N>.wav"), base / "noisy")
    for have, lack, name in ((clean, noisy, "noisy"), (noisy, clean, "clean")):
        missing = sorted(set(have) - set(lack), key=lambda k: int(k.split("_")[1]))
        if missing:
            raise DataError(f"{base / name}: no file for {missing[0]} (its pair "
                            f"{have[missing[0]]} exists; {len(missing)} missing in {name}/)")
    if len(clean) != PUBLISHED_TEST:
        warn(f"{base}: found {len(clean)} pairs, the published synthetic {condition} test set "
             f"has {PUBLISHED_TEST} (partial corpus?)")
    ids = sorted(clean)
    lengths = []
    for k in ids:
        n, m = header(clean[k]), header(noisy[k])
        if n != m:
            raise DataError(f"{noisy[k]}: {m} samples, its clean file {clean[k]} has {n}")
        lengths.append((k, n))
    DataDir.write(out, {k: str(noisy[k]) for k in ids}, [{k: str(clean[k]) for k in ids}],
                  source_names=["speech"], num_samples=lengths)
    snrs = {k: _SNR.search(noisy[k].stem) for k in ids}
    if all(snrs.values()):
        write_scp(out / "utt2snr", ((k, snrs[k].group(1)) for k in ids))
    elif (out / "utt2snr").exists():
        (out / "utt2snr").unlink()
    return len(ids)


def prepare_train(root: Path, data: Path, args) -> tuple[int, int, int]:
    clean = find_wavs(root / "clean", "the clean training speech")
    noise = find_wavs(root / "noise", "the training noise clips")
    rng = np.random.default_rng(args.seed)
    if args.dev_utts >= len(clean) or args.dev_noises >= len(noise):
        raise DataError(f"{root}: {len(clean)} clean and {len(noise)} noise files are too few "
                        f"to hold out --dev-utts {args.dev_utts} and --dev-noises "
                        f"{args.dev_noises}")
    dev_clean = set(rng.choice(len(clean), args.dev_utts, replace=False).tolist())
    dev_noise = set(rng.choice(len(noise), args.dev_noises, replace=False).tolist())

    def utt_id(p: Path, top: Path) -> str:
        return str(p.relative_to(top).with_suffix("")).replace(os.sep, "__").replace(" ", "_")

    train = [(utt_id(p, root / "clean"), p) for i, p in enumerate(clean) if i not in dev_clean]
    pool = [(utt_id(p, root / "noise"), p) for i, p in enumerate(noise) if i not in dev_noise]
    lengths = [(u, header(p)) for u, p in train]
    clean_t = {u: str(p) for u, p in train}
    DataDir.write(data / "train", clean_t, [clean_t], source_names=["speech"],
                  num_samples=lengths)
    DataDir.write(data / "train_noise", {u: str(p) for u, p in pool}, [])
    n_dev = make_dev([clean[i] for i in sorted(dev_clean)], [noise[i] for i in sorted(dev_noise)],
                     data / "dev", rng, args)
    return len(train), len(pool), n_dev


def make_dev(clean: list[Path], noise: list[Path], out: Path, rng, args) -> int:
    """Fixed dev mixtures of held-out clean files and held-out noises."""
    snr_lo, snr_hi = check_range(args.snr_range, "--snr-range")
    lvl_lo, lvl_hi = check_range(args.target_level, "--target-level", high=0.0)
    n = int(args.dev_seconds * SR)
    wav = out / "wav"
    wav.mkdir(parents=True, exist_ok=True)
    tables: dict[str, dict] = {k: {} for k in ("noisy", "clean", "noise", "snr", "length")}
    for i, c in enumerate(clean):
        header(c)
        s, _ = sf.read(str(c), dtype="float64", frames=n)
        z, _ = sf.read(str(noise[i % len(noise)]), dtype="float64")
        if s.ndim > 1 or z.ndim > 1:
            raise DataError(f"{c if s.ndim > 1 else noise[i % len(noise)]}: expected mono audio")
        z = np.tile(z, -(-len(s) // max(1, len(z))))[:len(s)]
        if not np.any(s) or not np.any(z):
            continue  # a silent file cannot be mixed at an SNR
        snr = float(rng.uniform(snr_lo, snr_hi))
        s, z = mix_at_snr(s, z, snr, float(rng.uniform(lvl_lo, lvl_hi)))
        utt = f"dev{i:04d}"
        for kind, x in (("noisy", s + z), ("clean", s), ("noise", z)):
            sf.write(str(wav / f"{utt}_{kind}.wav"), x.astype(np.float32), SR, subtype="FLOAT")
        for kind in ("noisy", "clean", "noise"):
            tables[kind][utt] = str(wav / f"{utt}_{kind}.wav")
        tables["snr"][utt], tables["length"][utt] = f"{snr:.2f}", len(s)
    if not tables["noisy"]:
        raise DataError(f"{out}: every held-out dev file was silent")
    DataDir.write(out, tables["noisy"], [tables["clean"]], source_names=["speech"],
                  noise=tables["noise"], num_samples=tables["length"])
    write_scp(out / "utt2snr", tables["snr"].items())
    return len(tables["noisy"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("dns_dir", help="the DNS-Challenge datasets/ folder (clean/, noise/, "
                                   "test_set/)")
    p.add_argument("data_dir", help="output: <data_dir>/{train,train_noise,dev,test_*}/")
    p.add_argument("--dev-utts", type=int, default=200)
    p.add_argument("--dev-noises", type=int, default=100)
    p.add_argument("--dev-seconds", type=float, default=10.0)
    p.add_argument("--snr-range", type=float, nargs=2, default=[0.0, 40.0])
    p.add_argument("--target-level", type=float, nargs=2, default=[-35.0, -15.0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-train", action="store_true", help="prepare only the test sets")
    return report_errors(PROG, lambda: prepare(p.parse_args(argv)))


def prepare(args: argparse.Namespace) -> None:
    root, data = Path(args.dns_dir).resolve(), Path(args.data_dir)
    if not root.is_dir():
        raise DataError(f"{root}: folder not found (expected the DNS Challenge datasets/ "
                        f"folder with clean/, noise/ and test_set/)")
    for cond in CONDITIONS:
        n = prepare_test(root, cond, data / f"test_{cond}")
        print(f"{PROG}: test_{cond}: {n} pairs", file=sys.stderr)
    if not args.skip_train:
        n_train, n_noise, n_dev = prepare_train(root, data, args)
        print(f"{PROG}: train: {n_train} clean files, train_noise: {n_noise} noise files, "
              f"dev: {n_dev} mixtures (held out of both)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
