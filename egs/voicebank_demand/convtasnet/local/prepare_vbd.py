#!/usr/bin/env python3
"""Data dirs for VoiceBank+DEMAND (Valentini-Botinhao et al. 2016), 28-speaker set, at 16 kHz.

Published layout (Edinburgh DataShare, doi:10.7488/ds/2117), 48 kHz wav:

    <root>/clean_trainset_28spk_wav/p226_001.wav ...  noisy_trainset_28spk_wav/  (11,572)
    <root>/clean_testset_wav/p232_001.wav ...         noisy_testset_wav/         (824)
    optional: <root>/logfiles/log_{trainset_28spk,testset}.txt  (<file> <noise> <snr>)

Clean and noisy files are paired by name; a file without its pair is an error naming
it, a set with fewer files than published a warning. Every file is resampled once,
here, to 16 kHz (sepcore.api.resample, soxr HQ) into <audio-dir>/{train,test}/{clean,
noisy}/ (a rerun keeps the files already written). The validation speakers p226 and
p287 (one female, one male, as in many VoiceBank+DEMAND recipes, e.g. MetricGAN+ and
CMGAN) are held out of training: data/train (26 speakers), data/dev (p226, p287),
data/test (the 2 test speakers p232, p257). With the log files, utt2snr and
utt2noise_type are written (train SNRs 0/5/10/15 dB, test 2.5/7.5/12.5/17.5 dB).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import soundfile as sf

from sepcore.api import resample
from sepcore.bin.common import report_errors
from sepcore.data import DataDir
from sepcore.errors import DataError
from sepcore.io import atomic_path, write_scp

PROG = "prepare_vbd.py"
SR_IN, SR = 48000, 16000
SETS = {  # set: (clean folder, noisy folder, log file, published count)
    "train": ("clean_trainset_28spk_wav", "noisy_trainset_28spk_wav",
              "log_trainset_28spk.txt", 11572),
    "test": ("clean_testset_wav", "noisy_testset_wav", "log_testset.txt", 824),
}
DEV_SPEAKERS = ("p226", "p287")


def warn(msg: str) -> None:
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def list_wavs(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found (expected the VoiceBank+DEMAND "
                        f"{folder.name} folder of .wav files)")
    wavs = {p.stem: p for p in folder.iterdir() if p.suffix == ".wav"}
    if not wavs:
        raise DataError(f"{folder}: no .wav files")
    return wavs


def read_log(path: Path) -> dict[str, tuple[str, str]]:
    """``{file id: (noise type, snr)}`` from a log file, empty if there is none."""
    if not path.is_file():
        return {}
    out = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        f = line.split()
        if not f:
            continue
        if len(f) != 3:
            raise DataError(f"{path}:{n}: expected '<file> <noise type> <snr>', got {line!r}")
        out[f[0]] = (f[1], f[2])
    return out


def convert(src: Path, dst: Path) -> int:
    """Resample one 48 kHz file to 16 kHz 16-bit (skipped if already there); its length."""
    if dst.is_file():
        return sf.info(str(dst)).frames
    try:
        x, sr = sf.read(str(src), dtype="float32")
    except (sf.LibsndfileError, RuntimeError) as e:
        raise DataError(f"{src}: cannot read audio ({e})") from None
    if sr != SR_IN:
        raise DataError(f"{src}: sample rate {sr} Hz, expected {SR_IN} Hz (VoiceBank+DEMAND)")
    y = resample(x, SR_IN, SR)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dst) as tmp:
        sf.write(tmp, y, SR, subtype="PCM_16", format="WAV")
    return len(y)


def prepare_set(root: Path, name: str, audio: Path, data: Path) -> dict[str, int]:
    clean_dir, noisy_dir, log_name, published = SETS[name]
    clean, noisy = list_wavs(root / clean_dir), list_wavs(root / noisy_dir)
    for have, lack, folder in ((clean, noisy, noisy_dir), (noisy, clean, clean_dir)):
        missing = sorted(set(have) - set(lack))
        if missing:
            raise DataError(f"{root / folder / (missing[0] + '.wav')}: not found, but its pair "
                            f"{have[missing[0]]} exists ({len(missing)} missing in {folder}/)")
    if len(clean) != published:
        warn(f"{root / clean_dir}: found {len(clean)} files, the published set has "
             f"{published} (partial corpus?)")
    log = read_log(root / "logfiles" / log_name)
    if log and set(log) != set(clean):
        log = {}
        warn(f"{root / 'logfiles' / log_name}: does not list exactly the files of {clean_dir}; "
             f"no utt2snr / utt2noise_type")
    lengths = {}
    for utt in sorted(clean):
        n = convert(clean[utt], audio / name / "clean" / f"{utt}.wav")
        if convert(noisy[utt], audio / name / "noisy" / f"{utt}.wav") != n:
            raise DataError(f"{noisy[utt]}: length differs from its clean file {clean[utt]}")
        lengths[utt] = n
    parts = {"test": sorted(clean)} if name == "test" else {
        "train": [u for u in sorted(clean) if u.split("_")[0] not in DEV_SPEAKERS],
        "dev": [u for u in sorted(clean) if u.split("_")[0] in DEV_SPEAKERS]}
    counts = {}
    for part, utts in parts.items():
        if not utts:
            raise DataError(f"{root / clean_dir}: no files for {part} (speakers "
                            f"{', '.join(DEV_SPEAKERS)} are the dev set)")
        d = data / part
        DataDir.write(d, {u: str(audio / name / "noisy" / f"{u}.wav") for u in utts},
                      [{u: str(audio / name / "clean" / f"{u}.wav") for u in utts}],
                      source_names=["speech"], utt2spk={u: u.split("_")[0] for u in utts},
                      num_samples={u: lengths[u] for u in utts})
        for f in ("utt2snr", "utt2noise_type"):
            if os.path.exists(d / f) and not log:
                os.remove(d / f)
        if log:
            write_scp(d / "utt2noise_type", ((u, log[u][0]) for u in utts))
            write_scp(d / "utt2snr", ((u, log[u][1]) for u in utts))
        counts[part] = len(utts)
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("vbd_dir", help="the folder holding clean_trainset_28spk_wav/ etc.")
    p.add_argument("audio_dir", help="where the 16 kHz copies are written")
    p.add_argument("data_dir", help="output: <data_dir>/{train,dev,test}/")
    return report_errors(PROG, lambda: prepare(p.parse_args(argv)))


def prepare(args: argparse.Namespace) -> None:
    root = Path(args.vbd_dir).resolve()
    if not root.is_dir():
        raise DataError(f"{root}: folder not found (expected the VoiceBank+DEMAND folder "
                        f"with clean_trainset_28spk_wav/, noisy_trainset_28spk_wav/, "
                        f"clean_testset_wav/, noisy_testset_wav/)")
    for name in SETS:  # check both sets' folders before the long resampling
        for folder in SETS[name][:2]:
            list_wavs(root / folder)
    for name in SETS:
        counts = prepare_set(root, name, Path(args.audio_dir).resolve(), Path(args.data_dir))
        print(f"{PROG}: {name}: " + ", ".join(f"{k} {v} files" for k, v in counts.items()),
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
