"""Scores broken down by what the data dir says about each utterance.

An enhancement data dir may hold ``utt2snr`` (``<utt> <SNR in dB>``: the level of the
speech over the noise in the mixture), ``utt2noise_type`` (``<utt> <label>``, e.g.
``babble``) and ``utt2mask_type`` (egs/demask: the face mask, e.g. ``surgical``).
Scoring then reports every metric per SNR, noise type and mask type, next to the overall
figures: in ``summary.json`` (``by_snr``, ``by_noise_type``, ``by_mask_type``) and
RESULTS.md.
SNRs with at most ``MAX_SNR_GROUPS`` distinct values (a fixed grid, VoiceBank+DEMAND's four
test SNRs) are one group each; more (SNRs drawn from a range, as DNS) are put in 5 dB bins.
"""

from __future__ import annotations

import math
from pathlib import Path

from sepcore.errors import DataError
from sepcore.io.scp import read_number_scp, read_scp

BREAKDOWNS = {"snr": "utt2snr", "noise_type": "utt2noise_type", "mask_type": "utt2mask_type"}
TITLES = {"snr": "SNR (dB)", "noise_type": "noise type", "mask_type": "mask type"}
MAX_SNR_GROUPS = 10
SNR_BIN_DB = 5.0


def _fmt_snr(v: float) -> str:
    return f"{v:g}"


def read_groups(data_dir: str | Path, utts: list[str]) -> dict[str, dict[str, str]]:
    """``{"snr": {utt: label}, "noise_type": {...}}`` for the files present in the data dir.

    Raises DataError naming the file and line for a missing utterance or a bad SNR.
    """
    out: dict[str, dict[str, str]] = {}
    for kind, fname in BREAKDOWNS.items():
        path = Path(data_dir) / fname
        if not path.is_file():
            continue
        table = (read_number_scp(path, float, "an SNR in dB (a number)") if kind == "snr"
                 else dict(read_scp(path)))
        missing = [u for u in utts if u not in table]
        if missing:
            raise DataError(f"{path}: no line for utterance {missing[0]!r} (in wav.scp)"
                            + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
        if kind == "snr":
            values = {u: table[u] for u in utts}
            for lineno, u in enumerate(table, 1):
                if u in values and not math.isfinite(values[u]):
                    raise DataError(f"{path}:{lineno}: utterance {u!r}: SNR {values[u]} is "
                                    "not finite")
            out[kind] = snr_labels(values)
        else:
            out[kind] = {u: table[u] for u in utts}
    return out


def snr_labels(values: dict[str, float]) -> dict[str, str]:
    """One label per distinct SNR, or 5 dB bins ``[lo, hi)`` when there are many."""
    if len(set(values.values())) <= MAX_SNR_GROUPS:
        return {u: _fmt_snr(v) for u, v in values.items()}
    out = {}
    for u, v in values.items():
        lo = math.floor(v / SNR_BIN_DB) * SNR_BIN_DB
        out[u] = f"[{_fmt_snr(lo)}, {_fmt_snr(lo + SNR_BIN_DB)})"
    return out


def label_sort_key(kind: str, label: str):
    """SNR labels by their (lower) value, other labels by name."""
    if kind == "snr":
        try:
            return (0, float(label.strip("[").split(",")[0]), label)
        except ValueError:
            pass
    return (1, 0.0, label)


def group_stats(groups: dict[str, str], rows: list[tuple[str, dict[str, float]]], kind: str,
                stats) -> dict[str, dict]:
    """``rows``: ``(utt, {column: value})`` per utterance and source → per label
    ``{"num_utts": n, "scores": {column: stats(values)}}``, labels in order."""
    by: dict[str, list[dict[str, float]]] = {}
    utts: dict[str, set] = {}
    for utt, vals in rows:
        label = groups[utt]
        by.setdefault(label, []).append(vals)
        utts.setdefault(label, set()).add(utt)
    out = {}
    for label in sorted(by, key=lambda s: label_sort_key(kind, s)):
        cols = by[label][0].keys()
        out[label] = {"num_utts": len(utts[label]),
                      "scores": {c: stats([v[c] for v in by[label]]) for c in cols}}
    return out


def markdown(kind: str, table: dict[str, dict], metrics: list[str], source: str,
             fmt) -> list[str]:
    """RESULTS.md lines: one row per group, one column per metric, ``estimate (input)``."""
    title = TITLES[kind]
    lines = ["", f"Per {title}, {source} (mean over utterances; the unprocessed input in "
             "brackets):", "",
             f"| {title} | utts | " + " | ".join(metrics) + " |",
             "|---|---:|" + "---:|" * len(metrics)]
    for label, g in table.items():
        cells = []
        for m in metrics:
            est, inp = g["scores"][m]["mean"], g["scores"].get(f"input_{m}", {}).get("mean")
            cells.append(fmt(est) + ("" if inp is None else f" ({fmt(inp)})"))
        lines.append(f"| {label} | {g['num_utts']} | " + " | ".join(cells) + " |")
    return lines
