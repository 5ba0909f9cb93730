"""Separate long stereo 44.1 kHz songs with the full-size Open-Unmix: s per audio minute, peak RSS.

    python bench/separate_music.py [--minutes 1 10] [--threads 2] [--wiener-iterations 1]
                                   [--joint separate] [--workdir DIR] [--limit S]
                                   [--openunmix-path /tmp/umx-pkgs] [--openunmix-minutes 1]
                                   [--json out.json]

The model is ``umx`` with the paper's configuration (4 targets × 8.9 M parameters, STFT
4096/1024, 1487 bins, 3-layer BLSTM of 512), random weights (the cost does not depend on
them), and one Wiener EM iteration. Every length runs in a fresh process through the
path of ``sepcore-separate song.wav`` (read, resample if needed, chunked separation with
cross-faded overlap, Wiener filter per chunk in blocks of frames, write four stems), so
the process's peak RSS (``ru_maxrss``) is what a user sees. Time: read to written,
without imports and model load. The child is bench/separate_long.py's.

``--limit S`` caps the model time per file: later chunks skip the model and Wiener
filter (every buffer is still filled and written, so the peak RSS is still the whole
file's) and the time is extrapolated from the chunks run (marked ESTIMATED).

``--openunmix-path`` (a folder where ``pip install --no-deps --target DIR openunmix``
put Open-Unmix 1.3; never a sepcore dependency) runs Open-Unmix's own ``Separator``
(same architecture, random weights, ``niter=1``, its default ``wiener_win_len`` 300)
on the whole track of each ``--openunmix-minutes`` length, in its own process. Its
``import torchaudio`` (only used for file I/O) is replaced by an empty module.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from separate_long import bench_sepcore, run_child  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SR = 44100
STEMS = ["drums", "bass", "other", "vocals"]

OPENUNMIX_CHILD = r"""
import resource, sys, time, json, types
sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
import numpy as np, soundfile as sf, torch
torch.set_num_threads(int(sys.argv[2]))
from openunmix.model import OpenUnmix, Separator
torch.manual_seed(0)
targets = {t: OpenUnmix(nb_bins=2049, nb_channels=2, hidden_size=512, nb_layers=3,
                        max_bin=1487) for t in ["drums", "bass", "other", "vocals"]}
sep = Separator(targets, niter=1, sample_rate=44100).eval()
sep.freeze()
rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0, c0 = time.perf_counter(), time.process_time()
wav, sr = sf.read(sys.argv[1], dtype="float32")
with torch.inference_mode():
    est = sep(torch.from_numpy(wav.T.copy())[None])
for j, name in enumerate(targets):
    sf.write(f"{sys.argv[3]}/x_{name}.wav", est[0, j].T.numpy(), sr, subtype="PCM_16")
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rss_mb": resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_loaded_mb": rss_loaded,
    "shape": list(est.shape)}))
"""


def make_song(path: Path, minutes: float, seed: int = 0) -> None:
    """A music-like stereo test signal (bass line, chords, noise hits), written in blocks."""
    import numpy as np
    import soundfile as sf

    total = int(round(minutes * 60 * SR))
    rng = np.random.default_rng(seed)
    block = 30 * SR
    with sf.SoundFile(path, "w", SR, 2, subtype="PCM_16") as f:
        for t0 in range(0, total, block):
            n = min(block, total - t0)
            t = (t0 + np.arange(n)) / SR
            beat = (t * 2.0) % 1.0
            bass = 0.2 * np.sin(2 * np.pi * 55 * (1 + (np.floor(t / 2) % 4) / 4) * t)
            chord = sum(0.06 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
            hits = 0.3 * np.exp(-30 * beat) * rng.standard_normal(n)
            left, right = bass + 0.8 * chord + hits, bass + 0.5 * chord + 0.7 * hits
            f.write(np.stack([left, right], 1).astype(np.float32))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, nargs="*", default=[1, 10])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--wiener-iterations", type=int, default=1)
    ap.add_argument("--joint", default="separate", help="umx joint mode (separate|bridge|shared)")
    ap.add_argument("--workdir", default=None, help="default: a temporary folder, removed")
    ap.add_argument("--limit", type=float, default=None,
                    help="seconds of model time per file; later chunks skip the model and "
                         "the time is extrapolated")
    ap.add_argument("--openunmix-path", default=None)
    ap.add_argument("--openunmix-minutes", type=float, nargs="+", default=[1])
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()

    import torch

    from sepcore.modelfile import save_model_file
    from sepcore.models import build_model, count_parameters

    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    tmp = tempfile.TemporaryDirectory(prefix="sepcore-bench-music-")
    work = Path(args.workdir or tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    cfg = {"name": "umx", "joint": args.joint}
    model = build_model(cfg)
    save_model_file(work / "model.pt", model, cfg, SR, STEMS, {})
    print(f"umx ({args.joint}): {count_parameters(model) / 1e6:.2f} M parameters, "
          f"{args.wiener_iterations} Wiener iteration(s); {args.threads} threads", flush=True)
    results: dict = {"sepcore": [], "openunmix": []}

    def save() -> None:
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")

    def per_minute(r: dict, seconds: float) -> None:
        r["s_per_audio_min"] = r["seconds"] / (seconds / 60)
        r["cpu_s_per_audio_min"] = r["cpu_seconds"] / (seconds / 60)

    for minutes in args.minutes:
        wav = work / f"song_{minutes:g}min.wav"
        if not wav.exists():
            make_song(wav, minutes)
        out = work / f"out_{minutes:g}"
        out.mkdir(exist_ok=True)
        results["sepcore"].append(bench_sepcore(
            work / "model.pt", wav, out, args.threads, env, args.limit,
            ("--wiener-iterations", str(args.wiener_iterations))))
        save()
        for f in out.iterdir():
            f.unlink()
    if args.openunmix_path:
        for minutes in args.openunmix_minutes:
            wav = work / f"song_{minutes:g}min.wav"
            if not wav.exists():
                make_song(wav, minutes)
            out = work / "umx_out"
            out.mkdir(exist_ok=True)
            r = run_child([sys.executable, "-c", OPENUNMIX_CHILD, str(wav), str(args.threads),
                           str(out)], dict(env, PYTHONPATH=args.openunmix_path))
            r["minutes"] = minutes
            per_minute(r, minutes * 60)
            results["openunmix"].append(r)
            print(f"openunmix {minutes:5g} min: {r['seconds']:8.1f} s = "
                  f"{r['s_per_audio_min']:6.1f} s per audio minute (CPU "
                  f"{r['cpu_s_per_audio_min']:.1f}), peak RSS {r['rss_mb']:6.0f} MB", flush=True)
            save()
    save()
    tmp.cleanup()


if __name__ == "__main__":
    main()
