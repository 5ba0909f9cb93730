"""Miniature replicas of the published corpus layouts (wsj0-mix, WHAM!, WHAMR!, LibriMix).

A few tiny wavs per split with the real folder structure and file naming, so the
recipes' data preparation (and whole recipes) can be tested without the corpora.
The helpers at the end load and run the recipes' scripts and read data dirs.
Every builder returns a ``Replica``: the folder to hand to the recipe and, per split,
the mixture names with their lengths in samples.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]
RATES = {"8k": 8000, "16k": 16000}
# WSJ0-like utterance ids: 3-character speaker + 5 characters
WSJ0_SPEAKERS = ["01t", "20g", "40n", "050", "22h", "446", "053", "01z"]
# LibriSpeech-like speaker-chapter pairs
LIBRI_SPEAKERS = [(4077, 13754), (5142, 33396), (1272, 128104), (2035, 147960), (84, 121123),
                  (6241, 61943), (3752, 4944), (1988, 24833)]


@dataclass
class Replica:
    root: str  # the folder a user passes to the recipe
    names: dict[str, list[str]] = field(default_factory=dict)  # split -> mixture names
    lengths: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> name -> samples


def _signal(rng: np.random.RandomState, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    f0 = rng.uniform(100, 300)
    x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 5))
    env = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 5) * t) ** 2
    return (0.15 * x * env).astype(np.float32)


def _write(path: str, x: np.ndarray, sr: int) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sf.write(path, np.clip(x, -0.99, 0.99), sr, subtype="PCM_16")


def _reverb(x: np.ndarray, sr: int) -> np.ndarray:
    ir = np.zeros(int(0.02 * sr), dtype=np.float32)
    ir[0] = 1.0
    ir[-1] = 0.4
    ir[len(ir) // 2] = 0.6
    return np.convolve(x, ir)[: len(x)].astype(np.float32)


def wsj0_name(rng: np.random.RandomState, i: int, num_spk: int) -> tuple[str, list[str]]:
    spks = rng.choice(len(WSJ0_SPEAKERS), num_spk, replace=False)
    utts = [f"{WSJ0_SPEAKERS[s]}{'co'[i % 2]}{(7 * i + j) % 1000:03d}{'vmxa'[j]}"
            for j, s in enumerate(spks)]
    snr = round(float(rng.uniform(0, 2.5)), 5)
    snrs = [snr, -snr, round(float(rng.uniform(-2.5, 2.5)), 4)][:num_spk]
    return "_".join(f"{u}_{s:g}" for u, s in zip(utts, snrs)), [u[:3] for u in utts]


def _lengths(rng, name_count: int, sr: int, seconds: tuple[float, float]) -> list[int]:
    return [int(rng.uniform(*seconds) * sr) for _ in range(name_count)]


def wsj0mix(base: str, num_spk: int = 2, rate: str = "8k", mode: str = "min",
            counts: dict[str, int] | None = None, seconds=(0.4, 0.7), seed: int = 0) -> Replica:
    """``<base>/<N>speakers/wav<rate>/<mode>/{tr,cv,tt}/{mix,s1..sN}/<name>.wav``."""
    counts = counts or {"tr": 4, "cv": 2, "tt": 2}
    sr = RATES[rate]
    rng = np.random.RandomState(seed)
    rep = Replica(os.path.join(base, f"{num_spk}speakers"))
    root = os.path.join(rep.root, f"wav{rate}", mode)
    for split, n in counts.items():
        rep.names[split], rep.lengths[split] = [], {}
        for i, length in enumerate(_lengths(rng, n, sr, seconds)):
            name, _ = wsj0_name(rng, i + 100 * len(rep.names), num_spk)
            srcs = [_signal(rng, length, sr) for _ in range(num_spk)]
            _write(os.path.join(root, split, "mix", name + ".wav"), sum(srcs), sr)
            for k, s in enumerate(srcs, 1):
                _write(os.path.join(root, split, f"s{k}", name + ".wav"), s, sr)
            rep.names[split].append(name)
            rep.lengths[split][name] = length
    return rep


def wham(base: str, reverb: bool = False, rate: str = "8k", mode: str = "min",
         counts: dict[str, int] | None = None, seconds=(0.4, 0.7), seed: int = 0) -> Replica:
    """WHAM! (or with ``reverb`` WHAMR!) under ``<base>/wham{,r}/wav<rate>/<mode>/...``."""
    counts = counts or {"tr": 4, "cv": 2, "tt": 2}
    sr = RATES[rate]
    rng = np.random.RandomState(seed + 1)
    rep = Replica(os.path.join(base, "whamr" if reverb else "wham_wav"))
    root = os.path.join(rep.root, f"wav{rate}", mode)
    for split, n in counts.items():
        rep.names[split], rep.lengths[split] = [], {}
        for i, length in enumerate(_lengths(rng, n, sr, seconds)):
            name, _ = wsj0_name(rng, i + 100 * len(rep.names), 2)
            s1, s2 = _signal(rng, length, sr), _signal(rng, length, sr)
            noise = (0.05 * rng.randn(length)).astype(np.float32)
            conds = {"anechoic": (s1, s2), "reverb": (_reverb(s1, sr), _reverb(s2, sr))}
            for cond, (a, b) in conds.items():
                if not reverb and cond == "reverb":
                    continue
                sfx = f"_{cond}" if reverb else ""
                files = {"s1": a, "s2": b, "mix_clean": a + b, "mix_single": a + noise,
                         "mix_both": a + b + noise}
                for folder, x in files.items():
                    _write(os.path.join(root, split, folder + sfx, name + ".wav"), x, sr)
            _write(os.path.join(root, split, "noise", name + ".wav"), noise, sr)
            rep.names[split].append(name)
            rep.lengths[split][name] = length
    return rep


def librimix(base: str, n_src: int = 2, rate: str = "8k", mode: str = "min",
             counts: dict[str, int] | None = None, csv_root: str = "/gone/corpora/LibriMix",
             seconds=(0.4, 0.7), seed: int = 0) -> Replica:
    """``<base>/Libri<N>Mix/wav<rate>/<mode>/{metadata,<subset>/...}``.

    The CSVs hold absolute paths under ``csv_root`` (where the corpus was generated),
    not under ``base``: as for a corpus that was moved.
    """
    counts = counts or {"train-360": 4, "dev": 2, "test": 2}
    sr = RATES[rate]
    rng = np.random.RandomState(seed + 2)
    corpus = f"Libri{n_src}Mix"
    rep = Replica(os.path.join(base, corpus))
    root = os.path.join(rep.root, f"wav{rate}", mode)
    old = os.path.join(csv_root, corpus, f"wav{rate}", mode)
    for subset, n in counts.items():
        rep.names[subset], rep.lengths[subset] = [], {}
        rows = {"mix_clean": [], "mix_both": [], "mix_single": []}
        for i, length in enumerate(_lengths(rng, n, sr, seconds)):
            spks = rng.choice(len(LIBRI_SPEAKERS), n_src, replace=False)
            name = "_".join(
                f"{LIBRI_SPEAKERS[s][0]}-{LIBRI_SPEAKERS[s][1]}-{(13 * i + j) % 10000:04d}"
                for j, s in enumerate(spks)
            )
            srcs = [_signal(rng, length, sr) for _ in range(n_src)]
            noise = (0.05 * rng.randn(length)).astype(np.float32)
            files = {f"s{k}": s for k, s in enumerate(srcs, 1)}
            files.update(noise=noise, mix_clean=sum(srcs), mix_both=sum(srcs) + noise,
                         mix_single=srcs[0] + noise)
            for folder, x in files.items():
                _write(os.path.join(root, subset, folder, name + ".wav"), x, sr)

            def p(folder, name=name, subset=subset):
                return os.path.join(old, subset, folder, name + ".wav")

            src_paths = [p(f"s{k}") for k in range(1, n_src + 1)]
            rows["mix_clean"].append([name, p("mix_clean"), *src_paths, length])
            rows["mix_both"].append([name, p("mix_both"), *src_paths, p("noise"), length])
            rows["mix_single"].append([name, p("mix_single"), src_paths[0], p("noise"), length])
            rep.names[subset].append(name)
            rep.lengths[subset][name] = length
        srcs_h = [f"source_{k}_path" for k in range(1, n_src + 1)]
        headers = {
            "mix_clean": ["mixture_ID", "mixture_path", *srcs_h, "length"],
            "mix_both": ["mixture_ID", "mixture_path", *srcs_h, "noise_path", "length"],
            "mix_single": ["mixture_ID", "mixture_path", "source_1_path", "noise_path", "length"],
        }
        os.makedirs(os.path.join(root, "metadata"), exist_ok=True)
        for mix_type, table in rows.items():
            path = os.path.join(root, "metadata", f"mixture_{subset}_{mix_type}.csv")
            with open(path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(headers[mix_type])
                w.writerows(table)
    return rep


# ---- helpers of the tests that use the replicas

def load_script(rel: str):
    """Import a recipe's local/*.py (they are scripts, not part of the sepcore package)."""
    path = REPO / rel
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def lines(path) -> list[str]:
    return Path(path).read_text().splitlines()


