#!/usr/bin/env python3
"""Synthesize the mini noisy-speech corpus: synthetic voices + locally generated noises, 16 kHz.

Usage: make_corpus.py [options] <corpus-dir> <data-root>

Speech comes from the mini separation corpus's synthesizers
(egs/mini/convtasnet/local/make_corpus.py: espeak-ng, flite and festival base voices with
random vocal-tract warp, pitch and rate; its voice split, so train, dev and test voices
are disjoint), synthesized here at 16 kHz. Noises are generated with numpy:

  train and dev types: white, pink, brown (coloured noise), modulated (noise under a
      sinusoidal or on/off envelope), hum (50/60 Hz and harmonics), clicks (sparse
      decaying resonances), babble (4-7 training utterances of other voices summed)
  test types, never in training or dev: blue (rising coloured noise), music (additive
      synthesizer: melody and chords), siren (swept tone with harmonics), rain (dense
      crackle over a noise bed)

Training mixtures are made on the fly (data.dataset: noisy) from data/train (clean
utterances) and data/train_noise (the noise pool). Dev and test mixtures are fixed on
disk on the SNR grid (-5, 0, 5, 10, 15 dB: speech power over noise power of the whole
utterance), the speech at its normalized level (-26 dBFS active RMS), scaled down
together with the noise where the mixture would clip; the mixture is exactly
spk1 + noise1 in 16-bit samples.

Output:
  <corpus-dir>/{train,dev,test}/src/<utt>.wav  clean utterances
  <corpus-dir>/train_noise/<id>.wav            the training noise pool
  <corpus-dir>/{dev,test}/{mix,speech,noise}/<id>.wav
  <data-root>/train/{wav.scp,spk1.scp,utt2spk,sources}   (wav.scp = the clean speech)
  <data-root>/train_noise/{wav.scp,utt2noise_type}
  <data-root>/{dev,test}/{wav.scp,spk1.scp,noise1.scp,utt2spk,utt2snr,utt2noise_type,
                          utt2num_samples,sources}
The same --seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import fftconvolve, lfilter

from sepcore.data import DataDir
from sepcore.data.noisy import mix_at_snr
from sepcore.io import write_scp
from sepcore.recipes import recipe_script

SR = 16000
SNR_GRID = (-5, 0, 5, 10, 15)
TRAIN_TYPES = ("white", "pink", "brown", "modulated", "hum", "clicks", "babble")
TEST_TYPES = ("blue", "music", "siren", "rain")
NOISE_SECONDS = 6.0
PEAK = 0.99


mini = recipe_script("mini/convtasnet/local/make_corpus.py", "mini_make_corpus")


# ---------------------------------------------------------------------- noise generators
def coloured(rng, n, exponent):
    """Gaussian noise whose power spectrum goes as f**exponent (0 white, -1 pink, 1 blue)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    spec *= f ** (exponent / 2)
    return np.fft.irfft(spec, n)


def modulated(rng, n):
    base = coloured(rng, n, float(rng.choice([0.0, -1.0])))
    t = np.arange(n) / SR
    if rng.random() < 0.5:
        env = 1 + rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * rng.uniform(0.5, 6) * t
                                                 + rng.uniform(0, 2 * np.pi))
    else:  # bursts: on/off segments of 0.1-0.8 s
        env = np.zeros(n)
        pos, on = 0, bool(rng.random() < 0.5)
        while pos < n:
            step = int(rng.uniform(0.1, 0.8) * SR)
            env[pos:pos + step] = 1.0 if on else 0.05
            pos, on = pos + step, not on
        env = np.convolve(env, np.hanning(161) / np.hanning(161).sum(), mode="same")
    return base * env


def harmonics(freq_track, amplitudes, rng):
    """Sum of harmonics k * f(t) (f in Hz per sample) with the given amplitudes."""
    phase = 2 * np.pi * np.cumsum(freq_track) / SR
    out = np.zeros_like(freq_track)
    for k, a in enumerate(amplitudes, 1):
        if np.max(k * freq_track) < SR / 2 - 200:
            out += a * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    return out


def hum(rng, n):
    f0 = float(rng.choice([50.0, 60.0])) * rng.uniform(0.99, 1.01)
    count = int(rng.integers(5, 25))
    amps = rng.uniform(0.2, 1.0, count) * np.arange(1, count + 1) ** -rng.uniform(0.5, 1.5)
    return harmonics(np.full(n, f0), amps, rng) + 0.03 * coloured(rng, n, -1.0)


def decaying_impulses(rng, n, rate, freq, decay_ms):
    """Impulses at ``rate`` per second through a decaying resonance."""
    pulses = np.zeros(n)
    count = max(1, rng.poisson(rate * n / SR))
    pulses[rng.integers(0, n, count)] = rng.lognormal(0.0, 0.7, count) * rng.choice([-1, 1], count)
    t = np.arange(int(SR * 5 * decay_ms / 1000)) / SR
    kernel = np.exp(-t / (decay_ms / 1000)) * np.sin(2 * np.pi * freq * t)
    return fftconvolve(pulses, kernel)[:n]


