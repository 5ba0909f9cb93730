"""A one-layer (bi)LSTM for the CPU: torch's matrix products, one C pass per step.

An LSTM step is one matrix product (the previous output times the recurrent weights) and
a dozen elementwise operations on the gates. Here:

- the input projection of every step is one large product per direction;
- each step is one product per direction and one call into ``csrc/lstm.c``, which adds,
  activates (an inlined polynomial exp), updates the cell and writes the outputs of both
  directions in one pass, straight into the ``[time, batch, directions * hidden]`` output;
- the backward pass runs the same way back in time, and then computes the input and
  weight gradients as large products over all steps.

Whether that beats torch's own CPU LSTM (oneDNN's) depends on the CPU: on the AMD (Zen 5)
development machines oneDNN's runs near the machine's FMA peak and is faster (a BLSTM of
324 x 100 steps x 128 units, forward + backward: 173 against 260 ms), while on an Intel
(AMX) machine of the same kind it ran at under half of its matmul peak (575 ms). So by
default (``SEPCORE_LSTM=auto``) the first use on a machine times both on a small BLSTM,
forward alone and forward + backward, and keeps the step kernels for what they do at
least 10 % faster; the decision is cached beside the compiled library (per CPU, torch
version and thread count), so later runs on that machine make the same choice and get the
same numbers. ``SEPCORE_LSTM=torch`` or ``steps`` decides without timing.

The parameters are the ``nn.LSTM``'s own (``weight_ih_l0``, ``..._reverse``), so model
files do not change; :func:`lstm` calls the module itself for everything this does not
cover (several layers, projections, GRUs, bfloat16 autocast, other devices, the reference
kernels, a machine where the C file does not compile). The C file is compiled at first use
for this machine (sepcore/nn/cbuild.py); a machine without a compiler logs it once and
takes torch's LSTM.
"""
from __future__ import annotations

import ctypes
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from sepcore.errors import ConfigError
from sepcore.nn import cbuild, onednn
from sepcore.nn.kernels import use_reference

log = logging.getLogger("sepcore.nn.lstm")

# inference splits the batch so that the gates of all steps stay under this many bytes
INFERENCE_GATE_BYTES = 256 << 20

CHOICES = ("auto", "torch", "steps")
FASTER = 0.9  # auto keeps the step kernels where they take at most this share of the time

_lib: ctypes.CDLL | None | bool = False  # False: not tried yet
_decisions: dict[int, dict] = {}  # per thread count: {"train"/"infer": use the steps}


def _compile() -> Path | None:
    return cbuild.build("lstm", [], log, "LSTMs run through torch's nn.LSTM")


def library() -> ctypes.CDLL | None:
    """The compiled step kernels, or None where they could not be built (logged once)."""
    global _lib
    if _lib is False:
        path = _compile()
        _lib = None
        try:
            lib = ctypes.CDLL(str(path)) if path is not None else None
        except OSError as e:
            log.warning("cannot load %s (%s): LSTMs run through torch's nn.LSTM", path, e)
            lib = None
        if lib is not None:
            i, p, n = ctypes.c_int, ctypes.c_void_p, ctypes.c_long
            for suffix in ("f32", "f64"):
                fwd = getattr(lib, f"lstm_fwd_{suffix}")
                fwd.argtypes = [i, i, i, p, n, n, p, n, p, n, p, n, n, p, n, n, p, n, n]
                fwd.restype = None
                bwd = getattr(lib, f"lstm_bwd_{suffix}")
                bwd.argtypes = [i, i, i, p, p, n, n, n, p, n, n, p, n, p, p, n, n, p, n]
                bwd.restype = None
            _lib = lib
    return _lib


def usable(module: nn.Module, x: torch.Tensor) -> bool:
    """Whether :func:`lstm` computes ``module(x)`` with the step kernels."""
    return (type(module) is nn.LSTM and module.num_layers == 1
            and module.bias and module.proj_size == 0 and x.dim() == 3
            and x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
            and all(p.dtype == x.dtype for p in module.parameters())
            and not torch.is_autocast_enabled("cpu") and not use_reference()
            and _steps_chosen(torch.is_grad_enabled()))


def _choice_from_env() -> str:
    value = os.environ.get("SEPCORE_LSTM", "auto") or "auto"
    if value not in CHOICES:
        raise ConfigError(f"SEPCORE_LSTM: expected one of {', '.join(CHOICES)}, got {value!r}")
    return value


def _steps_chosen(training: bool) -> bool:
    choice = _choice_from_env()
    if choice == "torch" or library() is None:  # torch: nothing is compiled
        return False
    if choice == "steps":
        return True
    threads = torch.get_num_threads()
    if threads not in _decisions:
        _decisions[threads] = _decide(threads)
    return _decisions[threads]["train" if training else "infer"]


