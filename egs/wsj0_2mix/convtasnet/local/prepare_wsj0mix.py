#!/usr/bin/env python3
"""Data dirs for wsj0-2mix / wsj0-3mix (Hershey et al. 2016; Isik et al. 2016).

Published layout (as written by the MERL ``create_wav_{2,3}speakers.m`` scripts):

    <root>/wav{8k,16k}/{min,max}/{tr,cv,tt}/{mix,s1,s2[,s3]}/<name>.wav
    <name> = <utt1>_<snr1>_<utt2>_<snr2>[_<utt3>_<snr3>]   e.g. 01to030v_0.76421_20ga010m_-0.76421

where <root> is the ``2speakers`` / ``3speakers`` folder (its parent is accepted too).
The speaker of a WSJ0 utterance id is its first 3 characters; utt2spk maps a mixture
to the speaker of its first utterance (the speaker of s1).

Writes <data-dir>/<set>/{wav.scp, spk1.scp..spkN.scp, sources, utt2spk, utt2num_samples}.
Only directory listings and the mixtures' wav headers are read. A corpus with another
number of speakers than asked (an ``s3/`` folder for wsj0-2mix, none for wsj0-3mix; a
``3speakers/`` folder only) is an error naming the recipe to use; so is a multichannel
mixture (wsj0-mix is single-channel).
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import soundfile as sf

from sepcore.data import DataDir
from sepcore.errors import DataError

PROG = "prepare_wsj0mix.py"
SETS = ("tr", "cv", "tt")
PUBLISHED = {"tr": 20000, "cv": 5000, "tt": 3000}  # the same for 2 and 3 speakers
RATES = {"8k": 8000, "16k": 16000}
_SNR = r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?"


def warn(msg: str) -> None:
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def find_root(corpus: str, num_sources: int, rate: str, mode: str) -> str:
    """``<corpus>/wav8k/min`` or ``<corpus>/<N>speakers/wav8k/min``."""
    sub = os.path.join(f"wav{rate}", mode)
    for root in (os.path.join(corpus, sub), os.path.join(corpus, f"{num_sources}speakers", sub)):
        if os.path.isdir(root):
            return root
    other = [k for k in (2, 3) if k != num_sources
             and os.path.isdir(os.path.join(corpus, f"{k}speakers", sub))]
    hint = (f"; {os.path.join(corpus, f'{other[0]}speakers')} exists: that is wsj0-{other[0]}mix "
            f"({recipe(other[0])})" if other else "")
    raise DataError(
        f"{os.path.join(corpus, sub)}: folder not found (expected the wsj0-{num_sources}mix layout "
        f"<{num_sources}speakers>/wav{{8k,16k}}/{{min,max}}/{{tr,cv,tt}}/mix/*.wav; also tried "
        f"{os.path.join(corpus, f'{num_sources}speakers', sub)}){hint}"
    )


def recipe(n: int) -> str:
    return f"egs/wsj0_{n}mix, or local/prepare_data.sh --num-sources {n}"


def check_num_sources(split: str, num_sources: int) -> None:
    """The ``s<k>/`` folders of a split tell wsj0-2mix from wsj0-3mix."""
    found = [k for k in (1, 2, 3, 4) if os.path.isdir(os.path.join(split, f"s{k}"))]
    n = max(found, default=0)
    if n >= 2 and n != num_sources:
        raise DataError(f"{split} has the folders {', '.join(f's{k}' for k in found)}: this is "
                        f"wsj0-{n}mix, but {num_sources} speakers were asked for: use {recipe(n)}")


def list_wavs(folder: str) -> dict[str, str]:
    """``{name: path}`` of the *.wav files in ``folder``; a missing/empty folder is an error."""
    if not os.path.isdir(folder):
        raise DataError(f"{folder}: folder not found (expected *.wav files there)")
    with os.scandir(folder) as it:
        wavs = {e.name[:-4]: e.path for e in it if e.name.endswith(".wav")}
    if not wavs:
        raise DataError(f"{folder}: no .wav files (expected the mixtures/sources of this split)")
    return wavs


def speaker(name: str, num_sources: int, path: str) -> str:
    pattern = "_".join([rf"[^_]+_{_SNR}"] * num_sources)
    if not re.fullmatch(pattern, name):
        example = "_".join(f"<utt{i}>_<snr{i}>" for i in range(1, num_sources + 1))
        raise DataError(f"{path}: file name does not follow the wsj0-{num_sources}mix naming "
                        f"{example}.wav")
    return name[:3]


def prepare_set(root: str, set_name: str, out: str, num_sources: int, rate: str) -> int:
    split = os.path.join(root, set_name)
    check_num_sources(split, num_sources)
    mixes = list_wavs(os.path.join(split, "mix"))
    sources = [list_wavs(os.path.join(split, f"s{i}")) for i in range(1, num_sources + 1)]
    for i, src in enumerate(sources, 1):
        missing = sorted(set(mixes) - set(src))
        if missing:
            raise DataError(
                f"{os.path.join(split, f's{i}', missing[0] + '.wav')}: not found, but its mixture "
                f"{mixes[missing[0]]} exists ({len(missing)} source file(s) missing in s{i}/)"
            )
        extra = len(set(src) - set(mixes))
        if extra:
            warn(f"{os.path.join(split, f's{i}')}: {extra} file(s) without a mixture in mix/, "
                 f"ignored")
    expected = PUBLISHED[set_name]
    if len(mixes) != expected:
        warn(f"{os.path.join(split, 'mix')}: found {len(mixes)} mixtures, the published "
             f"wsj0-{num_sources}mix {set_name} set has {expected} (partial corpus?)")
    utt2spk, lengths = [], []
    for name, path in mixes.items():
        utt2spk.append((name, speaker(name, num_sources, path)))
        try:
            info = sf.info(path)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise DataError(f"{path}: cannot read wav header ({e})") from None
        if info.samplerate != RATES[rate]:
            raise DataError(f"{path}: sample rate {info.samplerate} Hz, expected "
                            f"{RATES[rate]} Hz for wav{rate}")
        if info.channels != 1:
            raise DataError(f"{path}: {info.channels} channels; wsj0-mix is single-channel "
                            "and so are these recipes (expected mono wavs)")
        lengths.append((name, info.frames))
    DataDir.write(out, mixes, [{n: src[n] for n in mixes} for src in sources],
                  utt2spk=utt2spk, num_samples=lengths)
    return len(mixes)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("corpus_dir", help="the 2speakers/ or 3speakers/ folder (or its parent)")
    p.add_argument("data_dir", help="output: <data_dir>/<set>/ for each set")
    p.add_argument("--num-sources", type=int, choices=(2, 3), default=2)
    p.add_argument("--sample-rate", choices=tuple(RATES), default="8k")
    p.add_argument("--mode", choices=("min", "max"), default="min")
    p.add_argument("--sets", default=",".join(SETS), help="comma-separated subset of tr,cv,tt")
    args = p.parse_args(argv)
    try:
        sets = [s for s in args.sets.split(",") if s]
        bad = [s for s in sets if s not in SETS]
        if bad or not sets:
            raise DataError(f"--sets: unknown set(s) {bad or args.sets!r}; expected tr,cv,tt")
        corpus = os.path.abspath(args.corpus_dir)
        root = find_root(corpus, args.num_sources, args.sample_rate, args.mode)
        for s in sets:
            n = prepare_set(root, s, os.path.join(args.data_dir, s), args.num_sources,
                            args.sample_rate)
            print(f"{PROG}: {s}: {n} mixtures from {os.path.join(root, s)} -> "
                  f"{os.path.join(args.data_dir, s)}", file=sys.stderr)
    except DataError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
