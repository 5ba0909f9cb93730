#!/usr/bin/env python3
"""Render the mini music corpus: songs from seeded random MIDI, one render per stem.

    python local/make_corpus.py [--nj 2] [--seed 0] [--songs 24,4,6] [--seconds 30] \
        <corpus-dir> <data-root>

Every song draws its own tempo (70-170 BPM), key and mode, chord progression, drum
kit and pattern, instruments, panning and levels from ``(seed, song index)``:

  drums   GM drum channel (10): kick/snare/hi-hat pattern with fills and crashes
  bass    a GM bass (programs 32-39): chord roots and fifths in a random rhythm
  other   chords or arpeggios from a piano, guitar, organ or string program
  vocals  a lead line (choir, voice oohs, synth voice, brass, reed, synth lead) with
          phrases and rests, standing in for a singer

Each stem is its own MIDI file rendered by the ``fluidsynth`` program with a General
MIDI soundfont (Debian ``timgm6mb-soundfont``; ``--soundfont`` to choose another) at
44.1 kHz stereo, cut or padded to exactly ``--seconds``, scaled by a random level and
stored as 16-bit PCM; the mixture is the exact sum of the stored stems. Songs are
split by song into train/dev/test. Writes (MUSDB18-HQ layout, then data dirs):

  <corpus-dir>/<split>/<song>/{mixture,drums,bass,other,vocals}.wav, songs.tsv
  <data-root>/<split>/{wav.scp,spk1..4.scp,sources,utt2num_samples}

The same options give byte-identical audio (fluidsynth renders deterministically with
reverb and chorus off; the soundfont's path and checksum are recorded in songs.tsv).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

STEMS = ("drums", "bass", "other", "vocals")
SAMPLE_RATE = 44100
TICKS = 480  # per quarter note
SOUNDFONTS = ("/usr/share/sounds/sf2/TimGM6mb.sf2",
              "/usr/share/sounds/sf2/FluidR3_GM.sf2",
              "/usr/share/sounds/sf2/default-GM.sf2")
INSTALL_HINT = "apt-get install -y fluidsynth timgm6mb-soundfont (or run tools/install.sh as root)"

# General MIDI programs (0-based) per role
BASS_PROGRAMS = list(range(32, 40))
OTHER_PROGRAMS = (list(range(0, 8)) + list(range(16, 24)) + list(range(24, 32))
                  + [40, 41, 42, 44, 45, 46, 48, 49, 50, 51])
LEAD_PROGRAMS = [52, 53, 54] + list(range(56, 72)) + list(range(80, 88))
LOW_LEADS = {57, 58, 66, 67}  # trombone, tuba, tenor and baritone sax: an octave lower
DRUM_KITS = [0, 8, 16, 24, 25, 32, 40]  # standard, room, power, electronic, 808, jazz, brush
MAJOR = [0, 2, 4, 5, 7, 9, 11]
MINOR = [0, 2, 3, 5, 7, 8, 10]
PROGRESSIONS = [[0, 4, 5, 3], [0, 5, 3, 4], [0, 3, 4, 0], [0, 5, 1, 4], [5, 3, 0, 4],
                [0, 3, 5, 4], [0, 6, 5, 4], [0, 4, 3, 4]]
KICK, SNARE, CLAP, HAT, HAT_OPEN, CRASH, RIDE = 36, 38, 39, 42, 46, 49, 51
TOMS = [41, 43, 45, 47, 48, 50]


# ---------------------------------------------------------------------------- MIDI
def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


@dataclass
class Track:
    """Events of one channel as ``(tick, order, bytes)``; note-offs sort before note-ons."""

    channel: int
    events: list = field(default_factory=list)

    def control(self, tick: int, cc: int, value: int) -> None:
        self.events.append((tick, 0, bytes([0xB0 | self.channel, cc, value])))

    def program(self, tick: int, program: int) -> None:
        self.events.append((tick, 0, bytes([0xC0 | self.channel, program])))

    def note(self, tick: int, length: int, pitch: int, velocity: int) -> None:
        pitch = int(np.clip(pitch, 0, 127))
        velocity = int(np.clip(velocity, 1, 127))
        self.events.append((tick, 2, bytes([0x90 | self.channel, pitch, velocity])))
        self.events.append((tick + max(1, length), 1, bytes([0x80 | self.channel, pitch, 0])))


def midi_bytes(track: Track, bpm: float) -> bytes:
    """A type-0 standard MIDI file with one tempo and the track's events."""
    tempo = int(round(60e6 / bpm))
    body = b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big")
    last = 0
    for tick, _, data in sorted(track.events, key=lambda e: (e[0], e[1])):
        body += _vlq(tick - last) + data
        last = tick
    body += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS)
    return header + b"MTrk" + struct.pack(">I", len(body)) + body