def _decide(threads: int) -> dict[str, bool]:
    """The recorded decision for this machine and thread count, or a new one from timing."""
    path = Path(str(library()._name).removesuffix(".so")
                + f"-torch{torch.__version__}-threads{threads}.json")
    decision = _recorded(path, threads)
    if decision is not None:
        return decision
    times = probe()
    decision = {mode: times[mode]["steps"] <= FASTER * times[mode]["torch"]
                for mode in ("train", "infer")}
    log.info("LSTM kernels on this machine (%d threads): %s", threads, ", ".join(
        f"{mode} {'steps' if decision[mode] else 'torch'} ({t['steps'] * 1e3:.0f} against "
        f"{t['torch'] * 1e3:.0f} ms)" for mode, t in times.items()))
    # written whole, then linked into place: the first to finish records it (atomic and
    # exclusive), the others take that one
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
        with os.fdopen(fd, "w") as f:
            json.dump({**decision, "seconds": times}, f)
        os.link(tmp, path)
    except FileExistsError:
        decision = _recorded(path, threads) or decision
    except OSError as e:
        log.warning("could not record the LSTM decision in %s: %s", path, e)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return decision


def _recorded(path: Path, threads: int) -> dict[str, bool] | None:
    try:
        record = json.loads(path.read_text())
        decision = {mode: bool(record[mode]) for mode in ("train", "infer")}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    log.info("LSTM kernels on this machine (%d threads): train %s, infer %s (recorded in %s)",
             threads, *("steps" if decision[m] else "torch" for m in ("train", "infer")), path)
    return decision


def probe(batch: int = 64, steps: int = 100, size: int = 128, reps: int = 3) -> dict:
    """Median seconds of torch's BLSTM and the step kernels' on ``[steps, batch, size]``
    (time-major, as DPRNN runs them), forward alone ("infer") and forward + backward
    ("train"), interleaved."""
    with torch.inference_mode(False), torch.enable_grad():  # whatever the caller's mode
        return _probe(batch, steps, size, reps)


def _probe(batch: int, steps: int, size: int, reps: int) -> dict:
    with torch.random.fork_rng(devices=[]):  # the training's random state stays as it was
        torch.manual_seed(0)
        module = nn.LSTM(size, size, bidirectional=True)
        x = torch.randn(steps, batch, size, requires_grad=True)
    runs = {"torch": lambda: module(x)[0], "steps": lambda: _run(module, x)}

    def infer(f):
        with torch.no_grad():
            f()

    def train(f):
        f().sum().backward()

    times = {}
    for mode, call in (("infer", infer), ("train", train)):
        seen = {name: [] for name in runs}
        for rep in range(reps + 1):
            for name, f in runs.items():
                start = time.perf_counter()
                call(f)
                if rep:  # the first is a warm-up
                    seen[name].append(time.perf_counter() - start)
        times[mode] = {name: statistics.median(t) for name, t in seen.items()}
    return times


def lstm(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``module(x)[0]``: ``[batch, time, features]`` for a batch-first ``module``, else
    ``[time, batch, features]`` (for the step kernels and torch's own, the layout without
    transposes)."""
    if not usable(module, x):
        return module(x)[0]
    return _run(module, x)


def _run(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if module.batch_first:
        return _run_time_major(module, x.transpose(0, 1)).transpose(0, 1)
    return _run_time_major(module, x)


def _run_time_major(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The LSTM on ``[time, batch, features]``."""
    sfx = [""] + (["_reverse"] if module.bidirectional else [])
    w_ih = torch.stack([getattr(module, "weight_ih_l0" + s) for s in sfx])
    w_hh = torch.stack([getattr(module, "weight_hh_l0" + s) for s in sfx])
    bias = torch.stack([getattr(module, "bias_ih_l0" + s) + getattr(module, "bias_hh_l0" + s)
                        for s in sfx])
    if torch.is_grad_enabled() and any(t.requires_grad for t in (x, w_ih, w_hh, bias)):
        return _LSTM.apply(x, w_ih, w_hh, bias)
    rows = max(1, INFERENCE_GATE_BYTES // (w_ih.numel() // x.shape[2] * x.shape[0]
                                            * x.element_size()))
    with torch.no_grad():  # the products build no autograd nodes
        return torch.cat([_forward(part, w_ih, w_hh, bias, keep=False)[0]
                          for part in x.split(rows, dim=1)], dim=1)


def _ptr(t: torch.Tensor, offset: int = 0) -> int:
    return t.data_ptr() + offset * t.element_size()


