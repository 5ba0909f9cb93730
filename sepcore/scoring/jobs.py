"""Scoring in parallel jobs, then merging (``steps/score.sh``; see sepcore/bin/score.py).

Job J of N scores the utterances whose index in the sorted list is J-1 modulo N and
appends each to its part (sepcore/scoring/parts.py); the merge writes ``per_utt.tsv``,
``summary.json`` and ``RESULTS.md`` and adds the mixture scores to the data dir's cache
(sepcore/scoring/cache.py).
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import shutil
import sys
from pathlib import Path

import numpy as np

from sepcore.errors import ConfigError, DataError
from sepcore.io import atomic_write_text
from sepcore.metrics.registry import METRICS
from sepcore.scoring.breakdown import group_stats, read_groups
from sepcore.scoring.cache import InputCache
from sepcore.scoring.inputs import Inputs
from sepcore.scoring.parts import config_key, read_parts, read_records
from sepcore.scoring.results import (
    PERMUTATION_RULE,
    as_float,
    exp_tag,
    results_md,
    stats,
    versions,
)

log = logging.getLogger("sepcore.score")


def run_job(args, inputs: Inputs, metrics: list[str], key: str, scores_dir: Path) -> None:
    from sepcore.metrics import score_utterance

    if not 1 <= args.job <= args.num_jobs:
        raise ConfigError(f"--job {args.job} is outside 1..{args.num_jobs}")
    parts_dir = scores_dir / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    utts = [u for i, u in enumerate(inputs.ref.utts) if i % args.num_jobs == args.job - 1]
    done = read_parts(parts_dir, key)
    todo = [u for u in utts if u not in done]
    log.info("job %d/%d: %d utterances, %d already scored, %d to do", args.job, args.num_jobs,
             len(utts), len(utts) - len(todo), len(todo))
    if not todo:
        return
    cache = {}
    if args.use_cache:
        cache = InputCache(inputs.ref.path, inputs.ref_checksum(), inputs.source_names).load()
    own = parts_dir / f"job.{args.job}.jsonl"
    kept = read_records(own, key) if own.is_file() else []
    header = json.dumps({"config": key, "metrics": metrics}) + "\n"
    atomic_write_text(own, header + "".join(json.dumps(r) + "\n" for r in kept))

    bar = None
    if args.progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=f"score {args.job}/{args.num_jobs}", unit="utt",
                   file=sys.stderr, mininterval=1.0 if sys.stderr.isatty() else 30.0)
    with open(own, "a", encoding="utf-8") as out:
        for utt in todo:
            est, ref, mix, sr, trimmed = inputs.load(utt, args.allow_length_mismatch)
            # (a NaN in the cache is a silent reference's score: deterministic, kept)
            cached = {} if trimmed else {m: cache[(utt, m)] for m in metrics if (utt, m) in cache}
            need = [m for m in metrics if m not in cached]
            try:
                res = score_utterance(est, ref, mix, sr, metrics, args.compute_permutation,
                                      input_metrics=need)
            except ValueError as e:
                raise DataError(f"utterance {utt!r} ({inputs.est_files[0]}): {e}") from None
            inputs_all = {m: cached.get(m, res.inputs.get(m)) for m in metrics}
            silent = [k for k in range(ref.shape[0]) if not np.any(ref[k])]
            silent_est = [k for k in range(est.shape[0]) if not np.any(est[k])]
            if silent_est:
                log.warning("utterance %r: estimate %s is all zeros: its scores are NaN (counted "
                            "in the summary)", utt, inputs.est_files[silent_est[0]])
            rec = {
                "utt": utt, "perm": res.perm, "values": res.values, "inputs": inputs_all,
                "new_inputs": [] if trimmed else need, "trimmed": trimmed, "sample_rate": sr,
                "notes": res.notes, "silent_refs": silent, "silent_ests": silent_est,
            }
            out.write(json.dumps(rec) + "\n")
            out.flush()
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()


def run_merge(args, inputs: Inputs, metrics: list[str], key: str, scores_dir: Path) -> None:
    parts_dir = scores_dir / "parts"
    recs = read_parts(parts_dir, key)
    missing = [u for u in inputs.ref.utts if u not in recs]
    if missing:
        raise DataError(
            f"{scores_dir}: {len(missing)} of {len(inputs.ref.utts)} utterances are not scored "
            f"yet (e.g. {missing[0]!r}); rerun steps/score.sh (it redoes only what is missing) "
            f"and look at {scores_dir / 'log'}/score.*.log"
        )
    names = inputs.source_names
    S = len(names)
    # a metric without an input score (registry) has no input_ and _i columns
    with_input = {m: METRICS[m].input_score for m in metrics}
    cols = []
    for m in metrics:
        cols += [m, f"input_{m}", f"{m}_i"] if with_input[m] else [m]
    columns: dict[str, list[float]] = {c: [] for c in cols}
    per_source: dict[str, dict[str, list[float]]] = {n: {c: [] for c in cols} for n in names}
    rows = ["\t".join(["utt", "source", "estimate"] + cols) + "\n"]
    groups = read_groups(inputs.ref.path, inputs.ref.utts)  # utt2snr, utt2noise_type
    first_source: list[tuple[str, dict[str, float]]] = []
    new_cache: dict[tuple[str, str], list[float]] = {}
    notes: list[str] = []
    trimmed_utts = trimmed_samples = 0
    silent_refs = silent_ests = permuted = 0
    rates = set()
    for utt in inputs.ref.utts:
        r = recs[utt]
        rates.add(r["sample_rate"])
        for n in r.get("notes", []):
            if n not in notes:
                notes.append(n)
        if r["trimmed"]:
            trimmed_utts += 1
            trimmed_samples += r["trimmed"]
        silent_refs += len(r.get("silent_refs", []))
        silent_ests += len(r.get("silent_ests", []))
        permuted += int(list(r["perm"]) != list(range(S)))
        for m in r.get("new_inputs", []):
            if r["inputs"].get(m) is not None:
                new_cache[(utt, m)] = [as_float(v) for v in r["inputs"][m]]
        for j in range(S):
            vals = []
            for m in metrics:
                v = as_float(r["values"][m][j])
                i = as_float(r["inputs"][m][j]) if r["inputs"].get(m) is not None else math.nan
                cells = ((m, v), (f"input_{m}", i), (f"{m}_i", v - i)) if with_input[m] else (
                    (m, v),)
                for c, x in cells:
                    vals.append(x)
                    columns[c].append(x)
                    per_source[names[j]][c].append(x)
            if j == 0:
                first_source.append((utt, dict(zip(cols, vals))))
            est_name = inputs.est_files[r["perm"][j]].stem
            rows.append("\t".join([utt, names[j], est_name] + [repr(float(x)) for x in vals])
                        + "\n")
    if args.use_cache:
        InputCache(inputs.ref.path, inputs.ref_checksum(), names).update(new_cache)
    sepcore_version, torch_version = versions()
    tag = exp_tag(inputs.sep_dir)
    data_set = inputs.ref.path.resolve().name
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summary = {
        "exp": tag, "data_set": data_set, "data_dir": str(inputs.ref.path),
        "separated_dir": str(inputs.sep_dir), "date": date,
        "sepcore_version": sepcore_version, "torch_version": torch_version,
        "num_utts": len(inputs.ref.utts), "sources": names, "metrics": metrics,
        "sample_rate": sorted(rates)[0] if len(rates) == 1 else sorted(rates),
        "permutation": PERMUTATION_RULE if args.compute_permutation else "none (spkN -> spkN)",
        "permuted_utts": permuted,
        "length_mismatch": {"allowed": args.allow_length_mismatch,
                            "trimmed_utts": trimmed_utts, "trimmed_samples": trimmed_samples},
        "silent_references": silent_refs,
        "silent_estimates": silent_ests,
        "notes": notes,
        "scores": {c: stats(columns[c]) for c in cols},
        "by_source": {n: {c: stats(per_source[n][c]) for c in cols} for n in names},
    }
    for kind, labels in groups.items():  # of the first source (enhancement: the speech)
        summary[f"by_{kind}"] = group_stats(labels, first_source, kind, stats)
    scores_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(scores_dir / "per_utt.tsv", "".join(rows))
    atomic_write_text(scores_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(scores_dir / "RESULTS.md", results_md(summary))
    atomic_write_text(scores_dir / ".done", key + "\n")
    shutil.rmtree(parts_dir, ignore_errors=True)
    log.info("wrote %s (%d utterances)", scores_dir / "RESULTS.md", len(inputs.ref.utts))
    print(results_md(summary), end="")


def score(args) -> int:
    """One job (or, with ``args.merge``, the merge) of scoring ``args.sep_dir``."""
    from sepcore.metrics import parse_metrics

    if args.num_jobs < 1:
        raise ConfigError(f"--num-jobs must be >= 1, got {args.num_jobs}")
    inputs = Inputs(args.ref_dir, args.sep_dir)
    spec = args.metrics
    if spec == "default" and inputs.ref.num_sources == 1:
        spec = "enhancement"  # one reference: the speech of an enhancement set
    try:
        metrics = parse_metrics(spec)
    except ValueError as e:
        raise ConfigError(f"--metrics {args.metrics!r}: {e}") from None
    key = config_key(args, inputs, metrics)
    scores_dir = inputs.sep_dir / "scores"
    done = scores_dir / ".done"
    complete = done.is_file() and (scores_dir / "summary.json").is_file()
    if complete and done.read_text().strip() == key:
        log.info("%s: already scored with these metrics and estimates; nothing to do", scores_dir)
        return 0
    if args.merge:
        run_merge(args, inputs, metrics, key, scores_dir)
    else:
        run_job(args, inputs, metrics, key, scores_dir)
    return 0
