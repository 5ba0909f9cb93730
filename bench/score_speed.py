#!/usr/bin/env python3
"""Scoring speed: utterances per second for the default metric set, beside Asteroid.

    python bench/score_speed.py [--num-utts 20] [--asteroid-python /tmp/asteroid-venv/bin/python]
                                [--nj-utts 40] [--json out.json]

Inputs: 2-source, 4 s, 8 kHz speech-like utterances (sepcore.metrics.synth), estimates with
cross-talk, filtering and noise, every other one with its sources swapped; the mixture has
a little noise. Metrics: si_sdr, sdr, sir, sar, stoi, pesq (nb), for the estimates and for
the mixture (input_*), with the permutation search, one thread.

Measured, in this order:
  1. sepcore, cold: ``score_utterance`` computing estimate and mixture metrics
  2. sepcore, warm: estimates only (the mixture's scores come from the data dir's cache,
     as for every experiment after the first on a test set)
  3. Asteroid 0.7 ``get_metrics(..., metrics_list="all", compute_permutation=True)`` on the
     same arrays, run by the Python of a separate venv (``--asteroid-python``; skipped when
     absent), interleaved per utterance with 1. and 2. in that same process so that both
     see the same machine load, and the largest difference of every value from ours
  4. ``python -m sepcore.bin.score`` end to end on a data dir of ``--nj-utts`` utterances
     (mixture cache off): one job alone, then two jobs at once (each job one thread);
     with ``--repeat R`` the fastest of R runs of each
Times are wall-clock per utterance (median of the per-utterance times, and the total) and
process CPU time; the machine may be shared, so compare figures taken in one run.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sepcore.metrics import DEFAULT_METRICS, score_utterance  # noqa: E402
from sepcore.metrics.synth import speech_like  # noqa: E402

SR = 8000
SECONDS = 4.0

ASTEROID_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
import torch
torch.set_num_threads(1)
from asteroid.metrics import get_metrics
sys.path.insert(0, sys.argv[2])
from sepcore.metrics import DEFAULT_METRICS, score_utterance
d = np.load(sys.argv[1])
mix, refs, ests, sr = d["mix"], d["refs"], d["ests"], int(d["sr"])
ms = list(DEFAULT_METRICS)

def ast(i):
    return get_metrics(mix[i][None], refs[i], ests[i], sample_rate=sr, metrics_list="all",
                       average=False, compute_permutation=True)

def cold(i):
    return score_utterance(ests[i], refs[i], mix[i], sr, ms)

def warm(i):
    return score_utterance(ests[i], refs[i], mix[i], sr, ms, input_metrics=[])

for f in (ast, cold, warm):
    f(0)  # warm-up (imports, first calls)
res = {name: {"times": [], "cpu": []} for name in ("asteroid", "cold", "warm")}
values = []
for i in range(len(mix)):  # interleaved, so that the machine's load hits all three alike
    for name, f in (("asteroid", ast), ("cold", cold), ("warm", warm)):
        t0, c0 = time.perf_counter(), time.process_time()
        m = f(i)
        res[name]["times"].append(time.perf_counter() - t0)
        res[name]["cpu"].append(time.process_time() - c0)
        if name == "asteroid":
            values.append({k: np.asarray(v, dtype=float).reshape(-1).tolist()
                           for k, v in m.items()})
res["values"] = values
json.dump(res, sys.stdout)
"""