def pairs(path) -> list[tuple[str, str]]:
    """``(utt, value)`` of a two-column file; the paths of an ``*.scp`` resolved as sepcore
    reads them (sepcore/io/scp.py)."""
    from sepcore.io.scp import resolve_entry

    scp = str(path).endswith(".scp")
    return [(u, resolve_entry(v, Path(path).parent) if scp else v)
            for u, v in (line.split(" ", 1) for line in lines(path))]


def assert_c_sorted(path) -> None:
    keys = [line.split(" ", 1)[0] for line in lines(path)]
    assert keys == sorted(keys, key=lambda k: k.encode()), path


def run_recipe_script(recipe: str, *args: str, timeout: int = 120,
                      cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run ``args`` (e.g. local/prepare_data.sh ...) in egs/<recipe> (or ``cwd``) with the venv."""
    env = dict(os.environ, LC_ALL="C", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    env["PATH"] = f"{REPO / 'tools/venv/bin'}:{env['PATH']}"
    return subprocess.run(list(args), cwd=cwd or REPO / "egs" / recipe, env=env,
                          capture_output=True, text=True, timeout=timeout)


def copy_recipe(src: Path, dest: Path) -> Path:
    """A runnable copy of the recipe ``src`` in ``dest`` (run.sh, cmd.sh, conf/, local/;
    steps/, utils/ and path.sh linked to this checkout), so its data/ and exp/ stay there."""
    dest.mkdir(parents=True)
    for name in ("run.sh", "cmd.sh"):
        shutil.copy2(src / name, dest / name)
    shutil.copytree(src / "conf", dest / "conf")
    shutil.copytree(src / "local", dest / "local")
    for name in ("steps", "utils", "path.sh"):
        (dest / name).symlink_to(REPO / name)
    return dest
