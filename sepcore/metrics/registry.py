"""The metrics, by name: what each measures and how it is computed and reported.

``steps/score.sh`` (sepcore/scoring), ``score_utterance`` and ``show_results`` all read
this table, so a new metric (enhancement: CSIG/CBAK/COVL, SSNR, DNSMOS; music: ...) is
one ``register_metric`` call here plus its compute function, and every step knows it.

A metric's ``compute`` names a function ``"module:function"`` (imported on first use,
so reading the table is cheap). Metrics that share a compute function are computed in
one call, which lets them share work (BSS Eval's projections, STOI's reference
analysis, PESQ's resampling)::

    fn(u: Signals, est: list[str], mix: list[str]) -> (dict[name, [S]], dict[name, [S]])

returns, for the metrics named in ``est``, their value for each estimate and, for those
in ``mix``, their value for the unprocessed mixture (``input_<name>``), one per
reference source in order.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Metric:
    """One metric.

    Args:
        name: the column name (``si_sdr``); ``input_<name>`` and ``<name>_i`` are the
            mixture's value and the improvement.
        family: ``speech``, ``music`` or ``enhancement`` (the sets below group them).
        compute: ``"module:function"`` computing it (with others of the same function).
        higher_is_better: the direction (False for a distance or an error).
        unit: ``dB``, ``""`` (a score), ...
        rates: the sample rates it is defined at (None: any); others are resampled by
            its compute function, which says so in a note.
        channels: ``mono`` (speech metrics) or ``any`` (music metrics, on images).
        input_score: whether the mixture's value and the improvement are reported.
        summary: how one number is made of a set's per-utterance values: ``mean`` over
            utterances and sources, or ``median`` over tracks of each source, then the
            mean over sources (museval, MDX).
        doc: one line for --help and RESULTS.md.
        cap: a value at or above it is the computation's ceiling (or float rounding), not
            a measurement: as the mixture's value it makes the improvement meaningless,
            so scoring reports both as not applicable (excluded and counted). None: no cap.
    """

    name: str
    family: str
    compute: str
    higher_is_better: bool = True
    unit: str = "dB"
    rates: tuple[int, ...] | None = None
    channels: str = "mono"
    input_score: bool = True
    summary: str = "mean"
    doc: str = ""
    cap: float | None = None


METRICS: dict[str, Metric] = {}
METRIC_SETS: dict[str, tuple[str, ...]] = {}


def register_metric(metric: Metric) -> Metric:
    METRICS[metric.name] = metric
    return metric


def register_set(name: str, metrics: tuple[str, ...]) -> None:
    METRIC_SETS[name] = tuple(metrics)


def parse_metrics(spec: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"si_sdr,pesq"``, ``"default"``, ``"music"`` ... → ordered unique metric names.

    Raises ValueError naming an unknown metric.
    """
    items = spec.replace(",", " ").split() if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in items:
        for name in METRIC_SETS.get(item, (item,)):
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


@dataclass
class Signals:
    """One utterance, as the compute functions see it (float64).

    ``ests[j]`` is the estimate assigned to reference ``j`` ([S, T, C]); ``refs`` [S, T, C];
    ``mix`` [T, C] or None; ``silent[j]``: reference j is all zeros (its scores are NaN);
    ``notes``: lines for RESULTS.md (e.g. "PESQ at 44100 Hz: resampled to 16 kHz, wb").
    """

    ests: np.ndarray
    refs: np.ndarray
    mix: np.ndarray | None
    sample_rate: int
    silent: list[bool]
    notes: list[str] = field(default_factory=list)


_COMPUTE_CACHE: dict[str, Callable] = {}


def compute_function(target: str) -> Callable:
    if target not in _COMPUTE_CACHE:
        module, _, attr = target.partition(":")
        _COMPUTE_CACHE[target] = getattr(importlib.import_module(module), attr)
    return _COMPUTE_CACHE[target]


def _speech(name, compute, doc, **kw) -> None:
    register_metric(Metric(name, "speech", compute, doc=doc, **kw))


def _music(name, compute, doc, **kw) -> None:
    register_metric(Metric(name, "music", compute, channels="any", summary="median", doc=doc,
                           **kw))


_speech("si_sdr", "sepcore.metrics.speech:compute_si_sdr",
        "scale-invariant SDR (Le Roux et al. 2019)")
for _name, _doc in (("sdr", "signal to distortion"), ("sir", "signal to interference"),
                    ("sar", "signal to artefacts")):
    # bss_eval's ratios stop at 150 dB (its denominator floor); a clean mixture's SAR is
    # that cap, and 140 dB is beyond what float32 audio can measure
    _speech(_name, "sepcore.metrics.bss_eval:compute_bss_v3",
            f"BSS Eval v3 {_doc} ratio (bss_eval_sources, as mir_eval)", cap=140.0)
_speech("stoi", "sepcore.metrics.stoi:compute_stoi", "short-time objective intelligibility",
        unit="")
_speech("estoi", "sepcore.metrics.stoi:compute_stoi", "extended STOI (Jensen & Taal 2016)",
        unit="")
_speech("pesq", "sepcore.metrics.speech:compute_pesq",
        "PESQ (ITU-T P.862): nb at 8 kHz, wb at 16 kHz, other rates resampled to 16 kHz",
        unit="MOS-LQO", rates=(8000, 16000))
for _name, _doc in (("sdr_v4", "SDR"), ("isr_v4", "image to spatial distortion"),
                    ("sir_v4", "SIR"), ("sar_v4", "SAR")):
    _music(_name, "sepcore.metrics.music:compute_bss_v4",
           f"BSS Eval v4 {_doc} of images, 1 s windows, median over windows (museval)")
_music("sdr_mdx", "sepcore.metrics.music:compute_sdr_mdx", "the MDX 2021 challenge's SDR")

register_set("default", ("si_sdr", "sdr", "sir", "sar", "stoi", "pesq"))
register_set("speech", tuple(m for m, v in METRICS.items() if v.family == "speech"))
register_set("music", tuple(m for m, v in METRICS.items() if v.family == "music"))

# enhancement (sepcore/metrics/composite.py, sepcore/metrics/dnsmos.py)
# a clean input sits at SSNR's frame clamp (35 dB) and at the composites' ceiling (5)
register_metric(Metric("ssnr", "enhancement", "sepcore.metrics.composite:compute_ssnr",
                       doc="segmental SNR (Loizou: 30 ms frames clamped to [-10, 35] dB)",
                       cap=35.0))
for _name, _doc in (("csig", "signal distortion"), ("cbak", "background intrusiveness"),
                    ("covl", "overall quality")):
    register_metric(Metric(_name, "enhancement", "sepcore.metrics.composite:compute_composite",
                           unit="", rates=(8000, 16000), cap=5.0,
                           doc=f"composite measure of {_doc} (Hu & Loizou 2008), 1 to 5"))
for _name, _doc in (("dnsmos_sig", "speech signal"), ("dnsmos_bak", "background noise"),
                    ("dnsmos_ovrl", "overall quality")):
    register_metric(Metric(_name, "enhancement", "sepcore.metrics.dnsmos:compute_dnsmos",
                           unit="", rates=(16000,),
                           doc=f"DNSMOS P.835 {_doc}, 1 to 5 (optional: speechmos)"))
register_set("enhancement", ("si_sdr", "pesq", "stoi", "estoi", "ssnr", "csig", "cbak", "covl"))
register_set("dnsmos", ("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl"))