# ---------------------------------------------------------------------------- songs
@dataclass
class Song:
    name: str
    split: str
    bpm: float
    key: int
    minor: bool
    programs: dict
    pans: dict
    levels_db: dict
    tracks: dict


def make_song(name: str, split: str, index: int, seed: int, seconds: float) -> Song:
    rng = np.random.default_rng([seed, index, 52021])
    bpm = float(rng.uniform(70, 170))
    key = int(rng.integers(0, 12))
    minor = bool(rng.random() < 0.5)
    scale = MINOR if minor else MAJOR
    prog = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    beats_per_bar = 4
    bar = beats_per_bar * TICKS
    num_bars = int(np.ceil(seconds * bpm / 60 / beats_per_bar)) + 1
    chord_bars = int(rng.choice([1, 2]))
    sixteenth = TICKS // 4

    def degree_pitch(degree: int, octave: int) -> int:
        return 12 * (octave + 1) + key + scale[degree % 7] + 12 * (degree // 7)

    def chord_at(b: int) -> int:
        return prog[(b // chord_bars) % len(prog)]

    programs = {
        "drums": int(rng.choice(DRUM_KITS)),
        "bass": int(rng.choice(BASS_PROGRAMS)),
        "other": int(rng.choice(OTHER_PROGRAMS)),
        "vocals": int(rng.choice(LEAD_PROGRAMS)),
    }
    pans = {"drums": int(rng.integers(52, 77)), "bass": int(rng.integers(48, 81)),
            "other": int(rng.integers(20, 109)), "vocals": int(rng.integers(34, 95))}
    levels_db = {s: float(rng.uniform(-9, 0)) for s in STEMS}
    tracks = {s: Track(9 if s == "drums" else i) for i, s in enumerate(STEMS)}
    for s, t in tracks.items():
        t.program(0, programs[s])
        t.control(0, 7, 110)
        t.control(0, 10, pans[s])

    # drums: a base pattern of 16 steps, varied per bar, fills every 4 or 8 bars
    d = tracks["drums"]
    kick = rng.random(16) < np.array([.95, 0, .1, .1, .2, 0, .3, .1, .8, 0, .3, .1, .2, 0, .3, .1])
    kick[0] = True
    snare = np.zeros(16, bool)
    snare[[4, 12]] = True
    snare |= rng.random(16) < 0.06
    hat_step = int(rng.choice([1, 2, 2, 4]))
    hat_note = int(rng.choice([HAT, HAT, RIDE]))
    snare_note = int(rng.choice([SNARE, SNARE, CLAP, 40]))
    fill_every = int(rng.choice([4, 8]))
    for b in range(num_bars):
        t0 = b * bar
        fill = b % fill_every == fill_every - 1
        for step in range(16):
            t = t0 + step * sixteenth
            if fill and step >= 12:
                d.note(t, sixteenth, int(rng.choice(TOMS)), int(rng.integers(80, 120)))
                continue
            if kick[step] or (rng.random() < 0.04):
                d.note(t, sixteenth, KICK, int(rng.integers(95, 125)))
            if snare[step]:
                d.note(t, sixteenth, snare_note, int(rng.integers(85, 120)))
            if step % hat_step == 0:
                accent = 100 if step % 4 == 0 else 75
                note = HAT_OPEN if (step == 14 and rng.random() < 0.3) else hat_note
                d.note(t, sixteenth, note, accent + int(rng.integers(-15, 15)))
        if b % fill_every == 0 and rng.random() < 0.7:
            d.note(t0, TICKS, CRASH, int(rng.integers(80, 115)))

    # bass: roots (and fifths / octaves) in a rhythm drawn once per song
    bs = tracks["bass"]
    rhythm = [(0, 2)] + [(s, 2) for s in range(2, 16, 2) if rng.random() < 0.45]
    octave = int(rng.choice([1, 2]))
    for b in range(num_bars):
        root = chord_at(b)
        for n, (step, length) in enumerate(rhythm):
            deg = root + int(rng.choice([0, 0, 0, 4, 7])) if n else root
            bs.note(b * bar + step * sixteenth, length * sixteenth - 10,
                    degree_pitch(deg, octave), int(rng.integers(85, 115)))

    # other: sustained chords, stabs or arpeggios
    o = tracks["other"]
    style = rng.choice(["chords", "stabs", "arpeggio"])
    o_oct = int(rng.choice([3, 4]))
    arp_step = int(rng.choice([2, 4]))
    for b in range(num_bars):
        root = chord_at(b)
        notes = [degree_pitch(root + k, o_oct) for k in (0, 2, 4)]
        if rng.random() < 0.3:
            notes.append(degree_pitch(root + 6, o_oct))
        t0 = b * bar
        if style == "chords":
            for p in notes:
                o.note(t0, bar - 20, p, int(rng.integers(60, 95)))
        elif style == "stabs":
            for step in (0, 3, 6, 10, 12):
                if step == 0 or rng.random() < 0.6:
                    for p in notes:
                        o.note(t0 + step * sixteenth, 2 * sixteenth, p, int(rng.integers(65, 100)))
        else:
            seq = notes + [notes[1] + 12, notes[2] + 12] if rng.random() < 0.5 else notes
            for i, step in enumerate(range(0, 16, arp_step)):
                o.note(t0 + step * sixteenth, arp_step * sixteenth, seq[i % len(seq)],
                       int(rng.integers(60, 100)))

    # vocals: phrases of 2 bars on chord tones and scale steps, with rests between
    v = tracks["vocals"]
    # an octave where every lead program of the GM soundfont sounds (some reeds and brass
    # are silent above ~80 in TimGM6mb): degrees 0-9 span C4 + key .. about 88
    v_oct = 3 if programs["vocals"] in LOW_LEADS else 4
    deg = 4
    phrase_bars = 2
    for b0 in range(0, num_bars, phrase_bars):
        if b0 > 0 and rng.random() < 0.2:
            continue  # a phrase of rest
        t = b0 * bar + int(rng.choice([0, 1, 2])) * TICKS // 2
        end = (b0 + phrase_bars) * bar - TICKS // 2
        while t < end:
            length = int(rng.choice([1, 1, 2, 2, 2, 3, 4, 6])) * TICKS // 2
            if rng.random() < 0.35:
                deg = chord_at(t // bar) + int(rng.choice([0, 2, 4]))
            else:
                deg += int(rng.choice([-2, -1, -1, 1, 1, 2]))
            deg = int(np.clip(deg, 0, 9))
            v.note(t, min(length, end - t) - 15, degree_pitch(deg, v_oct),
                   int(rng.integers(80, 115)))
            t += length
    return Song(name, split, bpm, key, minor, programs, pans, levels_db, tracks)


# ---------------------------------------------------------------------------- render
def find_soundfont(given: str | None) -> Path:
    if given:
        if not Path(given).is_file():
            sys.exit(f"make_corpus.py: error: soundfont {given} not found")
        return Path(given)
    for path in SOUNDFONTS:
        if Path(path).is_file():
            return Path(path)
    sys.exit(f"make_corpus.py: error: no General MIDI soundfont found (looked for "
             f"{', '.join(SOUNDFONTS)}); install one: {INSTALL_HINT}")


def render(midi: bytes, soundfont: Path, seconds: float, tmp: Path, stem_id: str) -> np.ndarray:
    """fluidsynth → float32 ``[samples, 2]`` of exactly ``seconds``."""
    mid, wav = tmp / f"{stem_id}.mid", tmp / f"{stem_id}.wav"
    mid.write_bytes(midi)
    cmd = ["fluidsynth", "-n", "-i", "-q", "-R", "0", "-C", "0", "-g", "0.5",
           "-r", str(SAMPLE_RATE), "-T", "wav", "-O", "float", "-F", str(wav), str(soundfont),
           str(mid)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not wav.is_file():
        sys.exit(f"make_corpus.py: error: fluidsynth failed on {mid} ({proc.stderr.strip()})")
    data, sr = sf.read(wav, dtype="float32", always_2d=True)
    mid.unlink()
    wav.unlink()
    if sr != SAMPLE_RATE or data.shape[1] != 2:
        sys.exit(f"make_corpus.py: error: fluidsynth wrote {sr} Hz, {data.shape[1]} channels")
    n = int(round(seconds * SAMPLE_RATE))
    out = np.zeros((n, 2), dtype=np.float32)
    out[: min(n, len(data))] = data[:n]
    return out


def render_song(song: Song, soundfont: Path, seconds: float, corpus: Path, tmp: Path) -> int:
    stems = {}
    for s in STEMS:
        audio = render(midi_bytes(song.tracks[s], song.bpm), soundfont, seconds, tmp,
                       f"{song.name}_{s}")
        peak = float(np.abs(audio).max())
        if peak == 0:
            sys.exit(f"make_corpus.py: error: {song.name}: the {s} render is silent "
                     f"(soundfont {soundfont} lacks program {song.programs[s]}?)")
        stems[s] = audio / peak * 10 ** (song.levels_db[s] / 20)
    total = sum(stems.values())
    scale = 0.9 / float(np.abs(total).max())  # mixture peaks at -0.9 dBFS before rounding
    ints = {s: np.round(x * scale * 32767).astype(np.int32) for s, x in stems.items()}
    mixture = sum(ints.values())
    assert np.abs(mixture).max() <= 32767
    out = corpus / song.split / song.name
    out.mkdir(parents=True, exist_ok=True)
    for name, x in [("mixture", mixture)] + list(ints.items()):
        sf.write(out / f"{name}.wav.tmp", x.astype(np.int16), SAMPLE_RATE, subtype="PCM_16",
                 format="WAV")
        os.replace(out / f"{name}.wav.tmp", out / f"{name}.wav")
    return len(mixture)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_data_dir(ddir: Path, songs: list[Song], lengths: dict, corpus: Path) -> None:
    from sepcore.data import DataDir

    base = corpus.resolve()

    def files(name: str) -> list[tuple[str, str]]:
        return [(s.name, str(base / s.split / s.name / f"{name}.wav")) for s in songs]

    DataDir.write(ddir, files("mixture"), [files(stem) for stem in STEMS],
                  source_names=list(STEMS), num_samples={s.name: lengths[s.name] for s in songs})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="make_corpus.py", description=__doc__.split("\n")[0])
    p.add_argument("--nj", type=int, default=2, help="parallel fluidsynth renders")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--songs", default="24,4,6", help="train,dev,test song counts")
    p.add_argument("--seconds", type=float, default=30.0, help="length of every song")
    p.add_argument("--soundfont", default=None, help="General MIDI .sf2 (default: TimGM6mb)")
    p.add_argument("corpus_dir")
    p.add_argument("data_root")
    args = p.parse_args(argv)
    try:
        counts = [int(c) for c in args.songs.split(",")]
        assert len(counts) == 3 and min(counts) >= 1
    except (ValueError, AssertionError):
        p.error(f"--songs: expected three positive counts 'train,dev,test', got {args.songs!r}")
    if shutil.which("fluidsynth") is None:
        sys.exit(f"make_corpus.py: error: the 'fluidsynth' program is not installed; "
                 f"{INSTALL_HINT}")
    soundfont = find_soundfont(args.soundfont)
    corpus, data_root = Path(args.corpus_dir), Path(args.data_root)
    for split in ("train", "dev", "test"):  # a partial corpus or one of other options
        shutil.rmtree(corpus / split, ignore_errors=True)
    songs, index = [], 0
    for split, count in zip(("train", "dev", "test"), counts):
        for _ in range(count):
            songs.append(make_song(f"song{index:03d}", split, index, args.seed, args.seconds))
            index += 1
    with tempfile.TemporaryDirectory(prefix="mini_music.") as tmp, \
            ThreadPoolExecutor(max(1, args.nj)) as pool:
        lengths = dict(zip((s.name for s in songs), pool.map(
            lambda s: render_song(s, soundfont, args.seconds, corpus, Path(tmp)), songs)))
    rows = ["song\tsplit\tbpm\tkey\tmode\t" + "\t".join(f"{s}_program" for s in STEMS) + "\t"
            + "\t".join(f"{s}_pan" for s in STEMS) + "\t"
            + "\t".join(f"{s}_level_db" for s in STEMS)]
    for s in songs:
        rows.append("\t".join([s.name, s.split, f"{s.bpm:.1f}", str(s.key),
                               "minor" if s.minor else "major"]
                              + [str(s.programs[t]) for t in STEMS]
                              + [str(s.pans[t]) for t in STEMS]
                              + [f"{s.levels_db[t]:.2f}" for t in STEMS]))
    rows.append(f"# soundfont {soundfont} sha256 {sha256(soundfont)}")
    (corpus / "songs.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for split in ("train", "dev", "test"):
        write_data_dir(data_root / split, [s for s in songs if s.split == split], lengths, corpus)
    print(f"make_corpus.py: {len(songs)} songs x {args.seconds:g} s ({', '.join(map(str, counts))}"
          f" train/dev/test) in {corpus}, data dirs in {data_root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
