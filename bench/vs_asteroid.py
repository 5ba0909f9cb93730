#!/usr/bin/env python3
"""sepcore against Asteroid 0.7.0 on the same CPU, in one process: ConvTasNet and DPRNN
(and SuDoRM-RF with ``--models convtasnet,dprnn,sudormrf``).

Usage: tools/venv/bin/python bench/vs_asteroid.py [--asteroid-venv DIR] [--threads 2]
                                                  [--reps 5] [--quick] [--no-tcmalloc]
                                                  [--precision fp32|bf16]

Both models are built with Asteroid's defaults (``ConvTasNet(n_src=2)``,
``DPRNNTasNet(n_src=2)``, ``SuDORMRFImprovedNet(n_src=2)``; sepcore's defaults are the same
architectures) and sepcore's are given Asteroid's weights, so the two compute the same
function: the script checks that their outputs agree before timing. Asteroid's SuDoRM-RF
pads its encoder by a hop in front; sepcore's is given that hop of zeros (and its output
cut by as much) for the check and the training step, so that the frames are the same.
Timed, as medians over ``--reps`` interleaved repetitions (Asteroid, sepcore, Asteroid,
... with the order swapped every repetition) after one warm-up:

- a training step: batch 4 x 4 s at 8 kHz, PIT SI-SDR (Asteroid's ``PITLossWrapper
  (pairwise_neg_sisdr)``, sepcore's ``si_sdr`` criterion), backward, Adam;
- separation of one 10 s and one 60 s mixture under ``torch.inference_mode``: Asteroid's
  model called on the tensor, sepcore through the path users call,
  ``sepcore.load(...).separate`` (one pass up to 60 s, chunked beyond);

wall and process CPU seconds, the speed-up (Asteroid / sepcore), the real-time factor of
separation, and the achieved GFLOP/s of sepcore's step (matrix products and
convolutions counted by bench/model_flops.py's counter, a training step counted as 3x its
forward) as a share of this machine's float32 matrix-product peak (2048^2, the faster of
MKL's and oneDNN's, on the same threads, measured first).

Asteroid is not a sepcore dependency: install it in a separate venv (bench/README.md)
and point ``--asteroid-venv`` (or ``ASTEROID_VENV``) at it; its site-packages are
appended to ``sys.path`` after sepcore's, so both sides run on this process's one torch.
Without it the sepcore side alone is timed, with a message. tcmalloc (utils/
find_tcmalloc.sh) is preloaded for both sides by re-executing the script, as
steps/train.sh does for training; ``--no-tcmalloc`` keeps glibc's malloc.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

SAMPLE_RATE = 8000


def preload_tcmalloc(argv: list[str]) -> None:
    """Re-execute under tcmalloc (once), unless asked not to or unavailable."""
    if "--no-tcmalloc" in argv or os.environ.get("_VS_ASTEROID_CHILD"):
        return
    found = subprocess.run([os.path.join(ROOT, "utils/find_tcmalloc.sh")],
                           capture_output=True, text=True)
    if found.returncode != 0:
        print("note: tcmalloc not found (utils/find_tcmalloc.sh): glibc malloc for both sides")
        return
    env = dict(os.environ, _VS_ASTEROID_CHILD="1")
    env["LD_PRELOAD"] = ":".join(x for x in (found.stdout.strip(), env.get("LD_PRELOAD")) if x)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable] + argv, env)


def import_asteroid(venv: str | None):
    """({model name: Asteroid's class}, PITLossWrapper, pairwise_neg_sisdr), or None with a
    reason."""
    if venv:
        sites = glob.glob(os.path.join(venv, "lib", "python*", "site-packages"))
        if not sites:
            return None, f"{venv}: no lib/python*/site-packages (expected a venv)"
        sys.path.extend(sites)
    try:
        import torch
        from asteroid.losses import PITLossWrapper, pairwise_neg_sisdr
        from asteroid.models import ConvTasNet, DPRNNTasNet, SuDORMRFImprovedNet
    except ImportError as e:
        return None, (f"Asteroid is not importable ({e}); install it in a separate venv "
                      f"(bench/README.md) and pass --asteroid-venv DIR")
    if venv:
        out = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                              "import torch; print(torch.__version__)"],
                             capture_output=True, text=True)
        theirs = out.stdout.strip()
        if theirs and theirs != torch.__version__:
            print(f"note: the Asteroid venv has torch {theirs}; both sides run on this "
                  f"process's torch {torch.__version__}")
    classes = {"convtasnet": ConvTasNet, "dprnn": DPRNNTasNet, "sudormrf": SuDORMRFImprovedNet}
    return (classes, PITLossWrapper, pairwise_neg_sisdr), None


# Asteroid's parameter names -> sepcore's (ConvTasNet, DPRNNTasNet, SuDORMRFImprovedNet)
RENAMES = [
    (r"^encoder\.(encoder\.)?filterbank\._filters$", "encoder.weight"),
    (r"^decoder\.filterbank\._filters$", "decoder.weight"),
    (r"^masker\.bottleneck\.0\.", "in_norm."),
    (r"^masker\.bottleneck\.1\.", "bottleneck."),
    (r"^masker\.TCN\.(\d+)\.shared_block\.0\.", r"blocks.\1.in_conv."),
    (r"^masker\.TCN\.(\d+)\.shared_block\.1\.", r"blocks.\1.act1."),
    (r"^masker\.TCN\.(\d+)\.shared_block\.2\.", r"blocks.\1.norm1."),
    (r"^masker\.TCN\.(\d+)\.shared_block\.3\.", r"blocks.\1.dconv."),
    (r"^masker\.TCN\.(\d+)\.shared_block\.4\.", r"blocks.\1.act2."),
    (r"^masker\.TCN\.(\d+)\.shared_block\.5\.", r"blocks.\1.norm2."),
    (r"^masker\.TCN\.(\d+)\.", r"blocks.\1."),
    (r"^masker\.mask_net\.0\.", "mask_act."),
    (r"^masker\.mask_net\.1\.", "mask_conv."),
    (r"^masker\.net\.(\d+)\.intra_RNN\.rnn\.", r"blocks.\1.intra_rnn."),
    (r"^masker\.net\.(\d+)\.inter_RNN\.rnn\.", r"blocks.\1.inter_rnn."),
    (r"^masker\.net\.(\d+)\.", r"blocks.\1."),
    (r"^masker\.first_out\.0\.", "out_act."),
    (r"^masker\.first_out\.1\.", "out_conv."),
    (r"^masker\.net_out\.0\.", "gate_tanh."),
    (r"^masker\.net_gate\.0\.", "gate_sigmoid."),
    (r"^masker\.mask_net\.", "mask_conv."),
    (r"^masker\.ln\.", "in_norm."),
    (r"^masker\.bottleneck\.", "bottleneck."),
    (r"^masker\.sm\.(\d+)\.proj_1x1\.conv\.", r"blocks.\1.proj."),
    (r"^masker\.sm\.(\d+)\.proj_1x1\.norm\.", r"blocks.\1.proj_norm."),
    (r"^masker\.sm\.(\d+)\.proj_1x1\.act\.", r"blocks.\1.proj_act."),
    (r"^masker\.sm\.(\d+)\.spp_dw\.(\d+)\.conv\.", r"blocks.\1.convs.\2."),
    (r"^masker\.sm\.(\d+)\.spp_dw\.(\d+)\.norm\.", r"blocks.\1.norms.\2."),
    (r"^masker\.sm\.(\d+)\.final_norm\.norm\.", r"blocks.\1.final_norm."),
    (r"^masker\.sm\.(\d+)\.final_norm\.act\.", r"blocks.\1.final_act."),
    (r"^masker\.sm\.(\d+)\.", r"blocks.\1."),
]


def copy_weights(src, dst) -> None:
    """Asteroid's parameters into sepcore's model (the same tensors up to shape).

    Asteroid's ConvTasNet keeps a residual conv in its last block that nothing uses;
    sepcore's has none, and that tensor is left out."""
    import re

    import torch

    ours = dst.state_dict()
    done = set()
    with torch.no_grad():
        for key, value in src.state_dict().items():
            name = key
            for pattern, repl in RENAMES:
                name, n = re.subn(pattern, repl, name)
                if n:
                    break
            if name not in ours:
                if re.match(r"blocks\.\d+\.res_conv\.", name):
                    continue
                raise SystemExit(f"cannot map Asteroid's {key} (as {name})")
            if ours[name].numel() != value.numel():
                raise SystemExit(f"cannot map {key} {tuple(value.shape)} to {name} "
                                 f"{tuple(ours[name].shape)}")
            ours[name].copy_(value.reshape(ours[name].shape))
            done.add(name)
    missing = sorted(set(ours) - done)
    if missing:
        raise SystemExit(f"no Asteroid tensor for {', '.join(missing)}")


class AsteroidFrames:
    """sepcore's SuDoRM-RF on Asteroid's frames: a hop of zeros in front (where Asteroid's
    encoder pads), cut from the output (where its decoder crops)."""

    def __init__(self, model):
        self.model = model

    def train(self):
        self.model.train()

    def __call__(self, x):
        import torch.nn.functional as F

        hop = self.model.hop
        return self.model(F.pad(x, (hop, 0)))[..., hop:]


def matmul_peak_gflops() -> float:
    """The faster of torch's matmul (MKL) and oneDNN's on 2048^2, best of 5: on AMD CPUs
    MKL takes its AVX2 path and oneDNN's, which sepcore and torch's LSTM use, is ~2x it."""
    import torch

    from sepcore.nn import onednn

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    products = [lambda: a @ b]
    if onednn.usable(a):
        products.append(lambda: onednn.linear(a, b))  # a @ b.T: the same flops
    best = float("inf")
    with torch.no_grad():
        for product in products:
            product()
            for _ in range(5):
                t = time.perf_counter()
                product()
                best = min(best, time.perf_counter() - t)
    return 2 * 2048**3 / best / 1e9


def forward_flops(model, seconds: float) -> float:
    import torch
    from model_flops import count_flops

    return count_flops(model, torch.randn(1, int(seconds * SAMPLE_RATE))) / seconds


def inference(model, x) -> None:
    import torch

    with torch.inference_mode():
        model(x)


class Timer:
    def __init__(self):
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def run(self, key: str, fn, record: bool) -> None:
        w, c = time.perf_counter(), time.process_time()
        fn()
        if record:
            self.wall.setdefault(key, []).append(time.perf_counter() - w)
            self.cpu.setdefault(key, []).append(time.process_time() - c)

    def median(self, key: str, cpu: bool = False) -> float | None:
        values = (self.cpu if cpu else self.wall).get(key)
        return statistics.median(values) if values else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--asteroid-venv", default=os.environ.get("ASTEROID_VENV"),
                    help="venv holding asteroid 0.7.0 (default: $ASTEROID_VENV; none: try "
                         "importing it from this python)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions after a warm-up")
    ap.add_argument("--quick", action="store_true",
                    help="one timed repetition, 4 s and 20 s forwards instead of 10 s and 60 s")
    ap.add_argument("--no-tcmalloc", action="store_true")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                    help="sepcore's side: bf16 autocast (only where the CPU has native bf16)")
    ap.add_argument("--models", default="convtasnet,dprnn",
                    help="comma-separated: convtasnet, dprnn, sudormrf")
    args = ap.parse_args()
    if args.reps < 1 or args.threads < 1:
        ap.error("--reps and --threads must be >= 1")
    unknown = set(args.models.split(",")) - {"convtasnet", "dprnn", "sudormrf"}
    if unknown:
        ap.error(f"--models: unknown {', '.join(sorted(unknown))}; expected convtasnet, "
                 f"dprnn or sudormrf")
    preload_tcmalloc(sys.argv)

    import numpy as np
    import torch

    import sepcore
    from sepcore.config import DEFAULTS
    from sepcore.losses import build_criterion
    from sepcore.modelfile import save_model_file
    from sepcore.models import build_model
    from sepcore.precision import autocast

    torch.set_num_threads(args.threads)
    reps = 1 if args.quick else args.reps
    lengths = (4.0, 20.0) if args.quick else (10.0, 60.0)
    asteroid, reason = import_asteroid(args.asteroid_venv)
    if asteroid is None:
        print(f"Asteroid side skipped: {reason}")
    print(f"torch {torch.__version__}, {args.threads} threads, LD_PRELOAD="
          f"{os.environ.get('LD_PRELOAD', '(none)')}, load average at start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    peak = matmul_peak_gflops()
    print(f"float32 2048^2 matmul peak: {peak:.0f} GFLOP/s")

    rng = np.random.default_rng(0)
    sources = torch.from_numpy(0.1 * rng.standard_normal((4, 2, 4 * SAMPLE_RATE),
                                                         dtype=np.float32))
    mixture = sources.sum(dim=1)
    long_inputs = {s: 0.1 * rng.standard_normal(int(s * SAMPLE_RATE), dtype=np.float32)
                   for s in lengths}
    rows = []
    tmp = tempfile.TemporaryDirectory(prefix="vs-asteroid-")

    def run_model(name: str) -> None:
        torch.manual_seed(0)
        # Asteroid's defaults: its ConvTasNet has no activation after the encoder
        model_cfg = {"name": name, "num_sources": 2}
        if name == "convtasnet":
            model_cfg["encoder_activation"] = "linear"
        ours = build_model(model_cfg)
        framed = AsteroidFrames(ours) if name == "sudormrf" else ours
        theirs = None
        if asteroid is not None:
            classes, PITLossWrapper, pairwise_neg_sisdr = asteroid
            theirs = classes[name](n_src=2)
            copy_weights(theirs, ours)
            with torch.inference_mode():
                x = torch.from_numpy(long_inputs[lengths[0]][:SAMPLE_RATE])[None]
                a, b = theirs(x), framed(x)
                diff = float((a - b).abs().max() / a.abs().max())
            print(f"{name}: same weights, outputs agree to {diff:.1e} (relative max)" + (
                "; DPRNN's chunks differ: Asteroid pads a whole chunk on each side, sepcore a "
                "hop in front (the same blocks; ~2% more chunks for Asteroid at 4 s)"
                if name == "dprnn" else
                "; sepcore's SuDoRM-RF with a hop of zeros in front, as Asteroid's encoder "
                "pads" if name == "sudormrf" else ""))
            their_loss = PITLossWrapper(pairwise_neg_sisdr, pit_from="pw_mtx")
        our_loss = build_criterion(DEFAULTS["loss"])
        flops = forward_flops(ours, 1.0)
        path = os.path.join(tmp.name, f"{name}.pt")
        save_model_file(path, ours, model_cfg, SAMPLE_RATE,
                        ["spk1", "spk2"], {})
        separator = sepcore.load(path)
        separator.set_precision(args.precision)
        timer = Timer()
        losses: dict[str, list[float]] = {"asteroid": [], "sepcore": []}

        def train_step(model, loss_fn, key, precision="fp32"):
            opt = optimizers[key]
            model.train()
            with autocast(precision):
                est = model(mixture)
            loss = loss_fn(est.float(), sources)
            loss = loss[0] if isinstance(loss, tuple) else loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses[key].append(float(loss.detach()))

        optimizers = {"sepcore": torch.optim.Adam(ours.parameters(), lr=1e-3)}
        if theirs is not None:
            optimizers["asteroid"] = torch.optim.Adam(theirs.parameters(), lr=1e-3)
        for r in range(reps + 1):
            sides = ["asteroid", "sepcore"] if r % 2 == 0 else ["sepcore", "asteroid"]
            for side in sides:
                if side == "asteroid" and theirs is not None:
                    timer.run("train asteroid",
                              lambda: train_step(theirs, their_loss, "asteroid"), r > 0)
                elif side == "sepcore":
                    timer.run("train sepcore", lambda: train_step(
                        framed, our_loss, "sepcore", args.precision), r > 0)
            if theirs is not None:
                theirs.eval()
            for seconds, signal in long_inputs.items():
                for side in sides:
                    if side == "asteroid" and theirs is not None:
                        timer.run(f"{seconds:g} s asteroid",
                                  lambda s=signal: inference(theirs, torch.from_numpy(s)[None]),
                                  r > 0)
                    elif side == "sepcore":
                        separator.model.load_state_dict(ours.state_dict())
                        timer.run(f"{seconds:g} s sepcore",
                                  lambda s=signal: separator.separate(s, SAMPLE_RATE), r > 0)
        if theirs is not None:
            print(f"{name}: training losses (both sides, same weights and batch): "
                  f"asteroid {' '.join(f'{x:.3f}' for x in losses['asteroid'])}; "
                  f"sepcore {' '.join(f'{x:.3f}' for x in losses['sepcore'])}")
        label = {"convtasnet": "ConvTasNet", "dprnn": "DPRNN", "sudormrf": "SuDoRM-RF"}[name]
        step_flops = 3 * flops * 16.0  # 4 x 4 s, forward + backward
        ours_step = timer.median("train sepcore")
        rows.append((f"{label} train step, 4 x 4 s", timer.median("train asteroid"), ours_step,
                     timer.median("train asteroid", True), timer.median("train sepcore", True),
                     f"{step_flops / ours_step / 1e9:.0f} GFLOP/s = "
                     f"{step_flops / ours_step / 1e9 / peak:.0%} of peak"))
        for seconds in lengths:
            a, o = timer.median(f"{seconds:g} s asteroid"), timer.median(f"{seconds:g} s sepcore")
            rows.append((f"{label} separate {seconds:g} s", a, o,
                         timer.median(f"{seconds:g} s asteroid", True),
                         timer.median(f"{seconds:g} s sepcore", True),
                         f"RTF {o / seconds:.3f}" + (f" vs {a / seconds:.3f}" if a else "") +
                         f", {flops * seconds / o / 1e9:.0f} GFLOP/s"))
        for what, a, o, *_ in rows[-3:]:
            print(f"{what}: Asteroid {a if a is None else round(a, 3)} s, sepcore {o:.3f} s",
                  flush=True)

    for name in args.models.split(","):
        run_model(name)
    tmp.cleanup()

    print(f"\nmedians of {reps} interleaved repetitions, {args.threads} threads, sepcore "
          f"precision {args.precision}; load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| | Asteroid wall | sepcore wall | speed-up (wall) | speed-up (CPU time) | sepcore |")
    print("|---|---:|---:|---:|---:|---|")
    for what, a, o, ac, oc, note in rows:
        def f(x):
            return "-" if x is None else f"{x:.2f} s"
        up = "-" if a is None else f"**{a / o:.2f}x**"
        upc = "-" if ac is None else f"{ac / oc:.2f}x"
        print(f"| {what} | {f(a)} | {f(o)} | {up} | {upc} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
