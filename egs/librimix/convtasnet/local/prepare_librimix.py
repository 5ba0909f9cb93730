#!/usr/bin/env python3
"""Data dirs for Libri2Mix / Libri3Mix (Cosentino et al. 2020) from their metadata CSVs.

Published layout (as written by LibriMix's ``generate_librimix.sh``):

    <root>/wav{8k,16k}/{min,max}/{train-360,train-100,dev,test}/
        {mix_clean,mix_both,mix_single,s1,s2[,s3],noise}/<mixture_ID>.wav
    <root>/wav{8k,16k}/{min,max}/metadata/mixture_<subset>_<mix_type>.csv
        columns: mixture_ID, mixture_path, source_1_path, source_2_path[, source_3_path]
                 [, noise_path], length

where <root> is the ``Libri2Mix`` / ``Libri3Mix`` folder (its parent is accepted too).
``mixture_ID`` joins the LibriSpeech utterance ids (``4077-13754-0001_5142-33396-0065``);
utt2spk maps it to the speaker of its first utterance (``4077``).

The CSVs hold absolute paths from the machine that generated the corpus. Each path is
resolved relative to the corpus root from its last three parts
(``<subset>/<folder>/<file>``), so a corpus that was moved or copied still works. Only
files under the corpus root are used: a file missing there is an error naming it (a
mixture missing with its sources: a partial corpus, a warning), never a silent fallback to
the CSV's absolute path, which may be another copy on another disk.

The number of speakers is checked against the corpus: a CSV with a ``source_3_path``
column or a subset with an ``s3/`` folder is Libri3Mix, and the error says to give
``--n-src 3`` (and the other way round); so is a multichannel mixture (LibriMix is mono).
The CSVs' ``length`` column is read as a number (``53560`` and ``53560.0`` alike).

Tasks (CSV → mixture, references [+ noise1.scp]):
    sep_clean  mix_clean → s1 s2 [s3]     sep_noisy  mix_both → s1 s2 [s3] (+noise)
    enh_single mix_single → s1 (+noise)

Only directory listings, the CSVs and the mixtures' wav headers are read.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys

import soundfile as sf

from sepcore.data import DataDir
from sepcore.errors import DataError

PROG = "prepare_librimix.py"
SUBSETS = ("train-360", "train-100", "dev", "test")
# LibriMix paper, table 1 (Libri3Mix train sets have fewer, longer mixtures)
PUBLISHED = {
    2: {"train-360": 50800, "train-100": 13900, "dev": 3000, "test": 3000},
    3: {"train-360": 33900, "train-100": 9300, "dev": 3000, "test": 3000},
}
RATES = {"8k": 8000, "16k": 16000}
# task: (mix type, number of references (None: all speakers), uses noise)
TASKS = {
    "sep_clean": ("mix_clean", None, False),
    "sep_noisy": ("mix_both", None, True),
    "enh_single": ("mix_single", 1, True),
}


def warn(msg: str) -> None:
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def find_root(corpus: str, num_sources: int, rate: str, mode: str) -> str:
    sub = os.path.join(f"wav{rate}", mode)
    for root in (os.path.join(corpus, sub), os.path.join(corpus, f"Libri{num_sources}Mix", sub)):
        if os.path.isdir(root):
            return root
    other = [k for k in PUBLISHED if k != num_sources
             and os.path.isdir(os.path.join(corpus, f"Libri{k}Mix", sub))]
    hint = (f"; {os.path.join(corpus, f'Libri{other[0]}Mix')} exists: for {other[0]} speakers "
            f"give {n_src_option(other[0])}" if other else "")
    raise DataError(
        f"{os.path.join(corpus, sub)}: folder not found (expected the Libri{num_sources}Mix layout "
        f"wav{{8k,16k}}/{{min,max}}/{{metadata,train-360,...}}/; also tried "
        f"{os.path.join(corpus, f'Libri{num_sources}Mix', sub)}){hint}"
    )


def n_src_option(n: int) -> str:
    return f"--n-src {n} (run.sh; local/prepare_data.sh --num-sources {n})"


def check_num_sources(root: str, subset: str, csv_path: str, header: list[str],
                      num_sources: int) -> None:
    """A corpus with another number of speakers than asked is an error saying which option
    to give: from the CSV's ``source_<k>_path`` columns, else from the ``s<k>/`` folders."""
    cols = [c for c in header if re.fullmatch(r"source_\d+_path", c)]
    folders = [d for d in ("s1", "s2", "s3", "s4")
               if os.path.isdir(os.path.join(root, subset, d))]
    from_csv = len(cols) if len(cols) > 1 else None  # mix_single lists one source only
    found = from_csv or (len(folders) if len(folders) > 1 else None)
    if found is None or found == num_sources:
        return
    evidence = (f"{csv_path}:1 has the columns {', '.join(cols)}" if from_csv else
                f"{os.path.join(root, subset)} has the folders {', '.join(folders)}")
    raise DataError(f"{evidence}: this is Libri{found}Mix, but {num_sources} sources were asked "
                    f"for: give {n_src_option(found)}")


