"""Per-stem music tables in the published layout (SiSEC 2018 / Open-Unmix / MDX 2021).

One row per system, one column per stem in the published order (vocals, drums, bass,
other, then any other names), plus their mean, from ``summary.json`` files of
``steps/score.sh`` with the music metrics:

- **SDR, BSS Eval v4** (museval): the median over 1 s windows per track, then the median
  over tracks (``by_source[stem]["sdr_v4"]["median"]``), as SiSEC 2018 and Open-Unmix
  report it;
- **SDR, MDX 2021** (whole-track ``10 log10(Σs² / Σ(s - ŝ)²)`` per stem and track): the
  mean over tracks (the challenge's ranking) and the median over tracks.

The first row is always the reference "mixture": the unprocessed mixture scored as every
stem's estimate (``input_*``, computed by score.sh on the same tracks). A last table
gives each system's gain over that row (the tables' values minus the mixture's).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sepcore.errors import DataError

PUBLISHED_ORDER = ("vocals", "drums", "bass", "other")
MIXTURE_LABEL = "mixture (reference)"
TABLES = (
    ("sdr_v4", "median", "SDR, BSS Eval v4 (museval): median over 1 s windows, median over "
                         "tracks"),
    ("sdr_mdx", "mean", "SDR, MDX 2021 (whole track): mean over tracks"),
    ("sdr_mdx", "median", "SDR, MDX 2021 (whole track): median over tracks"),
)


def stem_order(sources: list[str]) -> list[str]:
    known = [s for s in PUBLISHED_ORDER if s in sources]
    return known + [s for s in sources if s not in known]


def stem_values(summary: dict, metric: str, stat: str, prefix: str = "") -> dict[str, float]:
    """``{stem: value}`` of ``prefix + metric`` (NaN where missing)."""
    out = {}
    for stem in summary["sources"]:
        st = summary.get("by_source", {}).get(stem, {}).get(prefix + metric)
        v = None if st is None else st.get(stat)
        out[stem] = math.nan if v is None else float(v)
    return out


def _fmt(v: float) -> str:
    return "" if math.isnan(v) else f"{v:.2f}"


def _mean(values: list[float]) -> float:
    ok = [v for v in values if not math.isnan(v)]
    return sum(ok) / len(ok) if len(ok) == len(values) and ok else math.nan


def has_music_metrics(summary: dict) -> bool:
    return any(m in summary.get("metrics", []) for m, _, _ in TABLES)


def stem_tables(systems: list[tuple[str, dict]]) -> str:
    """Markdown tables for ``[(label, summary), ...]`` scored on the same data set."""
    if not systems:
        raise DataError("no scored system to tabulate")
    first = systems[0][1]
    for label, s in systems[1:]:
        if (s["data_dir"], s["num_utts"], s["sources"]) != (first["data_dir"], first["num_utts"],
                                                            first["sources"]):
            raise DataError(
                f"{label}: scored on {s['data_dir']} ({s['num_utts']} tracks, "
                f"{' '.join(s['sources'])}), but {systems[0][0]} on {first['data_dir']} "
                f"({first['num_utts']} tracks, {' '.join(first['sources'])}): a per-stem "
                "table compares systems on the same tracks only")
    stems = stem_order(first["sources"])
    head = "| system | " + " | ".join(stems) + " | mean |"
    rule = "|---|" + "---:|" * (len(stems) + 1)
    out = [f"Per-stem SDR in dB on {first['data_set']} ({first['num_utts']} tracks, "
           f"{first['data_dir']}); '{MIXTURE_LABEL}' is the unprocessed mixture used as "
           "every stem's estimate.", ""]
    gains = []
    for metric, stat, title in TABLES:
        present = [(label, s) for label, s in systems if metric in s["metrics"]]
        if not present:
            continue
        mix = stem_values(present[0][1], metric, stat, "input_")
        out += [f"{title}:", "", head, rule]
        rows = [(MIXTURE_LABEL, mix)] + [(label, stem_values(s, metric, stat))
                                         for label, s in present]
        for label, vals in rows:
            cells = [vals[st] for st in stems]
            out.append(f"| {label} | " + " | ".join(map(_fmt, cells)) + f" | "
                       f"{_fmt(_mean(cells))} |")
        out.append("")
        name = "museval" if metric == "sdr_v4" else f"MDX {stat}"
        for label, vals in rows[1:]:
            cells = [vals[st] - mix[st] for st in stems]
            gains.append(f"| {label}, {name} | " + " | ".join(map(_fmt, cells)) + f" | "
                         f"{_fmt(_mean(cells))} |")
    if gains:
        out += ["Gain over the mixture (the rows above minus the mixture's row):", "", head,
                rule] + gains + [""]
    return "\n".join(out)


def read_summary(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: cannot read ({e})") from None


def labelled_summaries(args: list[str]) -> list[tuple[str, dict]]:
    """``[LABEL=]DIR`` (a separated dir, its ``scores`` dir or a summary.json) →
    ``(label, summary)``; the label defaults to the exp's tag."""
    out = []
    for arg in args:
        label, sep, path = arg.partition("=")
        if not sep:
            label, path = "", arg
        p = Path(path)
        found = [f for f in (p, p / "summary.json", p / "scores" / "summary.json")
                 if f.is_file() and f.name == "summary.json"]
        if not found:
            raise DataError(f"{path}: expected a scored separated dir (with "
                            f"scores/summary.json; run steps/score.sh first)")
        s = read_summary(found[0])
        out.append((label or s["exp"], s))
    return out
