"""Scored experiments for the report tests, in seconds: a tiny data dir, estimates made
from the references with a known, per-utterance amount of interference, scored by the real
scorer (sepcore.bin.score), a real tiny model.pt, history.tsv and train.log.

Three shapes: speech (spk1, spk2, permuted estimates), music (a ``sources`` file with
named stems, stereo) and enhancement (one source, ``utt2snr``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from helpers.datadirs import make_datadir, voiced

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "egs" / "mini" / "convtasnet" / "conf" / "tiny.yaml"


def _write_list(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{ln}\n" for ln in sorted(lines)))


def make_estimates(ref_dir: Path, sep_dir: Path, seed: int = 1, swap_every: int = 3,
                   leak_offset: float = 0.0) -> None:
    """``est_k = ref_k + leak * (other refs) + noise``, the leak growing with the utterance
    index (so utterances rank differently); every ``swap_every``-th utterance's estimates
    are listed in swapped order (the scorer must find the permutation)."""
    rng = np.random.default_rng(seed)
    wav = dict(ln.split(maxsplit=1) for ln in (ref_dir / "wav.scp").read_text().splitlines())
    k = 1
    refs = []
    while (ref_dir / f"spk{k}.scp").is_file():
        refs.append(dict(ln.split(maxsplit=1)
                         for ln in (ref_dir / f"spk{k}.scp").read_text().splitlines()))
        k += 1
    (sep_dir / "wav").mkdir(parents=True, exist_ok=True)
    lists: list[list[str]] = [[] for _ in refs]
    for i, utt in enumerate(sorted(wav)):
        sigs = [sf.read(r[utt], dtype="float32")[0] for r in refs]
        rate = sf.info(refs[0][utt]).samplerate
        leak = min(0.9, 0.05 + 0.08 * i + leak_offset)
        ests = []
        for j, s in enumerate(sigs):
            others = sum(x for m, x in enumerate(sigs) if m != j) if len(sigs) > 1 else 0
            noise = 0.01 * rng.standard_normal(s.shape).astype(np.float32)
            ests.append(s + leak * others + noise + (leak * 0.3 * rng.standard_normal(s.shape)
                                                     .astype(np.float32) * np.std(s)
                                                     if len(sigs) == 1 else 0))
        order = list(range(len(sigs)))
        if len(sigs) > 1 and swap_every and i % swap_every == 0:
            order = order[::-1]
        for slot, j in enumerate(order):
            path = sep_dir / "wav" / f"{utt}_spk{slot + 1}.wav"
            sf.write(path, np.clip(ests[j], -1, 1), rate, subtype="PCM_16")
            lists[slot].append(f"{utt} {path}")
    for slot, lines in enumerate(lists):
        _write_list(sep_dir / f"spk{slot + 1}.scp", lines)
    if (ref_dir / "sources").is_file():
        (sep_dir / "sources").write_text((ref_dir / "sources").read_text())


def score(ref_dir: Path, sep_dir: Path, metrics: str, permute: bool = True) -> None:
    from sepcore.bin.score import main

    opts = ["--metrics", metrics, "--progress", "false", "--use-cache", "false",
            "--compute-permutation", "true" if permute else "false"]
    assert main([*opts, str(ref_dir), str(sep_dir)]) == 0
    assert main(["--merge", *opts, str(ref_dir), str(sep_dir)]) == 0


def make_music_datadir(root: Path, name: str = "music_test", num_utts: int = 4,
                       sample_rate: int = 16000, seconds: float = 1.5) -> Path:
    """Stereo, two named stems (``vocals accompaniment``)."""
    rng = np.random.default_rng(3)
    data, wav = root / "data" / name, root / "wav" / name
    data.mkdir(parents=True, exist_ok=True)
    wav.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {"wav.scp": [], "spk1.scp": [], "spk2.scp": [],
                                   "utt2num_samples": []}
    n = int(seconds * sample_rate)
    for i in range(num_utts):
        utt = f"track{i:02d}"
        vocals = np.stack([voiced(rng, n, sample_rate), 0.8 * voiced(rng, n, sample_rate)], 1)
        t = np.arange(n) / sample_rate
        chord = sum(np.sin(2 * np.pi * f * t) for f in (110.0, 138.6, 164.8)) * 0.1
        accomp = np.stack([chord, 0.7 * chord], 1).astype(np.float32)
        for key, x in (("spk1.scp", vocals), ("spk2.scp", accomp)):
            p = wav / f"{utt}_{key[:4]}.wav"
            sf.write(p, x, sample_rate, subtype="PCM_16")
            files[key].append(f"{utt} {p}")
        p = wav / f"{utt}_mix.wav"
        sf.write(p, np.clip(vocals + accomp, -1, 1), sample_rate, subtype="PCM_16")
        files["wav.scp"].append(f"{utt} {p}")
        files["utt2num_samples"].append(f"{utt} {n}")
    for f, lines in files.items():
        _write_list(data / f, lines)
    (data / "sources").write_text("vocals accompaniment\n")
    return data


def make_enh_datadir(root: Path, name: str = "enh_test", num_utts: int = 6,
                     sample_rate: int = 16000) -> Path:
    """One source (the speech) and ``utt2snr``; the mixture is speech + noise at that SNR."""
    data = make_datadir(root, name, num_utts=num_utts, num_sources=1, sample_rate=sample_rate,
                        seed=5)
    rng = np.random.default_rng(6)
    wav = dict(ln.split(maxsplit=1) for ln in (data / "spk1.scp").read_text().splitlines())
    snrs = []
    for i, utt in enumerate(sorted(wav)):
        speech, rate = sf.read(wav[utt], dtype="float32")
        snr = [0.0, 5.0, 10.0][i % 3]
        noise = rng.standard_normal(speech.shape).astype(np.float32)
        noise *= np.sqrt(np.mean(speech**2) / np.mean(noise**2) / 10 ** (snr / 10))
        path = root / "wav" / name / f"{utt}_noisy.wav"
        sf.write(path, np.clip(speech + noise, -1, 1), rate, subtype="PCM_16")
        snrs.append((utt, path, snr))
    _write_list(data / "wav.scp", [f"{u} {p}" for u, p, _ in snrs])
    _write_list(data / "utt2snr", [f"{u} {s:g}" for u, _, s in snrs])
    (data / "sources").write_text("speech\n")
    return data


def write_training_files(exp: Path, train_dir: Path, valid_dir: Path, epochs: int = 4) -> None:
    """config.yaml, history.tsv, train.log and a real (untrained) tiny model.pt."""
    from sepcore.config import dump_config, load_config
    from sepcore.modelfile import save_model_file
    from sepcore.models import build_model, count_parameters

    cfg = load_config(TINY)
    cfg["model"]["num_sources"] = 2
    exp.mkdir(parents=True, exist_ok=True)
    (exp / "config.yaml").write_text(dump_config(cfg))
    rows = ["epoch\tsteps\ttrain_loss\tvalid_loss\tvalid_si_sdri\tlr\tepoch_seconds\t"
            "elapsed_minutes"]
    for e in range(1, epochs + 1):
        rows.append(f"{e}\t{20 * e}\t{-2.0 * e:.4f}\t{-1.8 * e:.4f}\t{1.5 * e:.3f}\t"
                    f"{1e-3 / (1 + (e > 2)):.3e}\t30.0\t{0.5 * e:.2f}")
    (exp / "history.tsv").write_text("\n".join(rows) + "\n")
    (exp / "train.log").write_text(
        "2026-12-01 10:00:00,000 INFO command: /venv/bin/python -m sepcore.bin.train --config "
        f"conf/tiny.yaml --train-dir {train_dir} --valid-dir {valid_dir} --exp-dir {exp}\n")
    model = build_model(cfg["model"])
    save_model_file(exp / "model.pt", model, cfg["model"], 8000, ["spk1", "spk2"], {
        "num_params": count_parameters(model), "train_seconds": 120.0, "epochs": epochs,
        "steps": 20 * epochs, "best_epoch": epochs, "best_valid_loss": -1.8 * epochs,
        "best_valid_si_sdri": 1.5 * epochs, "train_dir": str(train_dir),
        "valid_dir": str(valid_dir)})
    (exp / ".train.done").write_text("2026-12-01 10:02:00\n")


def speech_exp(root: Path, tag: str = "speech", num_utts: int = 9, seed: int = 1,
               leak_offset: float = 0.0) -> Path:
    data = root / "data" / "test"
    if not (data / "wav.scp").is_file():
        make_datadir(root, "train", num_utts=4)
        data = make_datadir(root, "test", num_utts=num_utts, seed=2)
    exp = root / "exp" / tag
    write_training_files(exp, root / "data" / "train", data)
    sep = exp / "separate" / "test"
    make_estimates(data, sep, seed=seed, leak_offset=leak_offset)
    score(data, sep, "si_sdr,sdr,stoi")
    return exp


def music_exp(root: Path) -> Path:
    data = make_music_datadir(root)
    exp = root / "exp" / "music"
    write_training_files(exp, data, data, epochs=2)
    sep = exp / "separate" / "test"
    make_estimates(data, sep, swap_every=0)
    score(data, sep, "sdr_mdx", permute=False)
    return exp


def enh_exp(root: Path) -> Path:
    data = make_enh_datadir(root)
    exp = root / "exp" / "enh"
    exp.mkdir(parents=True, exist_ok=True)
    sep = exp / "separate" / "test"
    make_estimates(data, sep)
    score(data, sep, "si_sdr,stoi")
    return exp