class Resolver:
    """Map a CSV path to ``<root>/<subset>/<folder>/<file>``, checking folder listings."""

    def __init__(self, root: str):
        self.root = root
        self.listings: dict[str, set[str]] = {}

    def listing(self, folder: str) -> set[str]:
        if folder not in self.listings:
            if not os.path.isdir(folder):
                raise DataError(f"{folder}: folder not found (expected the corpus files there)")
            with os.scandir(folder) as it:
                self.listings[folder] = {e.name for e in it}
        return self.listings[folder]

    def expected(self, value: str) -> str:
        """Where the file a CSV names must be: ``<root>/<subset>/<folder>/<file>``."""
        parts = value.replace("\\", "/").rstrip("/").split("/")
        return os.path.join(self.root, *parts[-3:])

    def resolve(self, value: str) -> str | None:
        """The file under the corpus root, or None (never the CSV's absolute path: it may
        be another copy of the corpus, on another disk)."""
        path = self.expected(value)
        folder, name = os.path.split(path)
        if value.replace("\\", "/").count("/") < 2:
            return None
        return path if name in self.listing(folder) else None


def read_rows(path: str, columns: list[str],
              check=None) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and ``[(line, row), ...]`` of a CSV; ``check(header)`` runs first when a
    column is missing (to tell a corpus with another number of speakers)."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: metadata file not found (expected the LibriMix CSV "
                        f"mixture_<subset>_<mix_type>.csv)")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing and check is not None:
            check(list(reader.fieldnames or []))
        if missing:
            raise DataError(f"{path}:1: missing column(s) {', '.join(missing)} (header: "
                            f"{', '.join(reader.fieldnames or [])})")
        rows = [(lineno, row) for lineno, row in enumerate(reader, 2)]
        header = list(reader.fieldnames or [])
    if not rows:
        raise DataError(f"{path}: no mixtures listed (expected one row per mixture)")
    return header, rows


