"""The results of a scored set: statistics, ``summary.json`` fields and ``RESULTS.md``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sepcore.scoring.breakdown import BREAKDOWNS
from sepcore.scoring.breakdown import markdown as breakdown_markdown

PERMUTATION_RULE = (
    "per utterance, the assignment of estimates to references with the highest mean SI-SDR"
)


def stats(values: list[float]) -> dict:
    a = np.asarray(values, dtype=np.float64)
    ok = a[np.isfinite(a)]
    if ok.size == 0:
        return {"mean": None, "median": None, "std": None, "count": 0,
                "excluded": int(a.size)}
    return {"mean": float(ok.mean()), "median": float(np.median(ok)), "std": float(ok.std()),
            "count": int(ok.size), "excluded": int(a.size - ok.size)}


def exp_tag(sep_dir: Path) -> str:
    parts = sep_dir.resolve().parts
    if len(parts) >= 3 and parts[-2] == "separate":
        return parts[-3]
    return sep_dir.resolve().name


def versions() -> tuple[str, str]:
    from importlib import metadata

    from sepcore.version import __version__

    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "not installed"
    return __version__, torch_version


def fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "nan"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def as_float(v) -> float:
    return math.nan if v is None else float(v)


def results_md(s: dict) -> str:
    lines = [
        f"# {s['exp']} — {s['data_set']}",
        "",
        f"- exp: `{s['exp']}`, data set: `{s['data_set']}` ({s['data_dir']}, "
        f"{s['num_utts']} utterances, sources: {' '.join(s['sources'])}, "
        f"{s['sample_rate']} Hz)",
        f"- date: {s['date']}; sepcore {s['sepcore_version']}, torch {s['torch_version']}",
        f"- permutation: {s['permutation']} ({s['permuted_utts']} of {s['num_utts']} "
        "utterances reordered)",
    ]
    lm = s["length_mismatch"]
    if lm["trimmed_utts"]:
        lines.append(f"- length mismatch: {lm['trimmed_utts']} utterances trimmed "
                     f"({lm['trimmed_samples']} samples in all)")
    if s["silent_references"]:
        lines.append(f"- {s['silent_references']} silent references: their scores are NaN "
                     "and left out of the statistics (see 'excluded')")
    if s.get("silent_estimates"):
        lines.append(f"- {s['silent_estimates']} estimates are all zeros: their scores are NaN "
                     "and left out of the statistics (see 'excluded')")
    for n in s["notes"]:
        lines.append(f"- note: {n}")
    lines += ["", "| metric | mean | median | std | count | excluded |",
              "|---|---:|---:|---:|---:|---:|"]
    for c, st in s["scores"].items():
        lines.append(f"| {c} | {fmt(st['mean'])} | {fmt(st['median'])} | {fmt(st['std'])} | "
                     f"{st['count']} | {st['excluded']} |")
    lines += ["", "Per source (median over utterances):", "",
              "| metric | " + " | ".join(s["sources"]) + " |",
              "|---|" + "---:|" * len(s["sources"])]
    for c in s["scores"]:
        lines.append(f"| {c} | " + " | ".join(fmt(s["by_source"][n][c]["median"])
                                              for n in s["sources"]) + " |")
    for kind in BREAKDOWNS:
        if f"by_{kind}" in s:
            lines += breakdown_markdown(kind, s[f"by_{kind}"], s["metrics"], s["sources"][0],
                                        fmt)
    return "\n".join(lines) + "\n"