def clicks(rng, n):
    x = decaying_impulses(rng, n, rng.uniform(3, 30), rng.uniform(1000, 5000),
                          rng.uniform(0.5, 4))
    return x + 0.01 * np.std(x) * rng.standard_normal(n)


def rain(rng, n):
    drops = decaying_impulses(rng, n, rng.uniform(300, 2000), rng.uniform(2000, 6000), 0.3)
    drops = lfilter([1, -1], [1], drops)  # high-pass: drops are bright
    bed = coloured(rng, n, -1.0)
    return drops / np.std(drops) + rng.uniform(0.2, 0.6) * bed / np.std(bed)


def siren(rng, n):
    t = np.arange(n) / SR
    centre, dev, rate = rng.uniform(500, 1200), rng.uniform(150, 500), rng.uniform(0.2, 2.0)
    if rng.random() < 0.5:
        track = centre + dev * np.sin(2 * np.pi * rate * t)
    else:  # two-tone (hi-lo)
        track = centre + dev * np.sign(np.sin(2 * np.pi * rate * t))
        track = np.convolve(track, np.ones(80) / 80, mode="same")
    return harmonics(track, [1.0, 0.5, 0.3, 0.15], rng)


def music(rng, n):
    """Melody and chords from an additive synthesizer with plucked/organ-like envelopes."""
    out = np.zeros(n)
    beat = int(SR * 60 / rng.uniform(80, 160))
    root = int(rng.integers(45, 58))
    scale = root + np.array([0, 2, 4, 5, 7, 9, 11, 12, 14, 16])
    bright = rng.uniform(0.7, 1.6)
    amps = np.arange(1, 9) ** -bright
    for voice, (octave, beats, level) in enumerate(((12, 1, 1.0), (0, 4, 0.5))):
        pos = 0
        while pos < n:
            dur = beats * beat * int(rng.choice([1, 1, 2]))
            notes = [scale[int(rng.integers(0, len(scale)))] + octave]
            if voice == 1:  # chords: a triad in the scale
                i = int(rng.integers(0, 5))
                notes = [scale[i], scale[i + 2], scale[i + 4]]
            m = min(dur, n - pos)
            t = np.arange(m) / SR
            env = np.minimum(1.0, t / 0.01) * np.exp(-t / rng.uniform(0.15, 0.8))
            for note in notes:
                f = 440.0 * 2 ** ((note - 69) / 12)
                out[pos:pos + m] += level * env * harmonics(np.full(m, f), amps, rng)
            pos += dur
    return out