def make_inputs(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    T = int(SECONDS * SR)
    mixes, refs_all, ests_all = [], [], []
    for i in range(n):
        refs = np.stack([speech_like(SECONDS, SR, seed * 1000 + 2 * i + k) for k in range(2)])
        refs[1] *= rng.uniform(0.5, 1.5)
        mixing = np.array([[1.0, rng.uniform(0.05, 0.3)], [rng.uniform(0.05, 0.3), 1.0]])
        ests = scipy.signal.lfilter([1.0, 0.2], [1.0], mixing @ refs, axis=1)
        ests += 0.01 * rng.standard_normal((2, T))
        if i % 2:
            ests = ests[::-1]
        mix = refs.sum(0) + 0.003 * rng.standard_normal(T)
        mixes.append(mix)
        refs_all.append(refs)
        ests_all.append(ests)
    return np.stack(mixes), np.stack(refs_all), np.stack(ests_all)


def time_sepcore(mix, refs, ests, with_inputs: bool):
    metrics = list(DEFAULT_METRICS)
    score_utterance(ests[0], refs[0], mix[0], SR, metrics)  # warm-up (imports)
    times, cpu, results = [], [], []
    for i in range(len(mix)):
        t0, c0 = time.perf_counter(), time.process_time()
        r = score_utterance(ests[i], refs[i], mix[i], SR, metrics,
                            input_metrics=metrics if with_inputs else [])
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        results.append(r)
    return times, cpu, results


def breakdown(mix, refs, ests):
    """CPU ms per utterance (estimates + mixture) of each part, ours beside the reference."""
    import warnings

    import mir_eval
    from pystoi import stoi as pystoi

    def cpu_ms(fn):
        fn(0)
        c0 = time.process_time()
        for i in range(len(mix)):
            fn(i)
        return 1000 * (time.process_time() - c0) / len(mix)

    def ours(ms):
        return lambda i: score_utterance(ests[i], refs[i], mix[i], SR, ms)

    def mir(i):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mir_eval.separation.bss_eval_sources(refs[i], ests[i])
            mir_eval.separation.bss_eval_sources(refs[i], np.stack([mix[i]] * 2), False)

    def pst(i):
        for j in range(2):
            pystoi(refs[i, j], ests[i, j], SR)
            pystoi(refs[i, j], mix[i], SR)

    rows = [("si_sdr (+ permutation)", cpu_ms(ours(["si_sdr"])), None),
            ("sdr, sir, sar  | mir_eval", cpu_ms(ours(["sdr", "sir", "sar"])), cpu_ms(mir)),
            ("stoi           | pystoi", cpu_ms(ours(["stoi"])), cpu_ms(pst)),
            ("pesq (the pesq package)", cpu_ms(ours(["pesq"])), None)]
    print("# CPU ms per utterance, estimates + mixture: sepcore | reference implementation")
    for name, a, b in rows:
        print(f"  {name:<28} {a:7.1f}" + ("" if b is None else f" | {b:7.1f}  ({b / a:.1f}x)"))
    return {name: {"sepcore": a, "reference": b} for name, a, b in rows}


def summarize(name, times, cpu):
    n = len(times)
    total = sum(times)
    d = {"name": name, "utts": n, "ms_per_utt_median": 1000 * float(np.median(times)),
         "ms_per_utt_mean": 1000 * total / n, "utt_per_s": n / total,
         "cpu_ms_per_utt": 1000 * sum(cpu) / n}
    print(f"{name:<44} {d['ms_per_utt_median']:8.1f} ms/utt (median)  "
          f"{d['ms_per_utt_mean']:8.1f} ms/utt (mean)  {d['utt_per_s']:6.2f} utt/s  "
          f"cpu {d['cpu_ms_per_utt']:7.1f} ms/utt", flush=True)
    return d


def compare_with_asteroid(ours, theirs):
    """Largest |ours - asteroid| per metric (inputs included), over utterances and sources."""
    worst: dict[str, float] = {}
    perm_agree = 0
    for r, a in zip(ours, theirs):
        for m in DEFAULT_METRICS:
            for key, vals in ((m, r.values[m]), (f"input_{m}", r.inputs[m])):
                diff = np.max(np.abs(np.asarray(vals) - np.asarray(a[key])))
                worst[key] = max(worst.get(key, 0.0), float(diff))
        perm_agree += int(r.perm == [0, 1] or r.perm == [1, 0])
    return worst


def write_data_dir(root: Path, mix, refs, ests):
    import soundfile as sf

    data, sep = root / "data" / "bench", root / "exp" / "bench" / "separate" / "bench"
    for d in (data / "wav", sep / "wav"):
        d.mkdir(parents=True, exist_ok=True)
    scp = {k: [] for k in ("wav", "spk1", "spk2", "e1", "e2")}
    for i in range(len(mix)):
        u = f"utt{i:04d}"
        sf.write(data / "wav" / f"{u}.wav", mix[i], SR, subtype="FLOAT")
        for k in range(2):
            sf.write(data / "wav" / f"{u}_s{k + 1}.wav", refs[i, k], SR, subtype="FLOAT")
            sf.write(sep / "wav" / f"{u}_e{k + 1}.wav", ests[i, k], SR, subtype="FLOAT")
            scp[f"spk{k + 1}"].append(f"{u} {data}/wav/{u}_s{k + 1}.wav\n")
            scp[f"e{k + 1}"].append(f"{u} {sep}/wav/{u}_e{k + 1}.wav\n")
        scp["wav"].append(f"{u} {data}/wav/{u}.wav\n")
    (data / "wav.scp").write_text("".join(scp["wav"]))
    for k in (1, 2):
        (data / f"spk{k}.scp").write_text("".join(scp[f"spk{k}"]))
        (sep / f"spk{k}.scp").write_text("".join(scp[f"e{k}"]))
    return data, sep


def time_jobs(data: Path, sep: Path, nj: int) -> tuple[float, list[float]]:
    """Wall time of ``nj`` parallel score.py jobs, and each job's CPU time (user + sys)."""
    shutil.rmtree(sep / "scores", ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "sepcore.bin.score", "--use-cache", "false", "--progress",
           "false", str(data), str(sep)]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd + ["--job", str(j), "--num-jobs", str(nj)], env=env,
                              stderr=subprocess.DEVNULL) for j in range(1, nj + 1)]
    cpu = []
    for p in procs:
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode:
            raise SystemExit("score.py job failed")
        cpu.append(usage.ru_utime + usage.ru_stime)
    wall = time.perf_counter() - t0
    subprocess.run(cmd + ["--merge"], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return wall, cpu


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--num-utts", type=int, default=20)
    p.add_argument("--asteroid-python", default="/tmp/asteroid-venv/bin/python",
                   help="python of a venv with asteroid 0.7 (see shared/ANCHORS.md)")
    p.add_argument("--nj-utts", type=int, default=40,
                   help="utterances for the end-to-end --nj 1 vs 2 run (0: skip)")
    p.add_argument("--breakdown", action="store_true",
                   help="also time each metric beside mir_eval / pystoi")
    p.add_argument("--repeat", type=int, default=1,
                   help="repeat the --nj 1 / --nj 2 runs, keep the fastest of each")
    p.add_argument("--json", help="write all figures here")
    args = p.parse_args()

    print(f"# {args.num_utts} utterances, 2 sources, {SECONDS:g} s, {SR} Hz; metrics "
          f"{','.join(DEFAULT_METRICS)} (+ input_*), 1 thread; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    mix, refs, ests = make_inputs(args.num_utts)
    report: dict = {"utts": args.num_utts, "seconds": SECONDS, "sample_rate": SR}
    t, c, ours = time_sepcore(mix, refs, ests, with_inputs=True)
    report["sepcore_cold"] = summarize("sepcore (estimates + mixture)", t, c)
    t, c, _ = time_sepcore(mix, refs, ests, with_inputs=False)
    report["sepcore_warm"] = summarize("sepcore (estimates; mixture cached)", t, c)

    if args.breakdown:
        report["breakdown_cpu_ms"] = breakdown(mix, refs, ests)

    py = Path(args.asteroid_python)
    if py.exists():
        with tempfile.TemporaryDirectory() as tmp:
            np.savez(Path(tmp) / "in.npz", mix=mix, refs=refs, ests=ests, sr=SR)
            out = subprocess.run([str(py), "-c", ASTEROID_SCRIPT, str(Path(tmp) / "in.npz"),
                                  str(ROOT)],
                                 capture_output=True, text=True,
                                 env=dict(os.environ, PYTHONPATH=""))
        if out.returncode != 0:
            print(f"asteroid run failed:\n{out.stderr[-2000:]}")
        else:
            a = json.loads(out.stdout)
            print("# interleaved per utterance in one process (asteroid's venv):")
            report["asteroid"] = summarize("asteroid get_metrics (estimates + mixture)",
                                           a["asteroid"]["times"], a["asteroid"]["cpu"])
            for key, label in (("cold", "sepcore (estimates + mixture)"),
                               ("warm", "sepcore (estimates; mixture cached)")):
                report[f"interleaved_{key}"] = summarize(label, a[key]["times"], a[key]["cpu"])
            worst = compare_with_asteroid(ours, a["values"])
            report["max_abs_diff_vs_asteroid"] = worst
            print("largest |sepcore - asteroid| per value: " + ", ".join(
                f"{k} {v:.1e}" for k, v in worst.items()))
            for key in ("cold", "warm"):
                r = report[f"interleaved_{key}"]
                sp = report["asteroid"]["ms_per_utt_mean"] / r["ms_per_utt_mean"]
                cpu = report["asteroid"]["cpu_ms_per_utt"] / r["cpu_ms_per_utt"]
                report[f"speedup_{key}"] = {"wall": sp, "cpu": cpu}
                print(f"speed-up over asteroid, {key}: {sp:.2f}x wall, {cpu:.2f}x cpu time "
                      "(utterances per second per core)")
    else:
        print(f"asteroid: {py} not found, skipped (see shared/ANCHORS.md to install it)")

    if args.nj_utts:
        nm, nr, ne = make_inputs(args.nj_utts, seed=1)
        with tempfile.TemporaryDirectory() as tmp:
            data, sep = write_data_dir(Path(tmp), nm, nr, ne)
            runs1 = [time_jobs(data, sep, 1) for _ in range(args.repeat)]
            runs2 = [time_jobs(data, sep, 2) for _ in range(args.repeat)]
            w1, c1 = min(runs1)  # the least disturbed run of each
            w2, c2 = min(runs2)
        report["score_py"] = {"utts": args.nj_utts, "nj1_s": w1, "nj2_s": w2,
                              "nj1_utt_per_s": args.nj_utts / w1,
                              "nj2_utt_per_s": args.nj_utts / w2, "speedup": w1 / w2,
                              "nj1_job_cpu_s": c1, "nj2_job_cpu_s": c2,
                              "speedup_if_2_free_cores": sum(c1) / max(c2)}
        print(f"score.py end to end, {args.nj_utts} utts (cold, incl. start-up and audio "
              f"reading): nj=1 {w1:.1f} s wall ({args.nj_utts / w1:.2f} utt/s), nj=2 {w2:.1f} s "
              f"wall ({args.nj_utts / w2:.2f} utt/s): speed-up {w1 / w2:.2f}x")
        print(f"  cpu time per job: nj=1 {' '.join(f'{c:.1f}' for c in c1)} s; nj=2 "
              f"{' '.join(f'{c:.1f}' for c in c2)} s: wall speed-up with 2 free cores = "
              f"{sum(c1) / max(c2):.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
