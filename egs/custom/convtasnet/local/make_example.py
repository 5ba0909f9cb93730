#!/usr/bin/env python3
"""Two example folders for the custom recipe, made on this machine (nothing downloaded).

Usage: make_example.py [--speech N] [--music N] [--seed S] [--nj J] <out-dir>

  <out-dir>/speech/<voice>/<utt>.wav   N utterances of the mini corpus's synthetic voices
                                       (egs/mini/convtasnet/local/make_corpus.py), 16 kHz
                                       mono 16-bit WAV, in one folder per voice
  <out-dir>/music/<n>.flac             N 10 s pieces of egs/mini_enh's additive music
                                       synthesizer (melody and chords), 44.1 kHz stereo
                                       24-bit FLAC (so the recipe decodes, mixes down and
                                       resamples them)

Then: ./run.sh --target-dir <out-dir>/speech --interference-dir <out-dir>/music
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from sepcore.recipes import recipe_script
from sepcore.resample import resample


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--speech", type=int, default=400)
    p.add_argument("--music", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nj", type=int, default=2)
    args = p.parse_args(argv)
    # egs/mini_enh's corpus module: its noise generators and the mini speech synthesizer
    enh = recipe_script("mini_enh/convtasnet/local/make_corpus.py", "mini_enh_make_corpus")
    mini = enh.mini
    mini.check_tools()
    out = Path(args.out_dir).resolve()
    voices = mini.make_voices()
    sents = mini.make_sentences({"train": args.speech, "dev": 1, "test": 1}, args.seed)
    utts = mini.make_utts("train", voices, sents["train"], args.seed)
    with tempfile.TemporaryDirectory(prefix="custom-example-") as tmp:
        mini.synthesize(utts, Path(tmp), args.nj, enh.SR)
        for u in utts:
            dest = out / "speech" / u.voice.id / f"{u.id}.wav"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(Path(tmp) / "train" / "src" / f"{u.id}.wav"), dest)
    rng = np.random.default_rng([args.seed, 41])
    (out / "music").mkdir(parents=True, exist_ok=True)
    for k in range(args.music):
        x = enh.music(rng, int(10 * enh.SR))
        x = resample(x * 10 ** (-20 / 20) / (np.sqrt(np.mean(x**2)) + 1e-12), enh.SR, 44100)
        stereo = np.stack([x, np.roll(x, int(rng.integers(1, 200)))], axis=1)
        stereo *= min(1.0, 0.99 / np.abs(stereo).max())
        sf.write(out / "music" / f"piece{k:03d}.flac", stereo, 44100, subtype="PCM_24")
    print(f"make_example.py: {len(utts)} utterances in {out / 'speech'}, {args.music} pieces "
          f"in {out / 'music'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
