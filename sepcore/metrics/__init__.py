"""Separation metrics and the per-utterance scoring used by ``steps/score.sh``.

Speech (mono): ``si_sdr``; ``sdr``, ``sir``, ``sar`` (BSS Eval v3 ``bss_eval_sources``, as
``mir_eval``); ``stoi``, ``estoi`` (pystoi's algorithm, vectorized); ``pesq`` (nb at 8 kHz,
wb at 16 kHz, other rates resampled to 16 kHz wb); ``ssnr`` (segmental SNR) and the
composite measures ``csig``, ``cbak``, ``covl`` (Hu & Loizou 2008, ``sepcore.metrics.composite``;
at the PESQ rate); optional ``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_ovrl`` (non-intrusive,
``sepcore.metrics.dnsmos``). Music (any channels): ``sdr_v4``,
``isr_v4``, ``sir_v4``, ``sar_v4`` (BSS Eval v4 images, 1 s windows, median over windows)
and ``sdr_mdx`` (MDX 2021 SDR).

Permutation: when asked (the default for speech), the estimates are assigned to the
references by the permutation that maximizes the mean SI-SDR; every metric then uses that
assignment. On ordinary outputs this is the permutation mir_eval's
``bss_eval_sources(compute_permutation=True)`` picks by mean SIR (tested), and it does not
depend on which metrics are requested.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from sepcore.metrics.bss_eval import ReferenceProjector, bss_eval_sources
from sepcore.metrics.composite import composite_measures, raw_pesq_from_lqo, segmental_snr
from sepcore.metrics.music import bss_eval_v4_images, sdr_mdx, track_median
from sepcore.metrics.speech import pesq, pesq_mode, resample_for_pesq, si_sdr, stoi
from sepcore.metrics.stoi import stoi_many

COMPOSITE_METRICS = ("csig", "cbak", "covl")
DNSMOS_METRICS = ("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl")
SPEECH_METRICS = ("si_sdr", "sdr", "sir", "sar", "stoi", "estoi", "pesq", "ssnr"
                  ) + COMPOSITE_METRICS + DNSMOS_METRICS
MUSIC_METRICS = ("sdr_v4", "isr_v4", "sir_v4", "sar_v4", "sdr_mdx")
METRICS = SPEECH_METRICS + MUSIC_METRICS
DEFAULT_METRICS = ("si_sdr", "sdr", "sir", "sar", "stoi", "pesq")
# what enhancement papers (VoiceBank+DEMAND, DNS) report
ENHANCEMENT_METRICS = ("si_sdr", "pesq", "stoi", "estoi", "ssnr") + COMPOSITE_METRICS
METRIC_SETS = {
    "default": DEFAULT_METRICS,
    "speech": ("si_sdr", "sdr", "sir", "sar", "stoi", "estoi", "pesq"),
    "enhancement": ENHANCEMENT_METRICS,
    "dnsmos": DNSMOS_METRICS,
    "music": MUSIC_METRICS,
}
_BSS_V3 = ("sdr", "sir", "sar")
_BSS_V4 = ("sdr_v4", "isr_v4", "sir_v4", "sar_v4")

__all__ = [
    "DEFAULT_METRICS", "ENHANCEMENT_METRICS", "METRICS", "METRIC_SETS", "MUSIC_METRICS",
    "SPEECH_METRICS", "UttScores", "best_permutation", "bss_eval_sources", "compute_metrics",
    "parse_metrics",
    "composite_measures", "pesq", "score_utterance", "sdr_mdx", "segmental_snr", "si_sdr", "stoi",
]


def parse_metrics(spec: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"si_sdr,pesq"``, ``"default"``, ``"music"`` ... → ordered unique metric names.

    Raises ValueError naming an unknown metric.
    """
    items = spec.replace(",", " ").split() if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in items:
        names = METRIC_SETS.get(item, (item,))
        for name in names:
            if name not in METRICS:
                raise ValueError(
                    f"unknown metric {name!r} (known: {', '.join(METRICS)}; sets: "
                    f"{', '.join(METRIC_SETS)})"
                )
            if name not in out:
                out.append(name)
    if not out:
        raise ValueError("no metric given")
    return out


