"""Per-group comparison tables of scored experiments (``show_results --by snr``).

Reads the ``by_snr`` / ``by_noise_type`` / ``by_mask_type`` breakdowns that scoring writes into each
``summary.json`` (sepcore/scoring/breakdown.py) and prints, per data set, one Markdown
table: a row per experiment (and optionally a first row for the unprocessed input), a
column per metric and group, e.g. an enhancement model against its baselines per SNR.
"""

from __future__ import annotations

import math
from pathlib import Path

from sepcore.errors import DataError
from sepcore.scoring.breakdown import TITLES


def group_tables(summaries: list[tuple[Path, dict]], kind: str, metrics: list[str],
                 with_input: bool) -> str:
    """Per data set: rows = (input,) experiments; columns = metric x group of ``by_<kind>``."""
    by_set: dict[str, list[tuple[Path, dict]]] = {}
    for path, s in summaries:
        if f"by_{kind}" not in s:
            raise DataError(f"{path}: no by_{kind} breakdown (its data dir "
                            f"{s.get('data_dir', '?')} has no utt2{kind}; score it again "
                            f"after adding one)")
        by_set.setdefault(s["data_set"], []).append((path, s))
    out = []
    for data_set in sorted(by_set):
        rows = sorted(by_set[data_set], key=lambda r: r[1]["exp"])
        groups = list(rows[0][1][f"by_{kind}"])
        for path, s in rows:
            if list(s[f"by_{kind}"]) != groups:
                raise DataError(f"{path}: groups {list(s[f'by_{kind}'])} differ from "
                                f"{groups} of {rows[0][0]} (scored on other data?)")
            missing = [m for m in metrics if m not in s["metrics"]]
            if missing:
                raise DataError(f"{path}: metric {missing[0]} was not scored (scored: "
                                f"{', '.join(s['metrics'])})")

        def cell(s: dict, col: str, group: str) -> str:
            v = s[f"by_{kind}"][group]["scores"].get(col, {}).get("mean")
            return "" if v is None or math.isnan(v) else f"{v:.2f}"

        heads = [f"{m} {g}" for m in metrics for g in groups]
        title = TITLES.get(kind, kind)
        out += [f"## {data_set}, per {title}", "", "| system | " + " | ".join(heads) + " |",
                "|---|" + "---:|" * len(heads)]
        if with_input:
            s = rows[0][1]
            out.append("| input | " + " | ".join(cell(s, f"input_{m}", g) for m in metrics
                                                 for g in groups) + " |")
        for path, s in rows:
            sep_name = path.parent.parent.name
            label = s["exp"] if sep_name == data_set else f"{s['exp']} ({sep_name})"
            out.append(f"| {label} | " + " | ".join(cell(s, m, g) for m in metrics
                                                    for g in groups) + " |")
        out.append("")
    return "\n".join(out)
