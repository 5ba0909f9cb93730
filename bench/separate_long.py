"""Separate long 8 kHz files with the default ConvTasNet: time per audio minute and peak RSS.

    python bench/separate_long.py [--minutes 1 10 60] [--threads 2] [--workdir DIR]
                                  [--asteroid-python /tmp/asteroid-venv/bin/python]
                                  [--asteroid-seconds 10 60] [--json out.json]

Random weights are fine: the cost does not depend on them. Every length runs in
a fresh process through the same code path as ``sepcore-separate`` (read the
file, chunked overlap-add separation, rescale, write one wav per source), so the
process's peak RSS (``ru_maxrss``) is the figure a user would see. The time
reported is the separation of the file (read to written), excluding the imports
and the model load, which are reported apart.

On a slow or busy machine ``--limit S`` caps the model time per file: later
chunks skip the model but every buffer is still filled, rescaled and written, so
the peak RSS is still the whole file's, and the time is extrapolated from the
chunks run (marked ESTIMATED in the output).

With ``--asteroid-python`` (a separate venv holding asteroid 0.7.0, see
shared/ANCHORS.md; never a sepcore dependency) Asteroid's ``ConvTasNet.separate``
runs on the same kind of input, with the same architecture, in its own process
too, so the two can be compared as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SR = 8000

ASTEROID_CHILD = r"""
import resource, sys, time, json
import numpy as np, soundfile as sf, torch
torch.set_num_threads(int(sys.argv[2]))
from asteroid.models import ConvTasNet
torch.manual_seed(0)
model = ConvTasNet(n_src=2, sample_rate=8000).eval()
rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0, c0 = time.perf_counter(), time.process_time()
wav, sr = sf.read(sys.argv[1], dtype="float32")
with torch.inference_mode():
    est = model.separate(torch.from_numpy(wav)[None])
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rss_mb": resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_loaded_mb": rss_loaded,
    "shape": list(est.shape)}))