def prepare_set(root, subset, out, num_sources, task, rate) -> int:
    mix_type, n_ref, use_noise = TASKS[task]
    n_ref = n_ref or num_sources
    csv_path = os.path.join(root, "metadata", f"mixture_{subset}_{mix_type}.csv")
    ref_cols = [f"source_{i}_path" for i in range(1, n_ref + 1)]
    cols = ["mixture_ID", "mixture_path", *ref_cols] + (["noise_path"] if use_noise else [])
    def check(header):
        check_num_sources(root, subset, csv_path, header, num_sources)

    header, rows = read_rows(csv_path, cols + ["length"], check)
    check(header)
    res = Resolver(root)
    # the mixture folder itself must exist (a missing folder is an error, not a warning)
    res.listing(os.path.join(root, subset, mix_type))
    found: dict[str, list[str]] = {}
    utt2spk, lengths, absent, length_mismatch = [], [], [], []
    for lineno, row in rows:
        utt = row["mixture_ID"].strip()
        where = f"{csv_path}:{lineno}"
        if not utt or "-" not in utt or any(c.isspace() for c in utt):
            raise DataError(f"{where}: mixture_ID {utt!r} is not a LibriMix id "
                            f"(<spk>-<chapter>-<utt>_<spk>-<chapter>-<utt>...)")
        if utt in found:
            raise DataError(f"{where}: mixture_ID {utt} repeated")
        mix = res.resolve(row["mixture_path"])
        if mix is None:
            if os.path.isabs(row["mixture_path"]) and os.path.isfile(row["mixture_path"]):
                raise DataError(
                    f"{where}: {res.expected(row['mixture_path'])} not found under the corpus "
                    f"folder {root}, though the CSV's path {row['mixture_path']} exists (another "
                    "copy? only files under the corpus folder are used: give that folder, or "
                    "complete this copy)")
            absent.append(res.expected(row["mixture_path"]))
            continue
        paths = [mix]
        for col in cols[2:]:
            p = res.resolve(row[col])
            if p is None:
                raise DataError(f"{where}: {col}: {res.expected(row[col])} not found (the CSV "
                                f"says {row[col]}), but its mixture {mix} exists")
            paths.append(p)
        found[utt] = paths
        utt2spk.append((utt, utt.split("-", 1)[0]))
        try:
            info = sf.info(mix)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise DataError(f"{mix}: cannot read wav header ({e})") from None
        if info.samplerate != RATES[rate]:
            raise DataError(f"{mix}: sample rate {info.samplerate} Hz, expected {RATES[rate]} Hz "
                            f"for wav{rate}")
        if info.channels != 1:
            raise DataError(f"{mix}: {info.channels} channels; LibriMix is single-channel and "
                            "so are these recipes (expected mono wavs)")
        try:  # pandas writes lengths as 53560.0 when a column had a missing value
            csv_len = float(row["length"])
        except ValueError:
            raise DataError(f"{where}: length {row['length']!r} is not a number (expected "
                            "the mixture's length in samples)") from None
        if csv_len != info.frames:
            length_mismatch.append((where, row["length"], info.frames))
        lengths.append((utt, info.frames))
    published = PUBLISHED[num_sources][subset]
    if not found:
        raise DataError(f"{os.path.join(root, subset, mix_type)}: none of the {len(rows)} "
                        f"mixtures listed in {csv_path} found there")
    if absent:
        warn(f"{csv_path}: {len(absent)} of {len(rows)} listed mixtures not found in "
             f"{os.path.join(root, subset, mix_type)} (e.g. {absent[0]}); using the "
             f"{len(found)} found (partial corpus?)")
    if len(found) != published:
        warn(f"{os.path.join(root, subset, mix_type)}: found {len(found)} mixtures, the "
             f"published Libri{num_sources}Mix {subset} set has {published} (partial corpus?)")
    if length_mismatch:
        where, csv_len, frames = length_mismatch[0]
        warn(f"{len(length_mismatch)} mixture(s) differ in length from the CSV, e.g. {where}: "
             f"length {csv_len}, wav header {frames} (utt2num_samples uses the headers)")
    names = ["speech"] if task == "enh_single" else [f"spk{i}" for i in range(1, n_ref + 1)]
    DataDir.write(
        out, {u: p[0] for u, p in found.items()},
        [{u: p[i] for u, p in found.items()} for i in range(1, n_ref + 1)], source_names=names,
        noise={u: p[-1] for u, p in found.items()} if use_noise else None,
        utt2spk=utt2spk, num_samples=lengths,
    )
    return len(found)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("corpus_dir", help="the Libri2Mix/ or Libri3Mix/ folder (or its parent)")
    p.add_argument("data_dir", help="output: <data_dir>/<subset>/ for each subset")
    p.add_argument("--num-sources", type=int, choices=(2, 3), default=2,
                   help="2 (Libri2Mix) or 3 (Libri3Mix); run.sh's --n-src")
    p.add_argument("--task", choices=tuple(TASKS), default="sep_clean")
    p.add_argument("--sample-rate", choices=tuple(RATES), default="8k")
    p.add_argument("--mode", choices=("min", "max"), default="min")
    p.add_argument("--sets", default="train-360,dev,test",
                   help="comma-separated subsets of train-360,train-100,dev,test")
    args = p.parse_args(argv)
    try:
        sets = [s for s in args.sets.split(",") if s]
        bad = [s for s in sets if s not in SUBSETS]
        if bad or not sets:
            raise DataError(f"--sets: unknown subset(s) {bad or args.sets!r}; expected "
                            f"{','.join(SUBSETS)}")
        corpus = os.path.abspath(args.corpus_dir)
        root = find_root(corpus, args.num_sources, args.sample_rate, args.mode)
        for s in sets:
            n = prepare_set(root, s, os.path.join(args.data_dir, s), args.num_sources, args.task,
                            args.sample_rate)
            print(f"{PROG}: {args.task} {s}: {n} mixtures from {os.path.join(root, s)} -> "
                  f"{os.path.join(args.data_dir, s)}", file=sys.stderr)
    except DataError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
