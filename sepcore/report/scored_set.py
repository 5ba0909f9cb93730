"""One scored set of an experiment, read from the file contracts of DESIGN.md.

``exp/<tag>/separate/<set>/`` holds the estimates (``spkN.scp``, optional ``sources``)
and ``scores/`` (``per_utt.tsv``, ``summary.json``, ``RESULTS.md``); ``summary.json``
names the reference data dir (``wav.scp``, ``spkN.scp``, optional ``sources`` with
named stems, optional ``utt2snr`` for enhancement sets). Nothing here knows a corpus:
music and enhancement sets are recognised by those files alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sepcore.errors import DataError
from sepcore.io import read_scp_dict
from sepcore.io.audio import is_pipe
from sepcore.io.scp import read_number_scp

# metrics that say little alone (BSS Eval's parts; a clean mixture's SAR is a 150 dB cap):
# in the tables, but not ranked by and not plotted
SIDE_METRICS = {"sir", "sar", "isr_v4", "sir_v4", "sar_v4"}
# the first of these that was scored ranks the utterances
RANKING = ("si_sdr_i", "sdr_v4", "sdr_mdx", "sdr_i", "pesq_i", "stoi_i")


@dataclass
class ScoredSet:
    name: str
    sep_dir: Path
    summary: dict
    results_md: str
    sources: list[str]
    metrics: list[str]
    # per utterance, per reference source (in ``sources`` order): metric column → value
    scores: dict[str, dict[str, np.ndarray]]
    estimate_of: dict[str, list[str]]      # utt → estimate scp stem for each reference
    ref_dir: Path | None = None
    notes: list[str] = field(default_factory=list)
    # relative paths in scp files are relative to the folder the recipe ran in
    recipe_dir: Path | None = None
    _tables: dict = field(default_factory=dict, repr=False)

    @property
    def utts(self) -> list[str]:
        return list(self.scores)

    @property
    def named_stems(self) -> bool:
        """Music-style sets: a ``sources`` file with names other than spk1..N."""
        return not all(re.fullmatch(r"spk\d+", s) for s in self.sources)

    def columns(self) -> list[str]:
        out = []
        for m in self.metrics:
            out += [m, f"input_{m}", f"{m}_i"]
        return out

    def main_metrics(self) -> list[str]:
        """The columns plotted: improvements where the mixture was scored, else values."""
        out = []
        for m in self.metrics:
            if m in SIDE_METRICS:
                continue
            improved = self.values(f"{m}_i")
            out.append(f"{m}_i" if np.isfinite(improved).any() else m)
        return out

    def ranking_metric(self, wanted: str | None = None) -> str:
        cols = set(self.columns())
        if wanted:
            if wanted not in cols:
                raise DataError(f"{self.sep_dir}/scores/per_utt.tsv: no column {wanted!r} to "
                                f"rank by (have: {', '.join(sorted(cols))})")
            return wanted
        for c in RANKING:
            if c in cols and np.isfinite(self.values(c)).any():
                return c
        return self.main_metrics()[0] if self.main_metrics() else self.columns()[0]

    def values(self, column: str) -> np.ndarray:
        """Per-utterance mean over the sources of ``column`` (NaN when none is finite)."""
        out = np.full(len(self.scores), np.nan)
        for i, per in enumerate(self.scores.values()):
            v = per[column]
            if np.isfinite(v).any():
                out[i] = float(np.nanmean(v))
        return out

    def pick(self, column: str, n: int) -> list[tuple[str, str]]:
        """The best, median and worst ``n`` utterances by ``column``: [(label, utt)]."""
        v = self.values(column)
        utts = self.utts
        ok = [i for i in np.argsort(-np.where(np.isfinite(v), v, -np.inf), kind="stable")
              if np.isfinite(v[i])]
        if not ok:
            return []
        n = max(1, min(n, len(ok) // 3 or 1))
        mid = len(ok) // 2
        groups = {"best": ok[:n], "median": ok[max(0, mid - n // 2):][:n], "worst": ok[-n:]}
        # in a small set the groups overlap: an utterance is best or worst before median
        taken: set[int] = set()
        for label in ("best", "worst", "median"):
            groups[label] = [i for i in groups[label] if i not in taken]
            taken.update(groups[label])
        return [(label, utts[i]) for label in ("best", "median", "worst")
                for i in groups[label]]

    # ---------------------------------------------------------------- audio paths
    def _entry(self, where: Path, name: str, utt: str) -> str | None:
        f = where / name
        if f not in self._tables:
            self._tables[f] = read_scp_dict(f) if f.is_file() else {}
        return self._resolve(self._tables[f].get(utt), where)

    def _resolve(self, spec: str | None, where: Path) -> str | None:
        """An scp value of a file in ``where`` as a readable path: relative paths are tried
        from ``where`` and as they are (sepcore/io/scp.py), then from the recipe folder
        (``<recipe>/exp/<tag>``: older data dirs), so the report runs from anywhere."""
        if spec is None or is_pipe(spec) or Path(spec).is_absolute():
            return spec
        for cand in (where / spec, Path(spec)):
            if cand.exists():
                return str(cand)
        if self.recipe_dir is not None and (self.recipe_dir / spec).exists():
            return str(self.recipe_dir / spec)
        return spec

    def signals(self, utt: str) -> tuple[str | None, list[str | None], list[str | None]]:
        """(mixture, references, estimates in reference order) as scp values; None where
        the file is not available (a moved data dir)."""
        mix = refs = None
        if self.ref_dir is not None:
            mix = self._entry(self.ref_dir, "wav.scp", utt)
            refs = [self._entry(self.ref_dir, f"spk{k + 1}.scp", utt)
                    for k in range(len(self.sources))]
        ests = [self._entry(self.sep_dir, f"{stem}.scp", utt) for stem in self.estimate_of[utt]]
        return mix, refs or [None] * len(self.sources), ests

    def utt2snr(self) -> dict[str, float]:
        """Enhancement sets: ``<ref-dir>/utt2snr`` (``<utt> <SNR dB>``); empty otherwise."""
        if self.ref_dir is None or not (self.ref_dir / "utt2snr").is_file():
            return {}
        return read_number_scp(self.ref_dir / "utt2snr", float, "an SNR in dB (a number)")


def _resolve_ref_dir(given: str, exp_dir: Path) -> Path | None:
    """The reference data dir named in summary.json: absolute, relative to the current
    folder, or relative to the recipe folder (``<recipe>/exp/<tag>``)."""
    p = Path(given)
    for cand in ([p] if p.is_absolute() else [p, exp_dir.parent.parent / p, exp_dir / p]):
        if (cand / "wav.scp").is_file():
            return cand
    return None


def _read_per_utt(path: Path, sources: list[str]):
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise DataError(f"{path}: empty (expected a header and one row per utterance and source)")
    header = lines[0].split("\t")
    if header[:3] != ["utt", "source", "estimate"]:
        raise DataError(f"{path}:1: expected the columns 'utt source estimate ...', got "
                        f"{' '.join(header[:3])!r}")
    cols = header[3:]
    index = {s: k for k, s in enumerate(sources)}
    scores: dict[str, dict[str, np.ndarray]] = {}
    estimate_of: dict[str, list[str]] = {}
    for lineno, line in enumerate(lines[1:], 2):
        parts = line.split("\t")
        if len(parts) != len(header) or parts[1] not in index:
            raise DataError(f"{path}:{lineno}: expected {len(header)} tab-separated fields with "
                            f"a source among {' '.join(sources)}, got {line[:80]!r}")
        utt, src, est = parts[:3]
        per = scores.setdefault(utt, {c: np.full(len(sources), np.nan) for c in cols})
        estimate_of.setdefault(utt, [f"spk{k + 1}" for k in range(len(sources))])
        k = index[src]
        estimate_of[utt][k] = est
        for c, v in zip(cols, parts[3:]):
            try:
                per[c][k] = float(v)
            except ValueError:
                raise DataError(f"{path}:{lineno}: column {c}: not a number: {v!r}") from None
    return scores, estimate_of


def load_scored_set(sep_dir: Path, exp_dir: Path) -> ScoredSet:
    scores_dir = sep_dir / "scores"
    summary_path = scores_dir / "summary.json"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{summary_path}: not found (score the set first: steps/score.sh)") \
            from None
    except json.JSONDecodeError as e:
        raise DataError(f"{summary_path}: invalid JSON ({e})") from None
    for key in ("sources", "metrics"):
        if not isinstance(summary.get(key), list):
            raise DataError(f"{summary_path}: no list {key!r} (not written by steps/score.sh?)")
    results = scores_dir / "RESULTS.md"
    results_md = results.read_text(encoding="utf-8") if results.is_file() else ""
    sources = [str(s) for s in summary["sources"]]
    scores, estimate_of = _read_per_utt(scores_dir / "per_utt.tsv", sources)
    ref_dir = _resolve_ref_dir(str(summary.get("data_dir", "")), exp_dir)
    notes = []
    if ref_dir is None:
        notes.append(f"reference data dir {summary.get('data_dir')!r} not found: "
                     "mixtures and references are not in the listening table")
    return ScoredSet(name=sep_dir.name, sep_dir=sep_dir, summary=summary, results_md=results_md,
                     sources=sources, metrics=[str(m) for m in summary["metrics"]],
                     scores=scores, estimate_of=estimate_of, ref_dir=ref_dir, notes=notes,
                     recipe_dir=exp_dir.parent.parent)


def scored_sets(exp_dir: Path) -> list[ScoredSet]:
    """Every ``separate/<set>`` of the exp dir that has been scored, by name."""
    return [load_scored_set(d.parent.parent, exp_dir)
            for d in sorted(exp_dir.glob("separate/*/scores/summary.json"))]


def snr_groups(snr: dict[str, float], utts: list[str]):
    """[(label, [utt indices])] with scoring's SNR labels (sepcore/scoring/breakdown.py):
    one group per SNR value when there are few (VoiceBank's four test SNRs), else 5 dB
    bins (randomly drawn SNRs)."""
    from sepcore.scoring.breakdown import label_sort_key, snr_labels

    labels = snr_labels({u: snr[u] for u in utts if u in snr})
    groups: dict[str, list[int]] = {}
    for i, u in enumerate(utts):
        if u in labels:
            groups.setdefault(labels[u], []).append(i)
    return [(f"{k} dB", groups[k])
            for k in sorted(groups, key=lambda k: label_sort_key("snr", k))]
