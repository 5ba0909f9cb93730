#!/usr/bin/env python3
"""Report speed and size: ``python -m sepcore.bin.report`` with its default options on a
250-utterance test set (the mini recipe's test set size).

    python bench/report_speed.py [--num-utts 250] [--metrics default] [--exp EXP] [--json F]

Without ``--exp``: a scored experiment is made in a temporary folder: 2-source 8 kHz
speech-like utterances of 3-6 s (sepcore.metrics.synth), estimates with a cross-talk that
varies by utterance, scored by ``python -m sepcore.bin.score`` with ``--metrics``, a
history.tsv of 20 validations and a config.yaml; the making is not timed. With ``--exp``:
the report of that exp dir (e.g. a mini recipe run, whose dev and test sets are both in
the report). Times the entry point end to end in a subprocess (imports included): wall
time and the CPU time of the process; the size of the report folder. The machine may be
shared: compare figures taken in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sepcore.metrics.synth import speech_like  # noqa: E402

SR = 8000


def make_exp(root: Path, num_utts: int, metrics: str) -> Path:
    rng = np.random.default_rng(0)
    data, exp = root / "data" / "test", root / "exp" / "bench"
    sep = exp / "separate" / "test"
    for d in (data, root / "wav", sep / "wav"):
        d.mkdir(parents=True, exist_ok=True)
    lists: dict[Path, list[str]] = {}
    for i in range(num_utts):
        utt = f"utt{i:04d}"
        seconds = rng.uniform(3.0, 6.0)
        s = [speech_like(seconds, SR, seed=2 * i + k) for k in range(2)]
        leak = rng.uniform(0.02, 0.6)
        files = {data / "wav.scp": (root / "wav" / f"{utt}_mix.wav", s[0] + s[1]),
                 data / "spk1.scp": (root / "wav" / f"{utt}_s1.wav", s[0]),
                 data / "spk2.scp": (root / "wav" / f"{utt}_s2.wav", s[1]),
                 sep / "spk1.scp": (sep / "wav" / f"{utt}_spk1.wav", s[0] + leak * s[1]),
                 sep / "spk2.scp": (sep / "wav" / f"{utt}_spk2.wav", s[1] + leak * s[0])}
        for scp, (path, x) in files.items():
            sf.write(path, np.clip(x, -1, 1), SR, subtype="PCM_16")
            lists.setdefault(scp, []).append(f"{utt} {path}\n")
    for scp, lines in lists.items():
        scp.write_text("".join(sorted(lines)))
    rows = ["epoch\tsteps\ttrain_loss\tvalid_loss\tvalid_si_sdri\tlr\tepoch_seconds\t"
            "elapsed_minutes"]
    rows += [f"{e}\t{800 * e}\t{-e * 0.4:.4f}\t{-e * 0.38:.4f}\t{e * 0.4:.3f}\t1.000e-03\t"
             f"50.0\t{0.85 * e:.2f}" for e in range(1, 21)]
    (exp / "history.tsv").write_text("\n".join(rows) + "\n")
    (exp / "config.yaml").write_text("model: {name: convtasnet}\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for extra in ([], ["--merge"]):
        subprocess.run([sys.executable, "-m", "sepcore.bin.score", *extra, "--metrics", metrics,
                        "--progress", "false", "--use-cache", "false", str(data), str(sep)],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return exp


def folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--num-utts", type=int, default=250)
    p.add_argument("--metrics", default="default", help="metrics of the made test set")
    p.add_argument("--exp", default=None, help="report this exp dir instead of a made one")
    p.add_argument("--json", default=None, help="also write the figures here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        if args.exp:
            exp = Path(args.exp)
        else:
            t0 = time.perf_counter()
            exp = make_exp(Path(tmp), args.num_utts, args.metrics)
            print(f"made and scored {args.num_utts} utterances in "
                  f"{time.perf_counter() - t0:.0f} s (not timed)")
        out = Path(tmp) / "report"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sepcore.bin.report", "--out-dir", str(out),
                        str(exp)], check=True, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        size, count = folder_size(out)
    result = {"exp": str(args.exp or f"made: {args.num_utts} utterances, {args.metrics}"),
              "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
              "size_mb": round(size / 1e6, 2), "files": count, "cores": os.cpu_count(),
              "load_average_1min": round(os.getloadavg()[0], 2)}
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