"""


def make_input(path: Path, minutes: float, seed: int = 0) -> None:
    """Speech-like test signal (two modulated tone mixtures + noise), written in blocks."""
    import numpy as np
    import soundfile as sf

    total = int(round(minutes * 60 * SR))
    rng = np.random.default_rng(seed)
    block = 60 * SR
    with sf.SoundFile(path, "w", SR, 1, subtype="PCM_16") as f:
        for t0 in range(0, total, block):
            n = min(block, total - t0)
            t = (t0 + np.arange(n)) / SR
            a = 0.25 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
            b = 0.2 * np.sin(2 * np.pi * 1100 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.3 * t))
            f.write((a + b + 0.03 * rng.standard_normal(n)).astype(np.float32))


def child(args) -> None:
    """Runs in a fresh process: load, separate one file like sepcore-separate, report."""
    import resource

    import torch

    torch.set_num_threads(args.threads)
    import threading

    import soundfile as sf

    from sepcore.api import load
    from sepcore.inference import chunk_bounds
    from sepcore.separate import separate_to_files

    model = load(args.model)
    model.set_wiener(getattr(args, "wiener_iterations", None))
    plan = model.plan()
    runner = model.runner
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = len(chunk_bounds(sf.info(args.input).frames, plan))
    done = [0]
    stat = {"model_seconds": 0.0, "model_cpu_seconds": 0.0, "model_chunks": 0,
            "skipped_chunks": 0}
    stop = threading.Event()
    start = time.perf_counter()
    forward = runner.forward

    def timed_forward(x):
        done[0] += 1
        if args.limit and time.perf_counter() - start > args.limit:
            # fast-forward: the model is skipped, every buffer is still filled and written
            stat["skipped_chunks"] += 1
            return torch.zeros((x.shape[0], model.num_sources) + tuple(x.shape[1:]))
        t, c = time.perf_counter(), time.process_time()
        y = forward(x)
        stat["model_seconds"] += time.perf_counter() - t
        stat["model_cpu_seconds"] += time.process_time() - c
        stat["model_chunks"] += 1
        return y

    runner.forward = timed_forward

    def report() -> None:  # progress on stderr, so a long run can be followed (and cut short)
        while not stop.wait(60):
            print(f"[bench] {time.perf_counter() - start:7.0f} s: chunk {done[0]}/{total}, peak "
                  f"RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
                  file=sys.stderr, flush=True)

    threading.Thread(target=report, daemon=True).start()
    outputs = [str(Path(args.out_dir) / f"x_{s}.wav") for s in model.output_names()]
    t0, c0 = time.perf_counter(), time.process_time()
    audio_seconds = separate_to_files(model, args.input, outputs, plan)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    stop.set()
    model_total = stat["model_seconds"]
    if stat["skipped_chunks"]:  # time of the whole file, estimated from the chunks run
        k = stat["skipped_chunks"] / max(1, stat["model_chunks"])
        seconds += stat["model_seconds"] * k
        cpu += stat["model_cpu_seconds"] * k
        model_total *= 1 + k
    print(json.dumps({
        **stat, "estimated": bool(stat["skipped_chunks"]),
        "seconds": seconds, "cpu_seconds": cpu, "audio_seconds": audio_seconds, "chunks": total,
        "other_seconds": seconds - model_total,  # read, resample, rescale, write
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_loaded_mb": rss_loaded, "window_s": plan.window / model.sample_rate,
        "hop_s": plan.hop / model.sample_rate, "wiener": model.wiener_settings(),
    }))


def bench_sepcore(model: Path, wav: Path, out: Path, threads: int, env: dict,
                  limit: float | None = None, extra: tuple = ()) -> dict:
    """Separate ``wav`` with ``model`` in a fresh child process; print and return its figures."""
    r = run_child([sys.executable, __file__, "--child", "--model", str(model), "--input",
                   str(wav), "--out-dir", str(out), "--threads", str(threads), *extra]
                  + (["--limit", str(limit)] if limit else []), env)
    r["minutes"] = r["audio_seconds"] / 60
    r["s_per_audio_min"] = r["seconds"] / r["minutes"]
    r["cpu_s_per_audio_min"] = r["cpu_seconds"] / r["minutes"]
    est = (f" [ESTIMATED: model run on {r['model_chunks']}/{r['chunks']} chunks]"
           if r["estimated"] else "")
    print(f"sepcore  {r['minutes']:6g} min: {r['seconds']:8.1f} s = {r['s_per_audio_min']:6.2f} s "
          f"per audio minute, peak RSS {r['rss_mb']:7.0f} MB (after load "
          f"{r['rss_loaded_mb']:.0f} MB; window {r['window_s']:.2f} s, hop "
          f"{r['hop_s']:.2f} s; CPU {r['cpu_s_per_audio_min']:.1f} s per audio minute; "
          f"outside the model {r['other_seconds']:.1f} s){est}", flush=True)
    return r


def run_child(cmd: list[str], env: dict) -> dict:
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)  # stderr passes through
    if p.returncode != 0:
        raise SystemExit(f"child failed ({p.returncode}): {' '.join(cmd)}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, nargs="*", default=[1, 10, 60])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workdir", default=None, help="default: a temporary folder, removed")
    ap.add_argument("--asteroid-python", default=None)
    ap.add_argument("--asteroid-seconds", type=float, nargs="+", default=[10, 60])
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--limit", type=float, default=None,
                    help="seconds of model time per file; later chunks skip the model (their "
                         "buffers are still filled, rescaled and written, so the peak RSS is "
                         "the whole file's) and the time is extrapolated from the chunks run")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", help=argparse.SUPPRESS)
    ap.add_argument("--wiener-iterations", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return

    import torch

    from sepcore.modelfile import save_model_file
    from sepcore.models import build_model, count_parameters

    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    tmp = tempfile.TemporaryDirectory(prefix="sepcore-bench-")
    work = Path(args.workdir or tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    cfg = {"name": "convtasnet", "num_sources": 2}
    model = build_model(cfg)
    save_model_file(work / "model.pt", model, cfg, SR, ["spk1", "spk2"], {})
    print(f"default ConvTasNet: {count_parameters(model) / 1e6:.2f} M parameters, receptive "
          f"field {model.receptive_field()} samples per side; {args.threads} threads",
          flush=True)
    results = {"sepcore": [], "asteroid": []}

    def save(res: dict) -> None:
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2) + "\n")

    for minutes in args.minutes:
        wav = work / f"long_{minutes:g}min.wav"
        if not wav.exists():
            make_input(wav, minutes)
        out = work / f"out_{minutes:g}"
        out.mkdir(exist_ok=True)
        results["sepcore"].append(bench_sepcore(work / "model.pt", wav, out, args.threads, env,
                                                args.limit))
        save(results)
        for f in out.iterdir():
            f.unlink()
        if not args.workdir:
            wav.unlink()
    if args.asteroid_python:
        for seconds in args.asteroid_seconds:
            wav = work / f"ast_{seconds:g}s.wav"
            make_input(wav, seconds / 60)
            out = work / "ast_out"
            out.mkdir(exist_ok=True)
            r = run_child([args.asteroid_python, "-c", ASTEROID_CHILD, str(wav),
                           str(args.threads)], dict(env, PYTHONPATH=""))
            r["audio_seconds"] = seconds
            r["s_per_audio_min"] = r["seconds"] / (seconds / 60)
            r["cpu_s_per_audio_min"] = r["cpu_seconds"] / (seconds / 60)
            results["asteroid"].append(r)
            print(f"asteroid {seconds:6g} s  : {r['seconds']:8.1f} s = "
                  f"{r['s_per_audio_min']:6.2f} s per audio minute (CPU "
                  f"{r['cpu_s_per_audio_min']:.1f}), peak RSS {r['rss_mb']:7.0f} MB", flush=True)
            s = next((x for x in results["sepcore"] if x["audio_seconds"] == seconds), None)
            if s is None:
                r2 = run_child([sys.executable, __file__, "--child", "--model",
                                str(work / "model.pt"), "--input", str(wav), "--out-dir",
                                str(out), "--threads", str(args.threads)], env)
                r2["s_per_audio_min"] = r2["seconds"] / (seconds / 60)
                r2["cpu_s_per_audio_min"] = r2["cpu_seconds"] / (seconds / 60)
                r2["minutes"] = seconds / 60
                results["sepcore"].append(r2)
                print(f"sepcore  {seconds:6g} s  : {r2['seconds']:8.1f} s = "
                      f"{r2['s_per_audio_min']:6.2f} s per audio minute (CPU "
                      f"{r2['cpu_s_per_audio_min']:.1f}), peak RSS {r2['rss_mb']:7.0f} MB",
                      flush=True)
            save(results)
    save(results)
    tmp.cleanup()


if __name__ == "__main__":
    main()