def babble(rng, n, pool):
    out = np.zeros(n)
    for i in rng.choice(len(pool), size=int(rng.integers(4, 8)), replace=False):
        x, _ = sf.read(pool[i], dtype="float64")
        x = np.tile(x, -(-n // len(x)) + 1)
        start = int(rng.integers(0, len(x) - n))
        out += x[start:start + n] * 10 ** (rng.uniform(-6, 0) / 20)
    return out


def make_noise(kind: str, rng, n: int, babble_pool: list[str]) -> np.ndarray:
    exponents = {"white": 0.0, "pink": -1.0, "brown": -2.0, "blue": 1.0}
    if kind in exponents:
        x = coloured(rng, n, exponents[kind])
    elif kind == "babble":
        x = babble(rng, n, babble_pool)
    else:
        x = {"modulated": modulated, "hum": hum, "clicks": clicks, "rain": rain,
             "siren": siren, "music": music}[kind](rng, n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


# ---------------------------------------------------------------------- mixtures
def write_mixtures(split, utts, types, corpus, data_root, seed, babble_pool):
    """One mixture per utterance: noise types and SNRs cycled over the grid, balanced."""
    rng = np.random.default_rng([seed, 11, ("dev", "test").index(split)])
    sdir = corpus / split
    for d in ("mix", "speech", "noise"):
        (sdir / d).mkdir(parents=True, exist_ok=True)
    wav, spk1, noise1, u2s, u2snr, u2type, u2n = {}, {}, {}, {}, {}, {}, {}
    for i, u in enumerate(utts):
        snr = SNR_GRID[i % len(SNR_GRID)]
        kind = types[(i // len(SNR_GRID)) % len(types)]
        speech, _ = sf.read(sdir / "src" / f"{u.id}.wav", dtype="float64")
        noise = make_noise(kind, rng, len(speech), babble_pool)
        speech, noise = mix_at_snr(speech, noise, snr, peak=PEAK)
        s16, n16 = mini.to_int16(speech), mini.to_int16(noise)
        mix = (s16.astype(np.int32) + n16.astype(np.int32)).astype(np.int16)
        sign = "m" if snr < 0 else "p"
        mid = f"{u.voice.id}_{kind}_snr{sign}{abs(snr):02d}_{split}{i:04d}"
        for d, y in (("mix", mix), ("speech", s16), ("noise", n16)):
            sf.write(sdir / d / f"{mid}.wav", y, SR, subtype="PCM_16")
        wav[mid] = str(sdir / "mix" / f"{mid}.wav")
        spk1[mid] = str(sdir / "speech" / f"{mid}.wav")
        noise1[mid] = str(sdir / "noise" / f"{mid}.wav")
        u2s[mid], u2snr[mid], u2type[mid], u2n[mid] = u.voice.id, str(snr), kind, len(mix)
    ddir = data_root / split
    DataDir.write(ddir, wav, [spk1], source_names=["speech"], noise=noise1, num_samples=u2n,
                  utt2spk=u2s)
    write_scp(ddir / "utt2snr", u2snr.items())
    write_scp(ddir / "utt2noise_type", u2type.items())
    return len(utts)


def write_train(utts, lengths, corpus, data_root, seed, num_noises, babble_pool):
    src = corpus / "train" / "src"
    clean = {u.id: str(src / f"{u.id}.wav") for u in utts}
    DataDir.write(data_root / "train", clean, [clean], source_names=["speech"],
                  num_samples={u.id: lengths[u.id] for u in utts},
                  utt2spk={u.id: u.voice.id for u in utts})
    rng = np.random.default_rng([seed, 12])
    ndir = corpus / "train_noise"
    ndir.mkdir(parents=True, exist_ok=True)
    wav, kinds = {}, {}
    n = int(NOISE_SECONDS * SR)
    for i in range(num_noises):
        kind = TRAIN_TYPES[i % len(TRAIN_TYPES)]
        x = make_noise(kind, rng, n, babble_pool)
        x *= 10 ** (-26 / 20)
        peak = np.abs(x).max()
        if peak > PEAK:
            x *= PEAK / peak
        nid = f"{kind}_{i:04d}"
        sf.write(ndir / f"{nid}.wav", mini.to_int16(x), SR, subtype="PCM_16")
        wav[nid], kinds[nid] = str(ndir / f"{nid}.wav"), kind
    DataDir.write(data_root / "train_noise", wav, [])
    write_scp(data_root / "train_noise" / "utt2noise_type", kinds.items())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus_dir")
    p.add_argument("data_root")
    for flag, default in (("--seed", 0), ("--nj", 2), ("--train-utts", 1500),
                          ("--train-noises", 280), ("--dev-utts", 70), ("--test-per-snr", 36)):
        p.add_argument(flag, type=int, default=default)
    args = p.parse_args(argv)
    t0 = time.time()
    mini.check_tools()
    corpus, data_root = Path(args.corpus_dir).resolve(), Path(args.data_root)
    for folder in (corpus, *(data_root / s for s in ("train", "train_noise", "dev", "test"))):
        shutil.rmtree(folder, ignore_errors=True)  # a partial run or other options: redo
    corpus.mkdir(parents=True, exist_ok=True)
    voices = mini.make_voices()
    counts = {"train": args.train_utts, "dev": args.dev_utts,
              "test": args.test_per_snr * len(SNR_GRID)}
    sents = mini.make_sentences(counts, args.seed)
    utts = {s: mini.make_utts(s, voices, sents[s], args.seed) for s in mini.SPLITS}
    (corpus / "voices.tsv").write_text(
        "voice\tsynth\tname\tsplit\n"
        + "".join(f"{v.id}\t{v.synth}\t{v.name}\t{v.split}\n" for v in voices))
    lengths = mini.synthesize([u for s in mini.SPLITS for u in utts[s]], corpus, args.nj, SR)
    t_synth = time.time() - t0
    # babble is made of training voices only: no test voice is ever heard in training
    babble_pool = [str(corpus / "train" / "src" / f"{u.id}.wav") for u in utts["train"]]
    write_train(utts["train"], lengths, corpus, data_root, args.seed, args.train_noises,
                babble_pool)
    write_mixtures("dev", utts["dev"], TRAIN_TYPES, corpus, data_root, args.seed, babble_pool)
    write_mixtures("test", utts["test"], TEST_TYPES, corpus, data_root, args.seed, babble_pool)
    for s in mini.SPLITS:
        nvo = len({u.voice.id for u in utts[s]})
        minutes = sum(lengths[u.id] for u in utts[s]) / SR / 60
        print(f"make_corpus.py: {s}: {nvo} voices, {len(utts[s])} utterances "
              f"({minutes:.1f} min of speech)")
    print(f"make_corpus.py: train noise pool {args.train_noises} x {NOISE_SECONDS:.0f} s "
          f"({', '.join(TRAIN_TYPES)}); test noise types {', '.join(TEST_TYPES)}")
    print(f"make_corpus.py: synthesis {t_synth:.1f} s, total {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
