"""One page comparing experiments on the same utterances, for A/B listening: per data set
scored by all of them, their results side by side and the utterances where they differ
most, with every experiment's estimates on one colour scale."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sepcore.errors import DataError
from sepcore.report import plots
from sepcore.report.assets import Assets, safe_name
from sepcore.report.build import ReportOptions, staged
from sepcore.report.html import audio_player, esc, fmt_num, image, page, table
from sepcore.report.scored_set import ScoredSet, scored_sets


def default_out_dir(exp_dirs: list[Path]) -> Path:
    tags = "-".join(safe_name(e.resolve().name) for e in exp_dirs)
    return exp_dirs[0].resolve().parent / f"compare_{tags}"[:150]


def _common_sets(exps: list[Path]) -> list[tuple[str, list[ScoredSet]]]:
    per_exp = [{s.name: s for s in scored_sets(e)} for e in exps]
    for e, sets in zip(exps, per_exp):
        if not sets:
            raise DataError(f"{e}: no scored set (separate/<set>/scores/summary.json); "
                            "run steps/separate.sh and steps/score.sh first")
    names = sorted(set.intersection(*(set(s) for s in per_exp)))
    if not names:
        listing = "; ".join(f"{e}: {' '.join(sorted(s))}" for e, s in zip(exps, per_exp))
        raise DataError(f"the experiments have no scored set in common ({listing})")
    out = []
    for name in names:
        sets = [s[name] for s in per_exp]
        for e, s in zip(exps[1:], sets[1:]):
            if s.sources != sets[0].sources:
                raise DataError(f"set {name}: {e} has sources {' '.join(s.sources)} but "
                                f"{exps[0]} has {' '.join(sets[0].sources)}")
        out.append((name, sets))
    return out


def _summary_table(exps: list[Path], sets: list[ScoredSet]) -> str:
    cols = [c for c in sets[0].main_metrics() if all(c in s.summary["scores"] for s in sets)]
    rows = []
    for e, s in zip(exps, sets):
        sc = s.summary["scores"]
        rows.append([e.resolve().name, str(s.summary.get("num_utts", len(s.utts)))]
                    + [f"{fmt_num(sc[c]['mean'])} / {fmt_num(sc[c]['median'])}" for c in cols])
    return table(["experiment", "utterances"] + [f"{c} mean / median" for c in cols], rows)


def compare_set(name: str, exps: list[Path], sets: list[ScoredSet], assets: Assets,
                out_dir: Path, opts: ReportOptions) -> list[str]:
    metric = sets[0].ranking_metric(opts.metric)
    for e, s in zip(exps, sets):
        if metric not in s.columns():
            raise DataError(f"set {name}: {e} has no {metric!r} scores to compare by")
    common = [u for u in sets[0].utts if all(u in s.scores for s in sets[1:])]
    if not common:
        raise DataError(f"set {name}: no utterance is scored in every experiment")
    by_utt = [dict(zip(s.utts, s.values(metric))) for s in sets]
    values = np.array([[v[u] for u in common] for v in by_utt])
    spread = np.nanmax(values, axis=0) - np.nanmin(values, axis=0)
    order = np.argsort(-np.nan_to_num(spread, nan=-np.inf), kind="stable")
    picks = [int(i) for i in order[: 3 * opts.num_utts] if np.isfinite(spread[i])]
    tags = [e.resolve().name for e in exps]
    out = [f"<h2 id=\"set-{esc(safe_name(name))}\">Set {esc(name)}</h2>",
           f"<p>{len(common)} utterances scored by every experiment.</p>",
           _summary_table(exps, sets)]
    if len(exps) >= 2:
        diff = values[1] - values[0]
        png = f"{safe_name(name)}_difference.png"
        plots.histograms({f"{metric}: {tags[1]} − {tags[0]}": diff}, out_dir / png)
        out.append(image(png, f"per-utterance difference of {metric}"))
    out.append(f"<h3>The {len(picks)} utterances where they differ most in {esc(metric)}</h3>"
               '<p class="note">One colour scale per utterance for all its spectrograms.</p>')
    out.append(image("colour_bar.png", "colour scale", "legend"))
    for rank, i in enumerate(picks):
        utt = common[i]
        mix, refs, _ = sets[0].signals(utt)
        prefix = f"{safe_name(name)}/{rank:02d}_{safe_name(utt)}"
        ref_row, scale = assets.row(f"{prefix}/reference", [("mixture", mix)] + [
            (f"{src} reference", r) for src, r in zip(sets[0].sources, refs)])
        # columns: mixture, then each source; every estimate under its reference
        rows = [["mixture, references", ""] + [audio_player(a, lab, p) if a else "(not found)"
                                               for lab, a, p in ref_row]]
        for tag, s, v in zip(tags, sets, values[:, i]):
            _, _, ests = s.signals(utt)
            est_row, _ = assets.row(f"{prefix}/{safe_name(tag)}", [
                (f"{src} estimate ({tag})", e) for src, e in zip(s.sources, ests)], scale)
            rows.append([tag, fmt_num(float(v)), ""] + [
                audio_player(a, lab, p) if a else "(not found)" for lab, a, p in est_row])
        out.append(f"<h4>{esc(utt)} ({esc(metric)} spread {fmt_num(float(spread[i]))})</h4>")
        out.append(table(["", metric, "mixture", *sets[0].sources], rows))
    return out


def build_compare_report(exp_dirs: list[str | os.PathLike],
                         out_dir: str | os.PathLike | None = None,
                         options: ReportOptions | None = None) -> Path:
    """Write the comparison of ``exp_dirs`` (default ``<exp root>/compare_<a>-<b>...``)."""
    opts = options or ReportOptions()
    exps = [Path(e) for e in exp_dirs]
    if len(exps) < 2:
        raise DataError("give at least two experiments to compare")
    for e in exps:
        if not e.is_dir():
            raise DataError(f"{e}: not a folder (expected an exp dir)")
    if len({e.resolve() for e in exps}) != len(exps):
        raise DataError("an experiment is given twice")
    out_dir = Path(out_dir) if out_dir else default_out_dir(exps)
    common = _common_sets(exps)
    with staged(out_dir, opts) as (tmp, assets):
        tags = [e.resolve().name for e in exps]
        body = [f"<h1>Comparison: {esc(' vs '.join(tags))}</h1>",
                "<nav>" + "".join(f'<a href="#set-{esc(safe_name(n))}">{esc(n)}</a>'
                                  for n, _ in common) + "</nav>",
                "<p>Experiments: " + ", ".join(f"<code>{esc(e)}</code>" for e in exps)
                + ".</p>"]
        for name, sets in common:
            body += compare_set(name, exps, sets, assets, tmp, opts)
        (tmp / "index.html").write_text(page(f"sepcore comparison: {' vs '.join(tags)}", body),
                                        encoding="utf-8")
    return out_dir / "index.html"