def best_permutation(score: np.ndarray) -> list[int]:
    """``score[k, j]`` (estimate k, reference j) → ``perm[j]`` maximizing the mean score.

    NaN entries (silent references) count as a constant, so they do not sway the choice.
    Exhaustive (in itertools order, first best wins) up to 8 sources, Hungarian beyond.
    """
    score = np.where(np.isnan(score), -1e9, np.asarray(score, dtype=np.float64))
    k, s = score.shape
    if s <= 8:
        best, best_val = None, -np.inf
        for perm in itertools.permutations(range(k), s):
            val = score[list(perm), np.arange(s)].sum()
            if val > best_val:
                best, best_val = list(perm), val
        return best
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-score)
    perm = [0] * s
    for r, c in zip(rows, cols):
        perm[c] = int(r)
    return perm


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
    of ``metrics`` if ``mix`` is given; a caller with cached mixture scores passes the rest).
    Raises ValueError for shapes that do not fit (callers add the utterance and files).
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
    input_metrics = [m for m in metrics if m in input_metrics]
    mix3 = None
    if input_metrics:
        if mix is None:
            raise ValueError("input metrics asked for without a mixture")
        mix3 = np.asarray(mix, dtype=np.float64).reshape(T, -1) if np.ndim(mix) <= 2 else None
        if mix3 is None or mix3.shape != (T, C):
            raise ValueError(f"mixture shape {np.shape(mix)} does not fit references {ref.shape}")
    speech = [m for m in set(metrics) | set(input_metrics) if m in SPEECH_METRICS]
    if speech and C != 1:
        raise ValueError(
            f"speech metrics ({', '.join(sorted(speech))}) need mono audio, got {C} channels "
            "(use the music metrics for multi-channel stems)"
        )
    silent = [not np.any(ref3[j]) for j in range(S)]
    est2, ref2 = est3[:, :, 0], ref3[:, :, 0]

    if compute_permutation:
        pair = si_sdr(est2[:, None, :], ref2[None, :, :]) if C == 1 else np.stack(
            [[-np.sum((ref3[j] - est3[k]) ** 2) for j in range(S)] for k in range(S)])
        perm = best_permutation(np.asarray(pair))
    else:
        perm = list(range(S))
    res = UttScores(perm=perm, values={}, inputs={})
    ests = est3[perm]  # ests[j] is the estimate of reference j
    nan = [float("nan")] * S

    def put(target: dict, name: str, vals) -> None:
        target[name] = [float("nan") if silent[j] else float(v) for j, v in enumerate(vals)]

    def put_rows(names, table, est_wanted, mix_wanted) -> None:
        """``table`` has S rows for the estimates (if any are wanted), then S for the mixture."""
        first_mix_row = S if est_wanted else 0
        for i, m in enumerate(names):
            if m in est_wanted:
                put(res.values, m, table[:S, i])
            if m in mix_wanted:
                put(res.inputs, m, table[first_mix_row:first_mix_row + S, i])

    # SI-SDR
    if "si_sdr" in metrics:
        put(res.values, "si_sdr", si_sdr(ests[:, :, 0], ref2))
    if "si_sdr" in input_metrics:
        put(res.inputs, "si_sdr", si_sdr(mix3[None, :, 0], ref2))
    # BSS Eval v3: one projector (Gram matrix) for the estimates and the mixture
    v3_est = [m for m in _BSS_V3 if m in metrics]
    v3_mix = [m for m in _BSS_V3 if m in input_metrics]
    if v3_est or v3_mix:
        proj = ReferenceProjector(ref2)
        targets = [ests[j, :, 0] for j in range(S)] + ([mix3[:, 0]] if v3_mix else [])
        pairs = ([(j, j) for j in range(S)] if v3_est else []) + (
            [(S, j) for j in range(S)] if v3_mix else [])
        out = proj.sources_metrics(np.stack(targets), pairs)
        put_rows(_BSS_V3, out, v3_est, v3_mix)
    # STOI / ESTOI: the reference is processed once for the estimate and the mixture
    for m, ext in (("stoi", False), ("estoi", True)):
        want_e, want_m = m in metrics, m in input_metrics
        if not (want_e or want_m):
            continue
        ve, vm = list(nan), list(nan)
        for j in range(S):
            if silent[j]:
                continue
            degs = ([ests[j, :, 0]] if want_e else []) + ([mix3[:, 0]] if want_m else [])
            vals = stoi_many(ref2[j], np.stack(degs), sample_rate, extended=ext)
            if want_e:
                ve[j] = vals[0]
            if want_m:
                vm[j] = vals[-1]
        if want_e:
            put(res.values, m, ve)
        if want_m:
            put(res.inputs, m, vm)
    # PESQ and the composite measures (resample each signal once, one PESQ per pair)
    comp_e = [m for m in COMPOSITE_METRICS if m in metrics]
    comp_m = [m for m in COMPOSITE_METRICS if m in input_metrics]
    want_pe = "pesq" in metrics or bool(comp_e)
    want_pm = "pesq" in input_metrics or bool(comp_m)
    if want_pe or want_pm:
        _, prate, note = pesq_mode(sample_rate)
        if note:
            res.notes.append(note)
        rr = [None if silent[j] else resample_for_pesq(ref2[j], sample_rate) for j in range(S)]
        mr = resample_for_pesq(mix3[:, 0], sample_rate) if want_pm else None
        for wanted, comp, target, degs in (
                (want_pe, comp_e, res.values,
                 [resample_for_pesq(ests[j, :, 0], sample_rate) for j in range(S)]
                 if want_pe else None),
                (want_pm, comp_m, res.inputs, [mr] * S)):
            if not wanted:
                continue
            pq = [nan[j] if silent[j] else pesq(rr[j], degs[j], sample_rate, resampled=True)
                  for j in range(S)]
            if "pesq" in (metrics if target is res.values else input_metrics):
                put(target, "pesq", pq)
            if comp:
                # the composite measures use the raw P.862 score at 8 kHz (as pysepm)
                base = [raw_pesq_from_lqo(v) if prate == 8000 and np.isfinite(v) else v
                        for v in pq]
                cs = [None if silent[j] else composite_measures(rr[j], degs[j], prate, base[j])
                      for j in range(S)]
                for m in comp:
                    put(target, m, [nan[j] if cs[j] is None else cs[j][m] for j in range(S)])
    # segmental SNR at the audio's own rate
    if "ssnr" in metrics:
        put(res.values, "ssnr", [nan[j] if silent[j] else segmental_snr(ref2[j], ests[j, :, 0],
                                                                         sample_rate)
                                 for j in range(S)])
    if "ssnr" in input_metrics:
        put(res.inputs, "ssnr", [nan[j] if silent[j] else segmental_snr(ref2[j], mix3[:, 0],
                                                                         sample_rate)
                                 for j in range(S)])
    # DNSMOS (optional, non-intrusive: rates the signal alone)
    dn_e = [m for m in DNSMOS_METRICS if m in metrics]
    dn_m = [m for m in DNSMOS_METRICS if m in input_metrics]
    if dn_e or dn_m:
        from sepcore.metrics.dnsmos import dnsmos

        if dn_e:
            ds = [None if silent[j] else dnsmos(ests[j, :, 0], sample_rate) for j in range(S)]
            for m in dn_e:
                put(res.values, m, [nan[j] if ds[j] is None else ds[j][m] for j in range(S)])
        if dn_m:
            dm = dnsmos(mix3[:, 0], sample_rate)
            for m in dn_m:
                put(res.inputs, m, [dm[m]] * S)
    # Music: v4 images (1 s windows, median per track) and MDX SDR
    v4_est = [m for m in _BSS_V4 if m in metrics]
    v4_mix = [m for m in _BSS_V4 if m in input_metrics]
    if v4_est or v4_mix:
        targets = np.concatenate([ests] + ([mix3[None]] if v4_mix else []), axis=0)
        pairs = ([(j, j) for j in range(S)] if v4_est else []) + (
            [(S, j) for j in range(S)] if v4_mix else [])
        groups = [list(range(S))] + ([[S]] if v4_mix else [])
        fw = bss_eval_v4_images(ref3, targets, pairs, groups=groups, win=sample_rate,
                                hop=sample_rate)
        med = track_median(fw)  # [pairs, 4]
        put_rows(_BSS_V4, med, v4_est, v4_mix)
    if "sdr_mdx" in metrics:
        put(res.values, "sdr_mdx", [sdr_mdx(ref3[j], ests[j]) for j in range(S)])
    if "sdr_mdx" in input_metrics:
        put(res.inputs, "sdr_mdx", [sdr_mdx(ref3[j], mix3) for j in range(S)])
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
