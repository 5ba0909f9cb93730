"""Separation metrics and the per-utterance scoring used by ``steps/score.sh``.

Speech (mono): ``si_sdr``; ``sdr``, ``sir``, ``sar`` (BSS Eval v3 ``bss_eval_sources``, as
``mir_eval``); ``stoi``, ``estoi`` (pystoi's algorithm, vectorized); ``pesq`` (nb at 8 kHz,
wb at 16 kHz, other rates resampled to 16 kHz wb). Enhancement (mono): ``ssnr`` (segmental
SNR) and the composite measures ``csig``, ``cbak``, ``covl`` (Hu & Loizou 2008,
sepcore/metrics/composite.py); optional ``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_ovrl``
(non-intrusive, sepcore/metrics/dnsmos.py). Music (any channels): ``sdr_v4``,
``isr_v4``, ``sir_v4``, ``sar_v4`` (BSS Eval v4 images, 1 s windows, median over windows)
and ``sdr_mdx`` (MDX 2021 SDR).

Every metric is registered, with its family, direction, rates and how it is summarised,
in sepcore/metrics/registry.py, which scoring and show_results read.

Permutation: when asked (the default for speech), the estimates are assigned to the
references by the permutation that maximizes the mean SI-SDR; every metric then uses that
assignment. On ordinary outputs this is the permutation mir_eval's
``bss_eval_sources(compute_permutation=True)`` picks by mean SIR (tested), and it does not
depend on which metrics are requested.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sepcore.metrics.bss_eval import bss_eval_sources
from sepcore.metrics.music import sdr_mdx
from sepcore.metrics.registry import (
    METRIC_SETS,
    METRICS,
    Metric,
    Signals,
    compute_function,
    parse_metrics,
    register_metric,
    register_set,
)
from sepcore.metrics.speech import pesq, si_sdr, stoi
from sepcore.permutation import best_permutation as solve_permutation

SPEECH_METRICS = METRIC_SETS["speech"]
MUSIC_METRICS = METRIC_SETS["music"]
DEFAULT_METRICS = METRIC_SETS["default"]

__all__ = [
    "DEFAULT_METRICS", "METRICS", "METRIC_SETS", "MUSIC_METRICS", "Metric", "SPEECH_METRICS",
    "UttScores", "best_permutation", "bss_eval_sources", "compute_metrics", "parse_metrics",
    "pesq", "register_metric", "register_set", "score_utterance", "sdr_mdx", "si_sdr", "stoi",
]


def best_permutation(score: np.ndarray) -> list[int]:
    """``score[k, j]`` (estimate k, reference j) → ``perm[j]`` maximizing the mean score
    (sepcore/permutation.py). NaN entries (silent references) count as a constant, so they
    do not sway the choice."""
    return solve_permutation(np.where(np.isnan(score), -1e9, np.asarray(score, np.float64)))


@dataclass
class UttScores:
    """Scores of one utterance; lists are indexed by reference source ``j``.

    ``perm[j]``: the estimate assigned to reference ``j``. ``values[m][j]``: metric ``m`` of
    that estimate; ``inputs[m][j]``: of the unprocessed mixture against reference ``j``.
    """

    perm: list[int]
    values: dict[str, list[float]]
    inputs: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def improvement(self, metric: str) -> list[float]:
        return [v - i for v, i in zip(self.values[metric], self.inputs[metric])]


def _as_3d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[:, :, None] if x.ndim == 2 else x


def score_utterance(
    est: np.ndarray,
    ref: np.ndarray,
    mix: np.ndarray | None,
    sample_rate: int,
    metrics: list[str] | tuple[str, ...] = DEFAULT_METRICS,
    compute_permutation: bool = True,
    input_metrics: list[str] | tuple[str, ...] | None = None,
) -> UttScores:
    """Score estimates ``[S, T(, C)]`` against references ``[S, T(, C)]``.

    ``input_metrics``: which metrics to compute for the mixture ``[T(, C)]`` (default: all
    of ``metrics`` that have an input score, if ``mix`` is given; a caller with cached
    mixture scores passes the rest). Raises ValueError for shapes that do not fit
    (callers add the utterance and files).
    """
    metrics = parse_metrics(metrics)
    est3, ref3 = _as_3d(est), _as_3d(ref)
    if est3.shape[1:] != ref3.shape[1:]:
        raise ValueError(f"estimates {est3.shape} and references {ref3.shape} differ in shape")
    if est3.shape[0] != ref3.shape[0]:
        raise ValueError(f"{est3.shape[0]} estimates for {ref3.shape[0]} references")
    S, T, C = ref3.shape
    if input_metrics is None:
        input_metrics = metrics if mix is not None else []
    input_metrics = [m for m in metrics if m in input_metrics and METRICS[m].input_score]
    mix3 = None
    if input_metrics:
        if mix is None:
            raise ValueError("input metrics asked for without a mixture")
        mix3 = np.asarray(mix, dtype=np.float64).reshape(T, -1) if np.ndim(mix) <= 2 else None
        if mix3 is None or mix3.shape != (T, C):
            raise ValueError(f"mixture shape {np.shape(mix)} does not fit references {ref.shape}")
    mono = [m for m in set(metrics) | set(input_metrics) if METRICS[m].channels == "mono"]
    if mono and C != 1:
        raise ValueError(
            f"speech metrics ({', '.join(sorted(mono))}) need mono audio, got {C} channels "
            "(use the music metrics for multi-channel stems)"
        )
    silent = [not np.any(ref3[j]) for j in range(S)]

    if compute_permutation:
        est2, ref2 = est3[:, :, 0], ref3[:, :, 0]
        pair = si_sdr(est2[:, None, :], ref2[None, :, :]) if C == 1 else np.stack(
            [[-np.sum((ref3[j] - est3[k]) ** 2) for j in range(S)] for k in range(S)])
        perm = best_permutation(np.asarray(pair))
    else:
        perm = list(range(S))
    signals = Signals(ests=est3[perm], refs=ref3, mix=mix3, sample_rate=sample_rate,
                      silent=silent)
    # metrics computed by the same function are computed in one call (shared work)
    calls: dict[str, tuple[list[str], list[str]]] = {}
    for m in metrics:
        calls.setdefault(METRICS[m].compute, ([], []))[0].append(m)
    for m in input_metrics:
        calls.setdefault(METRICS[m].compute, ([], []))[1].append(m)
    res = UttScores(perm=perm, values={}, inputs={}, notes=signals.notes)
    for target, (want_est, want_mix) in calls.items():
        out_est, out_mix = compute_function(target)(signals, want_est, want_mix)
        for target_dict, out in ((res.values, out_est), (res.inputs, out_mix)):
            for name, vals in out.items():
                target_dict[name] = [float("nan") if silent[j] else float(v)
                                     for j, v in enumerate(vals)]
    res.values = {m: res.values[m] for m in metrics}
    res.inputs = {m: res.inputs[m] for m in metrics if m in res.inputs}
    return res


def compute_metrics(
    est: np.ndarray,
    ref: np.ndarray,
    mix: np.ndarray | None,
    sample_rate: int,
    metrics: list[str] | tuple[str, ...] | str = DEFAULT_METRICS,
    compute_permutation: bool = True,
) -> list[dict[str, float]]:
    """Per reference source ``j``, a dict: ``estimate`` (index of the estimate assigned to it),
    each metric, and with a mixture ``input_<metric>`` and ``<metric>_i`` (improvement)."""
    r = score_utterance(est, ref, mix, sample_rate, parse_metrics(metrics), compute_permutation)
    out = []
    for j in range(len(r.perm)):
        d: dict[str, float] = {"estimate": r.perm[j]}
        for m, vals in r.values.items():
            d[m] = vals[j]
            if m in r.inputs:
                d[f"input_{m}"] = r.inputs[m][j]
                d[f"{m}_i"] = vals[j] - r.inputs[m][j]
        out.append(d)
    return out
