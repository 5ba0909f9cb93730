#!/usr/bin/env python3
"""Data dirs of the DeMask recipe: clean training speech, fixed masked dev and test files.

Usage: make_data.py [options] --masks conf/masks.yaml <corpus-dir> <data-root>

Clean speech comes from one of
  (default)            the mini speech corpus's synthetic voices (egs/mini/convtasnet/
                       local/make_corpus.py, at 16 kHz, as egs/mini_enh synthesizes them):
                       train, dev and test voices and sentences disjoint; nothing downloaded
  --librispeech-dir D  LibriSpeech: D/train-clean-360 (training), D/dev-clean, D/test-clean
                       (<split>/<speaker>/<chapter>/*.flac); a missing folder is an error
                       naming it, fewer files than published a warning

Dev and test are fixed on disk: each clean utterance filtered by one mask response of
--masks (cycled over the mask types, so every type has the same number of files),
jittered by --jitter-db, plus white noise at an SNR uniform in --snr-range, made by
sepcore.data.masked.mask_example (what training draws on the fly), 16-bit at 16 kHz.

Output:
  <data-root>/train/{wav.scp,spk1.scp,utt2spk,utt2num_samples,sources}  (wav = clean)
  <data-root>/{dev,test}/{wav.scp (masked),spk1.scp (clean),utt2mask_type,utt2snr,utt2spk,
                          utt2num_samples,sources}
  <corpus-dir>/{dev,test}/{masked,clean}/<utt>.wav  (and the mini corpus's sources)
The same options give byte-identical files.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from sepcore.data import DataDir
from sepcore.data.mask_filters import fir_taps, jitter_db, load_mask_responses, select_masks
from sepcore.data.masked import mask_example
from sepcore.errors import DataError, SepcoreError
from sepcore.io import write_scp
from sepcore.recipes import recipe_script

SR = 16000
# LibriSpeech's published utterance counts (openslr.org/12)
LIBRISPEECH = {"train": ("train-clean-360", 104014), "dev": ("dev-clean", 2703),
               "test": ("test-clean", 2620)}


def mini_speech(corpus: Path, counts: dict[str, int], seed: int, nj: int):
    """``{split: [(utt, path, speaker, samples)]}`` of freshly synthesized mini voices."""
    mini = recipe_script("mini/convtasnet/local/make_corpus.py", "mini_make_corpus")
    mini.check_tools()
    voices = mini.make_voices()
    sents = mini.make_sentences(counts, seed)
    utts = {s: mini.make_utts(s, voices, sents[s], seed) for s in mini.SPLITS}
    lengths = mini.synthesize([u for s in mini.SPLITS for u in utts[s]], corpus, nj, SR)
    return {s: [(u.id, str(corpus / s / "src" / f"{u.id}.wav"), u.voice.id, lengths[u.id])
                for u in utts[s]] for s in mini.SPLITS}


def librispeech_speech(root: Path):
    """``{split: [(utt, path, speaker, samples)]}`` of a LibriSpeech folder."""
    out = {}
    for split, (folder, expected) in LIBRISPEECH.items():
        d = root / folder
        if not d.is_dir():
            raise DataError(f"{d}: LibriSpeech folder not found (--librispeech-dir {root} "
                            f"must hold {', '.join(f for f, _ in LIBRISPEECH.values())})")
        files = sorted(d.rglob("*.flac"))
        if not files:
            raise DataError(f"{d}: no .flac files (expected {folder}/<speaker>/<chapter>/"
                            f"<speaker>-<chapter>-<n>.flac)")
        if len(files) < expected:
            print(f"make_data.py: warning: {d}: {len(files)} utterances, the published "
                  f"{folder} has {expected} (partial copy?)", file=sys.stderr)
        rows = []
        for f in files:
            info = sf.info(str(f))
            if info.samplerate != SR:
                raise DataError(f"{f}: {info.samplerate} Hz, LibriSpeech is {SR} Hz")
            rows.append((f.stem, str(f.resolve()), f.relative_to(d).parts[0], info.frames))
        out[split] = rows
    return out


def write_train(rows, data_root: Path) -> None:
    clean = {u: p for u, p, _, _ in rows}
    DataDir.write(data_root / "train", clean, [clean], source_names=["speech"],
                  num_samples={u: n for u, _, _, n in rows},
                  utt2spk={u: s for u, _, s, _ in rows})


def write_masked(split, rows, masks, args, corpus: Path, data_root: Path) -> None:
    """Fixed masked files: mask types cycled over the utterances, seeded per split."""
    rng = np.random.default_rng([args.seed, 21, ("dev", "test").index(split)])
    numtaps = fir_taps(SR, args.fir_ms)
    for d in ("masked", "clean"):
        (corpus / split / d).mkdir(parents=True, exist_ok=True)
    wav, spk1, u2mask, u2snr, u2spk, u2n = {}, {}, {}, {}, {}, {}
    for i, (utt, path, spk, _) in enumerate(rows):
        mask = masks[i % len(masks)]
        clean, sr = sf.read(path, dtype="float64")
        if sr != SR:
            raise DataError(f"{path}: {sr} Hz, expected {SR} Hz")
        snr = float(np.round(rng.uniform(*args.snr_range), 1))
        context = np.pad(clean, numtaps)
        mixture, target = mask_example(context, jitter_db(mask, rng, args.jitter_db), SR,
                                       numtaps, numtaps, snr, None, rng)
        uid = f"{spk}_{mask.name}_{split}{i:04d}_{utt}"
        for d, y in (("masked", mixture), ("clean", target)):
            sf.write(corpus / split / d / f"{uid}.wav", y, SR, subtype="PCM_16")
        wav[uid] = str(corpus / split / "masked" / f"{uid}.wav")
        spk1[uid] = str(corpus / split / "clean" / f"{uid}.wav")
        u2mask[uid], u2snr[uid], u2spk[uid], u2n[uid] = mask.name, f"{snr:g}", spk, len(target)
    ddir = data_root / split
    DataDir.write(ddir, wav, [spk1], source_names=["speech"], num_samples=u2n, utt2spk=u2spk)
    write_scp(ddir / "utt2mask_type", u2mask.items())
    write_scp(ddir / "utt2snr", u2snr.items())


def subset(rows, count: int, seed: int, split: str):
    """``count`` rows drawn without replacement (0: all), in their original order."""
    if not count or count >= len(rows):
        return rows
    rng = np.random.default_rng([seed, 22, ("dev", "test").index(split)])
    keep = np.sort(rng.choice(len(rows), size=count, replace=False))
    return [rows[i] for i in keep]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus_dir")
    p.add_argument("data_root")
    p.add_argument("--masks", required=True, help="YAML file of mask responses")
    p.add_argument("--mask-types", default=None, help="comma-separated (default: all)")
    p.add_argument("--librispeech-dir", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nj", type=int, default=2)
    p.add_argument("--train-utts", type=int, default=1500, help="mini corpus only")
    p.add_argument("--dev-utts", type=int, default=63, help="0: all (LibriSpeech)")
    p.add_argument("--test-utts", type=int, default=180, help="0: all (LibriSpeech)")
    p.add_argument("--jitter-db", type=float, default=1.5)
    p.add_argument("--fir-ms", type=float, default=32.0)
    p.add_argument("--snr-range", type=float, nargs=2, default=(10.0, 40.0))
    args = p.parse_args(argv)
    try:
        return run(args)
    except SepcoreError as e:
        print(f"make_data.py: error: {e}", file=sys.stderr)
        return 1


def run(args) -> int:
    t0 = time.time()
    masks = select_masks(load_mask_responses(args.masks, "--masks"), args.mask_types,
                         "--mask-types")
    corpus, data_root = Path(args.corpus_dir).resolve(), Path(args.data_root)
    for folder in (corpus, *(data_root / s for s in ("train", "dev", "test"))):
        shutil.rmtree(folder, ignore_errors=True)  # a partial run or other options: redo
    corpus.mkdir(parents=True, exist_ok=True)
    if args.librispeech_dir:
        speech = librispeech_speech(Path(args.librispeech_dir))
    else:
        speech = mini_speech(corpus, {"train": args.train_utts, "dev": args.dev_utts,
                                      "test": args.test_utts}, args.seed, args.nj)
    write_train(speech["train"], data_root)
    for split, count in (("dev", args.dev_utts), ("test", args.test_utts)):
        write_masked(split, subset(speech[split], count, args.seed, split), masks, args,
                     corpus, data_root)
    for split in ("train", "dev", "test"):
        n = len(DataDir.load(data_root / split).utts)
        print(f"make_data.py: {split}: {n} utterances")
    print(f"make_data.py: mask types {', '.join(m.name for m in masks)}; "
          f"{time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