def _apart(tensors: list[torch.Tensor]) -> int:
    """The second direction's buffer as an offset in elements from the first's (0: one)."""
    if len(tensors) == 1:
        return 0
    gap = tensors[1].data_ptr() - tensors[0].data_ptr()
    assert gap % tensors[0].element_size() == 0
    return gap // tensors[0].element_size()


def _forward(x, w_ih, w_hh, bias, keep: bool):
    """Run the recurrence on ``x [time, batch, features]``; with ``keep``, also return
    what the backward pass needs. Buffers are time-major (each step's rows contiguous),
    one per direction, and the reverse direction's run forwards over the reversed input."""
    d, h4, c = w_ih.shape
    h = h4 // 4
    t_len, n, _ = x.shape
    lib = library()
    step = lib.lstm_fwd_f32 if x.dtype == torch.float32 else lib.lstm_fwd_f64
    xd = [x.contiguous()]
    if d == 2:
        xd.append(xd[0].flip(0))
    # every step's gates: pre-activations in, activations out (kept for the backward pass)
    gates = [onednn.linear(xd[k].view(t_len * n, c), w_ih[k], bias[k]) for k in range(d)]
    # h_in[:, t] is the output of step t - 1, the input of step t (zero at t = 0)
    h_in = x.new_zeros(d, t_len, n, h)
    cells = x.new_empty(d, t_len, n, h) if keep else None
    cell = x.new_zeros(d, n, h)
    y = x.new_empty(t_len, n, d * h)
    gd, hd = _apart(gates), t_len * n * h
    for t in range(t_len):
        rec = [onednn.linear(h_in[k, t], w_hh[k]) for k in range(d)] if t else None
        last = t == t_len - 1
        step(d, n, h, _ptr(gates[0], t * n * h4), gd, h4,
             _ptr(rec[0]) if t else None, _apart(rec) if t else 0, _ptr(cell), n * h,
             _ptr(cells, t * n * h) if keep else None, hd, h,
             None if last else _ptr(h_in, (t + 1) * n * h), hd, h,
             _ptr(y, t * n * d * h), (t_len - 1 - 2 * t) * n * d * h + h, d * h)
    return y, (*xd, *gates, h_in, cells)


class _LSTM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w_ih, w_hh, bias):
        y, saved = _forward(x, w_ih.detach(), w_hh.detach(), bias.detach(), keep=True)
        ctx.save_for_backward(w_ih, w_hh, *saved)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        w_ih, w_hh, *saved = ctx.saved_tensors
        d, h4, c = w_ih.shape
        h = h4 // 4
        xd, gates, (h_in, cells) = saved[:d], saved[d:2 * d], saved[2 * d:]
        t_len, n = h_in.shape[1:3]
        lib = library()
        step = lib.lstm_bwd_f32 if h_in.dtype == torch.float32 else lib.lstm_bwd_f64
        grad_y = grad_y.contiguous()
        w_hh_t = w_hh.detach().transpose(1, 2).contiguous()
        dgates = [torch.empty_like(g) for g in gates]  # of the gates' pre-activations
        dcell = h_in.new_zeros(d, n, h)
        cd, rec = t_len * n * h, None
        for t in reversed(range(t_len)):
            step(d, n, h, _ptr(gates[0], t * n * h4), _ptr(dgates[0], t * n * h4),
                 _apart(gates), _apart(dgates), h4,
                 _ptr(grad_y, t * n * d * h), (t_len - 1 - 2 * t) * n * d * h + h, d * h,
                 _ptr(rec[0]) if rec else None, _apart(rec) if rec else 0,
                 _ptr(cells, t * n * h), _ptr(cells, (t - 1) * n * h) if t else None, cd, h,
                 _ptr(dcell), n * h)
            if t:
                rec = [onednn.linear(dgates[k][t * n:(t + 1) * n], w_hh_t[k]) for k in range(d)]
        gates = dgates
        grad_x = grad_ih = grad_hh = grad_b = None
        if ctx.needs_input_grad[0]:
            w_ih_t = w_ih.detach().transpose(1, 2).contiguous()
            dx = [onednn.linear(gates[k], w_ih_t[k]).view(t_len, n, c) for k in range(d)]
            grad_x = dx[0] + dx[1].flip(0) if d == 2 else dx[0]
        if ctx.needs_input_grad[1]:
            grad_ih = torch.stack([gates[k].t() @ xd[k].view(t_len * n, c) for k in range(d)])
        if ctx.needs_input_grad[2]:
            grad_hh = torch.stack([gates[k].t() @ h_in[k].view(t_len * n, h)
                                   for k in range(d)])
        if ctx.needs_input_grad[3]:
            grad_b = torch.stack([gates[k].sum(dim=0) for k in range(d)])
        return grad_x, grad_ih, grad_hh, grad_b
