#!/usr/bin/env python3
"""Data dirs for WHAM! (Wichern et al. 2019) and, with --reverb, WHAMR! (Maciejewski et al. 2020).

Published layouts (as written by the corpora's ``create_wham{,r}_from_scratch.py``):

    WHAM!   <root>/wav{8k,16k}/{min,max}/{tr,cv,tt}/{mix_clean,mix_single,mix_both,s1,s2,noise}/
    WHAMR!  <root>/wav{8k,16k}/{min,max}/{tr,cv,tt}/
                {mix_clean,mix_single,mix_both,s1,s2}_{anechoic,reverb}/ and noise/

File names are the wsj0-2mix mixture names ``<utt1>_<snr1>_<utt2>_<snr2>.wav``; the
speaker of a WSJ0 utterance is its first 3 characters (utt2spk = speaker of s1).

Tasks (mixture → references [+ noise1.scp]):
    WHAM!   sep_clean  mix_clean → s1 s2        sep_noisy  mix_both → s1 s2 (+noise)
            enh_single mix_single → s1 (+noise) enh_both   mix_both → mix_clean (+noise)
    WHAMR!  the same tasks with the suffix _anechoic or _reverb (e.g. sep_noisy_reverb:
            mix_both_reverb → s1_anechoic s2_anechoic); every task targets the
            *anechoic* sources, so the reverberant tasks include dereverberation.

Only directory listings and the mixtures' wav headers are read. A WHAMR! folder given as
WHAM! (or the other way round) is an error saying which recipe to use, and so is a
multichannel mixture: WHAMR!'s generation scripts can also write binaural (2-channel)
files, but the recipes are single-channel, as the published results are. They refuse it
rather than keep channel 0: a model trained on one ear of the binaural rendering is not
the published single-channel WHAMR! task, and its numbers would not compare.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import soundfile as sf

from sepcore.data import DataDir
from sepcore.errors import DataError

PROG = "prepare_wham.py"
SETS = ("tr", "cv", "tt")
PUBLISHED = {"tr": 20000, "cv": 5000, "tt": 3000}
RATES = {"8k": 8000, "16k": 16000}
_NAME = re.compile(r"[^_]+_-?\d+(?:\.\d+)?(?:[eE]-?\d+)?_[^_]+_-?\d+(?:\.\d+)?(?:[eE]-?\d+)?")

# task: (mixture folder, reference folders, source names, uses noise)
WHAM_TASKS = {
    "sep_clean": ("mix_clean", ["s1", "s2"], ["spk1", "spk2"], False),
    "sep_noisy": ("mix_both", ["s1", "s2"], ["spk1", "spk2"], True),
    "enh_single": ("mix_single", ["s1"], ["speech"], True),
    "enh_both": ("mix_both", ["mix_clean"], ["speech"], True),
}


def whamr_tasks() -> dict:
    tasks = {}
    for task, (mix, refs, names, noise) in WHAM_TASKS.items():
        for cond in ("anechoic", "reverb"):
            tasks[f"{task}_{cond}"] = (f"{mix}_{cond}", [f"{r}_anechoic" for r in refs], names,
                                       noise)
    return tasks


def warn(msg: str) -> None:
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def list_wavs(folder: str) -> dict[str, str]:
    """``{name: path}`` of the *.wav files in ``folder``; a missing/empty folder is an error."""
    if not os.path.isdir(folder):
        raise DataError(f"{folder}: folder not found (expected *.wav files there)")
    with os.scandir(folder) as it:
        wavs = {e.name[:-4]: e.path for e in it if e.name.endswith(".wav")}
    if not wavs:
        raise DataError(f"{folder}: no .wav files (expected the files of this split)")
    return wavs


def check_corpus(split: str, mix_dir: str, corpus: str) -> None:
    """WHAM! folders given as WHAMR! (or the other way round) are an error naming the
    recipe that reads them."""
    if os.path.isdir(os.path.join(split, mix_dir)):
        return
    if corpus == "WHAM!" and os.path.isdir(os.path.join(split, f"{mix_dir}_anechoic")):
        raise DataError(f"{os.path.join(split, mix_dir)}: folder not found, but "
                        f"{mix_dir}_anechoic/ is there: this is WHAMR!; use egs/whamr "
                        "(local/prepare_data.sh --reverb true)")
    plain = mix_dir.rsplit("_", 1)[0]
    if corpus == "WHAMR!" and os.path.isdir(os.path.join(split, plain)):
        raise DataError(f"{os.path.join(split, mix_dir)}: folder not found, but {plain}/ is "
                        "there: this is WHAM!, not WHAMR!; use egs/wham (local/prepare_data.sh "
                        "--reverb false)")


def prepare_set(root: str, set_name: str, out: str, task: tuple, corpus: str, rate: str) -> int:
    mix_dir, ref_dirs, names, use_noise = task
    split = os.path.join(root, set_name)
    check_corpus(split, mix_dir, corpus)
    mixes = list_wavs(os.path.join(split, mix_dir))
    refs = [(d, list_wavs(os.path.join(split, d))) for d in ref_dirs]
    if use_noise:
        refs.append(("noise", list_wavs(os.path.join(split, "noise"))))
    for d, files in refs:
        missing = sorted(set(mixes) - set(files))
        if missing:
            raise DataError(
                f"{os.path.join(split, d, missing[0] + '.wav')}: not found, but its mixture "
                f"{mixes[missing[0]]} exists ({len(missing)} file(s) missing in {d}/)"
            )
    if len(mixes) != PUBLISHED[set_name]:
        warn(f"{os.path.join(split, mix_dir)}: found {len(mixes)} mixtures, the published "
             f"{corpus} {set_name} set has {PUBLISHED[set_name]} (partial corpus?)")
    utt2spk, lengths = [], []
    for name, path in mixes.items():
        if not _NAME.fullmatch(name):
            raise DataError(f"{path}: file name does not follow the wsj0-2mix naming "
                            f"<utt1>_<snr1>_<utt2>_<snr2>.wav")
        utt2spk.append((name, name[:3]))
        try:
            info = sf.info(path)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise DataError(f"{path}: cannot read wav header ({e})") from None
        if info.samplerate != RATES[rate]:
            raise DataError(f"{path}: sample rate {info.samplerate} Hz, expected "
                            f"{RATES[rate]} Hz for wav{rate}")
        if info.channels != 1:
            kind = "the binaural WHAMR! version? " if corpus == "WHAMR!" else ""
            raise DataError(f"{path}: {info.channels} channels ({kind}the {corpus} recipes "
                            "are single-channel, as the published results: generate the "
                            "single-channel corpus)")
        lengths.append((name, info.frames))
    DataDir.write(
        out, mixes, [{n: files[n] for n in mixes} for _, files in refs[: len(ref_dirs)]],
        source_names=names, noise={n: refs[-1][1][n] for n in mixes} if use_noise else None,
        utt2spk=utt2spk, num_samples=lengths,
    )
    return len(mixes)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("corpus_dir", help="the folder holding wav8k/ and/or wav16k/")
    p.add_argument("data_dir", help="output: <data_dir>/<set>/ for each set")
    p.add_argument("--reverb", action="store_true", help="the corpus is WHAMR!")
    p.add_argument("--task", default=None,
                   help="WHAM!: sep_clean (default), sep_noisy, enh_single, enh_both; "
                        "WHAMR!: the same + _anechoic or _reverb (default sep_clean_anechoic)")
    p.add_argument("--sample-rate", choices=tuple(RATES), default="8k")
    p.add_argument("--mode", choices=("min", "max"), default="min")
    p.add_argument("--sets", default=",".join(SETS), help="comma-separated subset of tr,cv,tt")
    args = p.parse_args(argv)
    corpus = "WHAMR!" if args.reverb else "WHAM!"
    tasks = whamr_tasks() if args.reverb else WHAM_TASKS
    task = args.task or ("sep_clean_anechoic" if args.reverb else "sep_clean")
    try:
        if task not in tasks:
            raise DataError(f"--task: unknown {corpus} task {task!r}; expected one of "
                            f"{', '.join(tasks)}")
        sets = [s for s in args.sets.split(",") if s]
        bad = [s for s in sets if s not in SETS]
        if bad or not sets:
            raise DataError(f"--sets: unknown set(s) {bad or args.sets!r}; expected tr,cv,tt")
        root = os.path.join(os.path.abspath(args.corpus_dir), f"wav{args.sample_rate}",
                            args.mode)
        if not os.path.isdir(root):
            raise DataError(f"{root}: folder not found (expected the {corpus} layout "
                            f"wav{{8k,16k}}/{{min,max}}/{{tr,cv,tt}}/ under {args.corpus_dir})")
        for s in sets:
            n = prepare_set(root, s, os.path.join(args.data_dir, s), tasks[task], corpus,
                            args.sample_rate)
            print(f"{PROG}: {task} {s}: {n} mixtures from {os.path.join(root, s)} -> "
                  f"{os.path.join(args.data_dir, s)}", file=sys.stderr)
    except DataError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
