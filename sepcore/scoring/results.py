"""The results of a scored set: statistics, ``summary.json`` fields and ``RESULTS.md``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sepcore.metrics.stem_table import has_music_metrics, stem_tables
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
    """``<tag>`` of ``exp/<tag>/separate*/<set>`` (e.g. ``separate_bf16``), else the dir's name."""
    parts = sep_dir.resolve().parts
    if len(parts) >= 3 and parts[-2].startswith("separate"):
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
    for m, c in s.get("capped_inputs", {}).items():
        lines.append(f"- input_{m} of {c['count']} sources is at the metric's cap (>= "
                     f"{c['cap']:g}, e.g. the SAR of a clean mixture): input_{m} and {m}_i not "
                     "applicable, left out of the statistics (see 'excluded')")
    prov = s.get("separation")
    if prov:
        lines.append(f"- estimates: model {prov['model']} (sha256 {prov['model_sha256'][:16]}), "
                     f"window {prov['window']}, hop {prov['hop']}, wiener {prov['wiener']}"
                     + (f", precision {prov['precision']}" if "precision" in prov else "")
                     + (f", postfilter {prov['postfilter']}" if "postfilter" in prov else "")
                     + (f", shifts {prov['shifts']}" if "shifts" in prov else ""))
    cache = s.get("input_cache")
    if cache is not None:
        used = cache["used"]
        if used:
            lines.append("- mixture scores from the cache " + f"{cache['path']} (data checksum "
                         f"{cache['data_checksum'][:12]}, keyed on the audio's size, mtime and "
                         "a checksum): " + ", ".join(f"input_{m} of {n} utterances"
                                                   for m, n in used.items()))
        else:
            lines.append("- mixture scores: all computed in this run (none from the cache)")
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
    if has_music_metrics(s):
        lines += ["", "## Per stem (published layout)", "", stem_tables([(system_label(s), s)])]
    for kind in BREAKDOWNS:
        if f"by_{kind}" in s:
            lines += breakdown_markdown(kind, s[f"by_{kind}"], s["metrics"], s["sources"][0],
                                        fmt)
    return "\n".join(lines) + "\n"


def system_label(s: dict) -> str:
    """The exp's tag, and the separated dir's name when it is not the data set's."""
    sep_name = Path(s["separated_dir"]).name
    return s["exp"] if sep_name in (s["data_set"], s["exp"]) else f"{s['exp']} ({sep_name})"
