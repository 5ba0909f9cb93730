"""Compare scored experiments: one Markdown table per data set, one row per experiment.

``python -m sepcore.bin.show_results exp/*`` reads ``<exp>/separate/*/scores/summary.json``
(an argument may also be a separated dir or its ``scores`` dir). Columns: the mean of each
metric's improvement (``*_i``) and of its value; for the music metrics (BSS Eval v4 and
MDX SDR) the median over tracks averaged over sources, as museval/MDX report them.

``--stems`` (music): one per-stem table in the published layout of the separated dirs
given as ``LABEL=DIR`` or ``DIR``, scored on the same tracks, with the mixture as the
reference first row (sepcore/metrics/stem_table.py).

``--by snr`` (or ``noise_type``, ``mask_type``) prints instead one table per data set with a
column per metric of ``--metrics`` and per SNR group (the ``by_snr`` breakdown of summary.json,
written when the data dir has ``utt2snr``), and with ``--input true`` a first row for the
unprocessed input: e.g. an enhancement model against its baselines, per test SNR.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sepcore.bin.common import make_parser, prog_name, run_main
from sepcore.errors import DataError
from sepcore.metrics.registry import METRICS
from sepcore.scoring.compare import group_tables


def _median_summary(metric: str) -> bool:
    """Summarised as the median over tracks of each source, then the mean over sources."""
    return metric in METRICS and METRICS[metric].summary == "median"


def find_summaries(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_file() and p.name == "summary.json":
            found.append(p)
        elif (p / "summary.json").is_file():
            found.append(p / "summary.json")
        elif (p / "scores" / "summary.json").is_file():
            found.append(p / "scores" / "summary.json")
        else:
            found += sorted(p.glob("separate/*/scores/summary.json"))
    return found


def _value(summary: dict, col: str, metric: str) -> float | None:
    if _median_summary(metric):
        meds = [s[col]["median"] for s in summary.get("by_source", {}).values() if col in s]
        meds = [m for m in meds if m is not None]
        return sum(meds) / len(meds) if meds else None
    st = summary["scores"].get(col)
    return None if st is None else st["mean"]


def tables(summaries: list[tuple[Path, dict]]) -> str:
    by_set: dict[str, list[tuple[Path, dict]]] = {}
    for path, s in summaries:
        by_set.setdefault(s["data_set"], []).append((path, s))
    out = []
    for data_set in sorted(by_set):
        rows = by_set[data_set]
        metrics: list[str] = []
        for _, s in rows:
            metrics += [m for m in s["metrics"] if m not in metrics]
        cols = []
        for m in metrics:
            cols += [f"{m}_i", m]
        heads = [c + (" (median)" if _median_summary(c.replace("_i", "")) else "") for c in cols]
        out += [f"## {data_set}", "", "| exp | utts | " + " | ".join(heads) + " |",
                "|---|---:|" + "---:|" * len(cols)]
        for path, s in sorted(rows, key=lambda r: r[1]["exp"]):
            sep_name = path.parent.parent.name
            label = s["exp"] if sep_name == data_set else f"{s['exp']} ({sep_name})"
            cells = []
            for c in cols:
                m = c[:-2] if c.endswith("_i") and c[:-2] in metrics else c
                v = _value(s, c, m) if m in s["metrics"] else None
                cells.append("" if v is None or math.isnan(v) else f"{v:.2f}")
            out.append(f"| {label} | {s['num_utts']} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = make_parser("show_results", __doc__)
    p.add_argument("paths", nargs="+", help="exp dirs (or separated dirs, or summary.json); "
                   "with --stems: [LABEL=]separated dir")
    p.add_argument("--by", choices=("snr", "noise_type", "mask_type"), default=None,
                   help="one column per group of the data dir's utt2snr / utt2noise_type / "
                        "utt2mask_type")
    p.add_argument("--metrics", default="si_sdr,pesq", help="with --by: comma-separated")
    p.add_argument("--input", choices=("true", "false"), default="false",
                   help="with --by: a first row for the unprocessed input")
    p.add_argument("--stems", action="store_true",
                   help="music: one per-stem table (published layout) of the given dirs")
    args = p.parse_args(argv)
    if args.stems:
        from sepcore.metrics.stem_table import labelled_summaries, stem_tables

        print(stem_tables(labelled_summaries(args.paths)), end="")
        return 0
    found = find_summaries(args.paths)
    if not found:
        raise DataError(
            f"no scored experiment under {' '.join(args.paths)} (looked for "
            "<exp>/separate/*/scores/summary.json; run steps/score.sh first)"
        )
    summaries = []
    for f in found:
        try:
            summaries.append((f, json.loads(f.read_text(encoding="utf-8"))))
        except (OSError, json.JSONDecodeError) as e:
            raise DataError(f"{f}: cannot read ({e})") from None
    if args.by:
        metrics = [m for m in args.metrics.split(",") if m]
        print(group_tables(summaries, args.by, metrics, args.input == "true"), end="")
    else:
        print(tables(summaries), end="")
    return 0


if __name__ == "__main__":
    run_main(main, prog=prog_name("show_results"))
