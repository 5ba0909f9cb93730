#!/usr/bin/env python3
"""Synthesize the mini corpus: many synthetic voices, 2-speaker mixtures, Kaldi-style data dirs.

Usage: make_corpus.py [options] <corpus-dir> <data-root>

Every utterance is synthesized by one "base voice" (an espeak-ng language x variant
combination, a flite voice, or the festival voice), then given a random vocal-tract
warp (sox ``speed a`` then ``tempo 1/a``: formants and pitch move by ``a``, the duration
stays), a random pitch and speaking rate, resampled to 8 kHz, trimmed of leading and
trailing silence and normalized in level. The base voices are split disjointly into
train / dev / test, so dev and test speakers are never heard in training; the
sentences of the three splits are disjoint too.

Mixtures follow wsj0-2mix "min": two utterances of different base voices, relative
level uniform in [-5, 5] dB, cut to the shorter one. For train, utterances of similar
length are paired so that the cut loses little; the training recipe re-draws pairs on
the fly (dynamic mixing) from these sources.

Output:
  <corpus-dir>/<split>/src/<utt>.wav       single-speaker utterances (the pool)
  <corpus-dir>/<split>/{mix,s1,s2}/<mix>.wav  mixtures and their scaled sources
  <corpus-dir>/<split>/utts.tsv, mixtures.tsv  what was generated (voice, warp, text ...)
  <data-root>/<split>/{wav.scp,spk1.scp,spk2.scp,utt2spk,utt2spks,utt2num_samples}
utt2spk maps a mixture to the base voice of its first source (the unit that is
disjoint between splits), utt2spks to the voices of both (dynamic mixing pairs
different voices with it). Mixture ids are ``<voice1>_<voice2>_<split><n>``.

The same --seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from sepcore.data import DataDir
from sepcore.errors import ConfigError

HERE = Path(__file__).resolve().parent
SPLITS = ("train", "dev", "test")

# Latin-script espeak-ng languages; English text is read with each language's phonology.
ESPEAK_LANGS = (
    "en-us en-gb en-gb-scotland en-gb-x-rp en-029 en-us-nyc de fr-fr es es-419 it nl pt pt-br "
    "pl cs sk sv da nb fi hu ro hr tr id sw af eo la cy ga is et lv lt sq ca eu ms sl mt"
).split()
# Variants left out: whisper voices have no voicing; "Mr serious" has a space in its name.
ESPEAK_SKIP_VARIANTS = {"whisper", "whisperf", "Mr serious"}
# (synthesizer, voice name, split). kal is the 8 kHz build of kal16 (same speaker): unused.
FIXED_VOICES = (
    ("flite", "awb", "train"),
    ("flite", "kal16", "train"),
    ("flite", "rms", "dev"),
    ("flite", "slt", "test"),
    ("festival", "ked", "test"),
)
NUM_ESPEAK = {"dev": 6, "test": 8}  # espeak base voices held out; the rest is train
VOICE_SPLIT_SEED = 20261121  # the voice split does not depend on --seed

WARP_RANGE = (0.85, 1.2)
ESPEAK_PITCH = (20, 80)
ESPEAK_RATE = (135, 195)  # words per minute
FLITE_F0 = (85, 190)  # Hz, int_f0_target_mean
STRETCH = (0.85, 1.2)  # duration_stretch for flite/festival
WORDS_PER_SENTENCE = (5, 10)
LEVEL_RANGE_DB = 5.0
TARGET_RMS_DB = -26.0
MIX_PEAK = 0.9


@dataclass(frozen=True)
class Voice:
    id: str  # e.g. espeak-de-andy, flite-awb, festival-ked
    synth: str
    name: str  # espeak: "lang+variant"
    split: str


@dataclass
class Utt:
    id: str
    split: str
    voice: Voice
    text: str
    warp: float
    pitch: int  # espeak pitch 0-99 / flite mean F0 in Hz / 0 for festival
    rate: float  # espeak words per minute / flite+festival duration stretch


def espeak_variants() -> list[str]:
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True)
    if out.returncode != 0:
        raise ConfigError("espeak-ng --voices=variant failed: is espeak-ng installed?")
    names = []
    for line in out.stdout.splitlines()[1:]:
        # columns: Pty Language Age/Gender VoiceName File; the file is "!v/<name>"
        if "!v/" not in line:
            continue
        file = line[line.index("!v/") + 3:].strip()
        if file and file not in ESPEAK_SKIP_VARIANTS:
            names.append(file)
    return sorted(set(names))


def check_tools() -> None:
    for prog in ("sox", "espeak-ng", "flite", "festival"):
        if shutil.which(prog) is None:
            raise ConfigError(f"program '{prog}' not found: run tools/install.sh")
    have = subprocess.run(["flite", "-lv"], capture_output=True, text=True).stdout.split()
    for synth, name, _ in FIXED_VOICES:
        if synth == "flite" and name not in have:
            raise ConfigError(f"flite voice '{name}' missing (flite -lv lists: {' '.join(have)})")
    if not list(Path("/usr/share/festival/voices").glob("*/ked_diphone")):
        raise ConfigError("festival voice ked_diphone missing: apt-get install festvox-kdlpc16k")


def make_voices() -> list[Voice]:
    variants = espeak_variants()
    langs = set(
        line.split()[1]
        for line in subprocess.run(
            ["espeak-ng", "--voices"], capture_output=True, text=True
        ).stdout.splitlines()[1:]
    )
    missing = [lang for lang in ESPEAK_LANGS if lang not in langs]
    if missing:
        raise ConfigError(f"espeak-ng lacks languages {missing}")
    rng = np.random.default_rng(VOICE_SPLIT_SEED)
    variants = [variants[i] for i in rng.permutation(len(variants))]
    lang_order = [ESPEAK_LANGS[i] for i in rng.permutation(len(ESPEAK_LANGS))]
    voices = []
    n_dev, n_test = NUM_ESPEAK["dev"], NUM_ESPEAK["test"]
    for i, var in enumerate(variants):
        split = "test" if i < n_test else "dev" if i < n_test + n_dev else "train"
        lang = lang_order[i % len(lang_order)]
        vid = "espeak-" + lang + "-" + "".join(c for c in var.lower() if c.isalnum())
        voices.append(Voice(vid, "espeak", f"{lang}+{var}", split))
    for synth, name, split in FIXED_VOICES:
        voices.append(Voice(f"{synth}-{name}", synth, name, split))
    ids = [v.id for v in voices]
    assert len(set(ids)) == len(ids), "duplicate voice ids"
    return sorted(voices, key=lambda v: v.id)


def make_sentences(counts: dict[str, int], seed: int) -> dict[str, list[str]]:
    words = (HERE / "words.txt").read_text().split()
    rng = np.random.default_rng([seed, 1])
    seen: set[str] = set()
    out = {}
    for split in SPLITS:
        sents = []
        while len(sents) < counts[split]:
            n = int(rng.integers(WORDS_PER_SENTENCE[0], WORDS_PER_SENTENCE[1] + 1))
            s = " ".join(words[j] for j in rng.integers(0, len(words), n))
            if s not in seen:
                seen.add(s)
                sents.append(s)
        out[split] = sents
    return out


def make_utts(split: str, voices: list[Voice], sents: list[str], seed: int) -> list[Utt]:
    rng = np.random.default_rng([seed, 2, SPLITS.index(split)])
    vs = [v for v in voices if v.split == split]
    utts = []
    order = rng.permutation(len(vs))
    for i, text in enumerate(sents):
        if i % len(vs) == 0 and i:
            order = rng.permutation(len(vs))
        v = vs[order[i % len(vs)]]
        warp = float(rng.uniform(*WARP_RANGE))
        if v.synth == "espeak":
            pitch, rate = int(rng.integers(ESPEAK_PITCH[0], ESPEAK_PITCH[1] + 1)), float(
                rng.integers(ESPEAK_RATE[0], ESPEAK_RATE[1] + 1))
        elif v.synth == "flite":
            pitch, rate = int(rng.integers(FLITE_F0[0], FLITE_F0[1] + 1)), float(
                round(rng.uniform(*STRETCH), 3))
        else:
            pitch, rate = 0, float(round(rng.uniform(*STRETCH), 3))
        utts.append(Utt(f"{v.id}-{split}{i:05d}", split, v, text, round(warp, 4), pitch, rate))
    return utts


def synth_cmd(u: Utt, raw_dir: str, sample_rate: int = 8000) -> str:
    """Shell pipeline writing a mono float wav at ``sample_rate`` to stdout."""
    post = (
        f"sox -R -v 0.5 -t wav - -t wav -e floating-point -b 32 -c 1 - "
        f"speed {u.warp:.4f} rate {sample_rate} tempo -s {1.0 / u.warp:.6f}"
    )
    text = u.text.replace("'", "")
    if u.voice.synth == "espeak":
        return (
            f"espeak-ng -v '{u.voice.name}' -p {u.pitch} -s {int(u.rate)} --stdout '{text}' "
            f"| {post}"
        )
    if u.voice.synth == "flite":
        wav = os.path.join(raw_dir, u.id + ".wav")
        return (
            f"flite -voice {u.voice.name} --setf int_f0_target_mean={u.pitch} "
            f"--setf duration_stretch={u.rate} -t '{text}' -o {wav} && cat {wav} | {post}"
        )
    wav = os.path.join(raw_dir, u.id + ".wav")  # festival: synthesized beforehand in one batch
    return f"cat {wav} | {post}"


def festival_batch(utts: list[Utt], raw_dir: str) -> subprocess.Popen | None:
    todo = [u for u in utts if u.voice.synth == "festival"]
    if not todo:
        return None
    lines = ["(voice_ked_diphone)"]
    for u in todo:
        wav = os.path.join(raw_dir, u.id + ".wav")
        lines.append(f"(Parameter.set 'Duration_Stretch {u.rate})")
        lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{u.text}")) "{wav}" \'riff)')
    script = os.path.join(raw_dir, "festival.scm")
    Path(script).write_text("\n".join(lines) + "\n")
    return subprocess.Popen(
        ["festival", "--batch", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def trim_and_normalize(x: np.ndarray, sr: int) -> np.ndarray:
    frame = sr // 100
    n = len(x) // frame
    if n == 0:
        return x
    e = (x[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
    active = np.nonzero(e > e.max() * 10 ** (-40 / 10))[0]
    pad = 5  # 50 ms
    start = max(0, (active[0] - pad)) * frame
    end = min(len(x), (active[-1] + 1 + pad) * frame)
    x = x[start:end].astype(np.float64)
    # level: RMS of the active frames
    seg = x[: (len(x) // frame) * frame].reshape(-1, frame)
    fe = (seg**2).mean(axis=1)
    act = fe[fe > fe.max() * 10 ** (-40 / 10)]
    rms = math.sqrt(float(act.mean())) if act.size else 1.0
    x = x * (10 ** (TARGET_RMS_DB / 20) / rms)
    peak = float(np.abs(x).max())
    if peak > 0.99:
        x *= 0.99 / peak
    return x


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def synth_one(u: Utt, raw_dir: str, out_wav: str, sample_rate: int = 8000) -> int:
    cmd = synth_cmd(u, raw_dir, sample_rate)
    p = subprocess.run(cmd, shell=True, capture_output=True)
    if p.returncode != 0 or not p.stdout:
        raise RuntimeError(f"synthesis of {u.id} failed: {cmd}\n{p.stderr.decode()[-500:]}")
    import io

    x, sr = sf.read(io.BytesIO(p.stdout), dtype="float64")
    if sr != sample_rate:
        raise RuntimeError(f"{u.id}: expected {sample_rate} Hz from sox, got {sr}")
    y = to_int16(trim_and_normalize(x, sr))
    sf.write(out_wav, y, sr, subtype="PCM_16")
    return len(y)


def synthesize(utts: list[Utt], corpus: Path, nj: int, sample_rate: int = 8000) -> dict[str, int]:
    """Synthesize every utterance to ``<corpus>/<split>/src/<utt>.wav``; return lengths."""
    lengths: dict[str, int] = {}
    with tempfile.TemporaryDirectory(dir=corpus, prefix=".raw.") as raw_dir:
        fest = festival_batch(utts, raw_dir)
        for s in sorted({u.split for u in utts}):
            (corpus / s / "src").mkdir(parents=True, exist_ok=True)

        def job(u):
            out = str(corpus / u.split / "src" / f"{u.id}.wav")
            return u.id, synth_one(u, raw_dir, out, sample_rate)

        first = [u for u in utts if u.voice.synth != "festival"]
        later = [u for u in utts if u.voice.synth == "festival"]
        with ThreadPoolExecutor(max_workers=max(1, nj)) as ex:
            lengths.update(ex.map(job, first))
            if fest is not None:
                _, err = fest.communicate()
                if fest.returncode != 0:
                    raise RuntimeError(f"festival failed: {err.decode()[-500:]}")
            lengths.update(ex.map(job, later))
    return lengths


def pair_utts(utts: list[Utt], lengths: dict[str, int], rng, by_length: bool) -> list[tuple]:
    """Pair utterances of different voices, each utterance used at most once."""
    if by_length:
        order = sorted(utts, key=lambda u: (lengths[u.id], u.id))
    else:
        order = [utts[i] for i in rng.permutation(len(utts))]
    pairs, pending = [], []
    for u in order:
        partner = next((p for p in pending if p.voice.id != u.voice.id), None)
        if partner is None:
            pending.append(u)
            if len(pending) > 20:  # cannot pair (one voice left): drop the oldest
                pending.pop(0)
        else:
            pending.remove(partner)
            pairs.append((partner, u) if rng.random() < 0.5 else (u, partner))
    return pairs


def write_split(split, utts, lengths, corpus, data_root, seed) -> tuple[int, float]:
    rng = np.random.default_rng([seed, 3, SPLITS.index(split)])
    pairs = pair_utts(utts, lengths, rng, by_length=(split == "train"))
    sdir = corpus / split
    for d in ("mix", "s1", "s2"):
        (sdir / d).mkdir(parents=True, exist_ok=True)
    wav, spk1, spk2, u2s, u2ss, u2n, rows = [], [], [], [], [], [], []
    for a, b in pairs:
        xa, _ = sf.read(sdir / "src" / f"{a.id}.wav", dtype="float64")
        xb, _ = sf.read(sdir / "src" / f"{b.id}.wav", dtype="float64")
        n = min(len(xa), len(xb))
        xa, xb = xa[:n], xb[:n]
        level = float(rng.uniform(-LEVEL_RANGE_DB, LEVEL_RANGE_DB))  # level of s1 over s2
        ra = math.sqrt(float((xa**2).mean())) + 1e-9
        rb = math.sqrt(float((xb**2).mean())) + 1e-9
        xa = xa * (10 ** (TARGET_RMS_DB / 20) / ra) * 10 ** (level / 40)
        xb = xb * (10 ** (TARGET_RMS_DB / 20) / rb) * 10 ** (-level / 40)
        peak = float(np.abs(xa + xb).max())
        if peak > MIX_PEAK:
            xa, xb = xa * (MIX_PEAK / peak), xb * (MIX_PEAK / peak)
        ia, ib = to_int16(xa), to_int16(xb)
        mix = (ia.astype(np.int32) + ib.astype(np.int32)).astype(np.int16)  # exact: s1+s2
        mid = f"{a.voice.id}_{b.voice.id}_{split}{len(rows):05d}"
        for d, y in (("mix", mix), ("s1", ia), ("s2", ib)):
            sf.write(sdir / d / f"{mid}.wav", y, 8000, subtype="PCM_16")
        wav.append((mid, str(sdir / "mix" / f"{mid}.wav")))
        spk1.append((mid, str(sdir / "s1" / f"{mid}.wav")))
        spk2.append((mid, str(sdir / "s2" / f"{mid}.wav")))
        u2s.append((mid, a.voice.id))
        u2ss.append((mid, f"{a.voice.id} {b.voice.id}"))
        u2n.append((mid, str(n)))
        rows.append(f"{mid}\t{a.id}\t{b.id}\t{level:.3f}\t{n}")
    (sdir / "mixtures.tsv").write_text(
        "mix\tutt1\tutt2\tlevel_db\tnum_samples\n" + "\n".join(sorted(rows)) + "\n"
    )
    DataDir.write(data_root / split, wav, [spk1, spk2], utt2spk=u2s, utt2spks=u2ss,
                  num_samples=u2n)
    return len(pairs), sum(int(v) for _, v in u2n) / 8000 / 60


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus_dir")
    p.add_argument("data_root")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nj", type=int, default=2)
    p.add_argument("--train-utts", type=int, default=2000)
    p.add_argument("--dev-mixtures", type=int, default=100)
    p.add_argument("--test-mixtures", type=int, default=250)
    args = p.parse_args(argv)
    t0 = time.time()
    check_tools()
    corpus, data_root = Path(args.corpus_dir).resolve(), Path(args.data_root)
    for folder in (*(corpus / s for s in SPLITS), *(data_root / s for s in SPLITS)):
        shutil.rmtree(folder, ignore_errors=True)  # a partial run or other options: redo
    voices = make_voices()
    counts = {"train": args.train_utts, "dev": 2 * args.dev_mixtures,
              "test": 2 * args.test_mixtures}
    sents = make_sentences(counts, args.seed)
    utts = {s: make_utts(s, voices, sents[s], args.seed) for s in SPLITS}
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "voices.tsv").write_text(
        "voice\tsynth\tname\tsplit\n"
        + "".join(f"{v.id}\t{v.synth}\t{v.name}\t{v.split}\n" for v in voices)
    )
    lengths = synthesize([u for s in SPLITS for u in utts[s]], corpus, args.nj)
    t_synth = time.time() - t0
    for s in SPLITS:
        (corpus / s / "utts.tsv").write_text(
            "utt\tvoice\twarp\tpitch\trate\tnum_samples\ttext\n" + "".join(
                f"{u.id}\t{u.voice.id}\t{u.warp}\t{u.pitch}\t{u.rate}\t{lengths[u.id]}\t{u.text}\n"
                for u in sorted(utts[s], key=lambda u: u.id)
            )
        )
    for s in SPLITS:
        nvo = len({u.voice.id for u in utts[s]})
        speech = sum(lengths[u.id] for u in utts[s]) / 8000 / 60
        nmix, mix_min = write_split(s, utts[s], lengths, corpus, data_root, args.seed)
        print(f"make_corpus.py: {s}: {nvo} voices, {len(utts[s])} utterances "
              f"({speech:.1f} min of speech), {nmix} mixtures ({mix_min:.1f} min)")
    print(f"make_corpus.py: synthesis {t_synth:.1f} s, total {time.time() - t0:.1f} s "
          f"({args.nj} jobs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
