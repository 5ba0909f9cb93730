"""Score separated estimates against a reference data dir (``steps/score.sh`` runs this).

Job mode (one of ``--num-jobs`` parallel jobs; job J takes the utterances whose index in the
sorted list is J-1 modulo N) appends one JSON line per finished utterance to
``<separated-dir>/scores/parts/job.J.jsonl``, so a killed job, rerun, redoes only what is
missing. ``--merge`` then writes ``per_utt.tsv``, ``summary.json`` and ``RESULTS.md`` and
adds the mixture scores to the data dir's cache ``<ref-data-dir>/scores/input_scores.tsv``
(valid while wav.scp and spkN.scp stay the same), which later experiments reuse.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core per job so --nj N scales (before numpy loads)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from sepcore.bin.common import run_main, setup_logging  # noqa: E402
from sepcore.data import DataDir  # noqa: E402
from sepcore.errors import ConfigError, DataError  # noqa: E402
from sepcore.io import atomic_write_text, read_audio, read_scp_dict  # noqa: E402

log = logging.getLogger("score")

PERMUTATION_RULE = (
    "per utterance, the assignment of estimates to references with the highest mean SI-SDR"
)
CACHE_NAME = "input_scores.tsv"
CACHE_VERSION = 1


def str2bool(v: str) -> bool:
    if v.lower() in ("true", "1", "yes"):
        return True
    if v.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {v!r}")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sepcore.bin.score",
        description="Score separated estimates (spkN.scp) against a reference data dir.",
    )
    p.add_argument("ref_dir", help="reference data dir (wav.scp, spk1.scp..spkN.scp)")
    p.add_argument("sep_dir", help="separated dir (spk1.scp..spkN.scp of estimates)")
    p.add_argument("--metrics", default="default",
                   help="comma-separated metrics or sets (default: si_sdr,sdr,sir,sar,stoi,pesq; "
                        "'music': sdr_v4,isr_v4,sir_v4,sar_v4,sdr_mdx; 'speech' adds estoi)")
    p.add_argument("--job", type=int, default=1, help="job index, 1-based (default 1)")
    p.add_argument("--num-jobs", type=int, default=1, help="number of jobs (default 1)")
    p.add_argument("--merge", action="store_true",
                   help="merge the jobs' results into per_utt.tsv, summary.json, RESULTS.md")
    p.add_argument("--allow-length-mismatch", type=str2bool, default=False,
                   help="trim estimates/references to the shorter length instead of failing; "
                        "trims are counted in the summary (default false)")
    p.add_argument("--compute-permutation", type=str2bool, default=True,
                   help="assign estimates to references by the best mean SI-SDR (default true; "
                        "false for named stems, e.g. music)")
    p.add_argument("--use-cache", type=str2bool, default=True,
                   help="reuse/store mixture scores in <ref-dir>/scores (default true)")
    p.add_argument("--progress", type=str2bool, default=True, help="show a progress bar")
    return p


# --------------------------------------------------------------------------------------------
# inputs


class Inputs:
    """The reference data dir and the estimates, cross-checked."""

    def __init__(self, ref_dir: str, sep_dir: str):
        self.ref = DataDir.load(ref_dir)
        self.sep_dir = Path(sep_dir)
        if not self.sep_dir.is_dir():
            raise DataError(f"{sep_dir}: separated dir not found")
        est_files = []
        k = 1
        while (self.sep_dir / f"spk{k}.scp").is_file():
            est_files.append(self.sep_dir / f"spk{k}.scp")
            k += 1
        n_ref = self.ref.num_sources
        first = self.ref.utts[0]
        if len(est_files) != n_ref:
            raise DataError(
                f"{self.sep_dir}: {len(est_files)} estimate files (spk1.scp..spk{len(est_files)}"
                f".scp) but {self.ref.path} has {n_ref} references (spk1.scp..spk{n_ref}.scp): "
                f"a different number of estimates than references for every utterance, "
                f"e.g. {first!r}"
            )
        self.est_files = est_files
        self.est = [read_scp_dict(f) for f in est_files]
        for f, table in zip(est_files, self.est):
            missing = [u for u in self.ref.utts if u not in table]
            if missing:
                more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
                raise DataError(
                    f"{f}: no estimate for utterance {missing[0]!r}{more} "
                    f"(listed in {self.ref.path / 'wav.scp'})"
                )
            extra = [u for u in table if u not in self.ref.wav]
            if extra:
                log.warning("%s: %d utterances not in %s are ignored (e.g. %r)", f, len(extra),
                            self.ref.path / "wav.scp", extra[0])
        self.source_names = self.ref.source_names
        est_names = self.sep_dir / "sources"
        if est_names.is_file() and (self.ref.path / "sources").is_file():
            given = est_names.read_text(encoding="utf-8").split()
            if given != self.source_names:
                raise DataError(
                    f"{est_names}: estimates are named {' '.join(given)} but the references in "
                    f"{self.ref.path / 'sources'} are {' '.join(self.source_names)} "
                    "(spkN.scp of both must hold the same source)"
                )

    def ref_checksum(self) -> str:
        h = hashlib.sha1()
        for name in ["wav.scp"] + [f"spk{k + 1}.scp" for k in range(self.ref.num_sources)]:
            h.update(name.encode() + b"\0" + (self.ref.path / name).read_bytes() + b"\0")
        return h.hexdigest()

    def est_checksum(self) -> str:
        h = hashlib.sha1()
        for f in self.est_files:
            h.update(f.read_bytes() + b"\0")
        return h.hexdigest()

    def load(self, utt: str, allow_mismatch: bool):
        """Read one utterance → (est [S,T(,C)], ref [S,T(,C)], mix [T(,C)], sr, trimmed)."""
        ref_specs = [src[utt] for src in self.ref.sources]
        est_specs = [e[utt] for e in self.est]
        mix_spec = self.ref.wav[utt]

        def read(spec: str, what: str):
            try:
                return read_audio(spec)
            except DataError as e:
                raise DataError(f"utterance {utt!r}: {what}: {e}") from None

        refs = [read(s, "reference") for s in ref_specs]
        ests = [read(s, "estimate") for s in est_specs]
        mix = read(mix_spec, "mixture")
        sr = refs[0].sample_rate
        for a, spec, what in ([(mix, mix_spec, "mixture")]
                              + [(r, s, "reference") for r, s in zip(refs, ref_specs)]
                              + [(e, s, "estimate") for e, s in zip(ests, est_specs)]):
            if a.sample_rate != sr:
                raise DataError(
                    f"utterance {utt!r}: sample-rate mismatch: {what} {spec} is at "
                    f"{a.sample_rate} Hz but reference {ref_specs[0]} is at {sr} Hz"
                )
            if not np.all(np.isfinite(a.data)):
                bad = int(np.sum(~np.isfinite(a.data)))
                raise DataError(
                    f"utterance {utt!r}: {what} {spec} contains NaN or inf ({bad} values)"
                )
        chans = {a.num_channels for a in refs + ests + [mix]}
        if len(chans) > 1:
            raise DataError(
                f"utterance {utt!r}: channel counts differ: reference {ref_specs[0]} has "
                f"{refs[0].num_channels}, estimates {[e.num_channels for e in ests]}, mixture "
                f"{mix.num_channels}"
            )
        lengths = [a.num_frames for a in refs + ests + [mix]]
        n = min(lengths)
        trimmed = 0
        if max(lengths) != n:
            if not allow_mismatch:
                specs = ref_specs + est_specs + [mix_spec]
                long_i = int(np.argmax(lengths))
                short_i = int(np.argmin(lengths))
                raise DataError(
                    f"utterance {utt!r}: lengths differ: {specs[long_i]} has {lengths[long_i]} "
                    f"samples but {specs[short_i]} has {lengths[short_i]} (pass "
                    "--allow-length-mismatch true to trim to the shorter one)"
                )
            trimmed = max(lengths) - n
        est = np.stack([e.data[:n] for e in ests])
        ref = np.stack([r.data[:n] for r in refs])
        return est, ref, mix.data[:n], sr, trimmed


# --------------------------------------------------------------------------------------------
# the data dir's cache of mixture scores


class InputCache:
    """``<ref-dir>/scores/input_scores.tsv``: ``utt source metric value`` rows.

    The first line records a checksum of wav.scp and spkN.scp; a different checksum means
    the data changed and the cache is ignored (and rewritten at the next merge).
    """

    def __init__(self, ref_dir: Path, checksum: str, source_names: list[str]):
        self.path = Path(ref_dir) / "scores" / CACHE_NAME
        self.checksum = checksum
        self.names = source_names

    def load(self) -> dict[tuple[str, str], list[float]]:
        if not self.path.is_file():
            return {}
        table: dict[tuple[str, str], list[float]] = {}
        with open(self.path, encoding="utf-8") as f:
            head = f.readline().split()
            if f"checksum={self.checksum}" not in head or f"version={CACHE_VERSION}" not in head:
                log.info("%s: made for other data (wav.scp/spkN.scp changed); not used", self.path)
                return {}
            f.readline()  # column names
            idx = {n: i for i, n in enumerate(self.names)}
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 4 or parts[1] not in idx:
                    continue
                utt, src, metric, value = parts
                vals = table.setdefault((utt, metric), [math.nan] * len(self.names))
                vals[idx[src]] = float(value)
        return table

    def update(self, new: dict[tuple[str, str], list[float]]) -> None:
        if not new:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(self.path.parent / ".input_scores.lock"):
                table = self.load()
                table.update(new)
                rows = [f"# sepcore input scores version={CACHE_VERSION} "
                        f"checksum={self.checksum}\n", "utt\tsource\tmetric\tvalue\n"]
                for (utt, metric) in sorted(table, key=lambda k: (k[0].encode(), k[1])):
                    for name, v in zip(self.names, table[(utt, metric)]):
                        rows.append(f"{utt}\t{name}\t{metric}\t{v!r}\n")
                atomic_write_text(self.path, "".join(rows))
        except OSError as e:
            log.warning("cannot update the mixture-score cache %s (%s); not cached", self.path, e)


@contextlib.contextmanager
def _locked(path: Path):
    import fcntl

    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------
# job mode


def config_key(args, inputs: Inputs, metrics: list[str]) -> str:
    spec = {
        "metrics": metrics, "compute_permutation": args.compute_permutation,
        "allow_length_mismatch": args.allow_length_mismatch,
        "ref": inputs.ref_checksum(), "est": inputs.est_checksum(),
    }
    return hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def read_parts(parts_dir: Path, key: str) -> dict[str, dict]:
    """All complete records of all job files made with ``key`` (first one per utterance)."""
    done: dict[str, dict] = {}
    if not parts_dir.is_dir():
        return done
    for f in sorted(parts_dir.glob("job.*.jsonl")):
        for rec in _read_records(f, key):
            done.setdefault(rec["utt"], rec)
    return done


def _read_records(path: Path, key: str) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if not text.endswith("\n"):
        lines = lines[:-1]  # an unfinished last line (a killed job) is dropped
    out = []
    for i, line in enumerate(lines):
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if i == 0:
            if rec.get("config") != key:
                return []
            continue
        if "utt" in rec:
            out.append(rec)
    return out


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
    kept = _read_records(own, key) if own.is_file() else []
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


# --------------------------------------------------------------------------------------------
# merge mode


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
    cols = []
    for m in metrics:
        cols += [m, f"input_{m}", f"{m}_i"]
    columns: dict[str, list[float]] = {c: [] for c in cols}
    per_source: dict[str, dict[str, list[float]]] = {n: {c: [] for c in cols} for n in names}
    rows = ["\t".join(["utt", "source", "estimate"] + cols) + "\n"]
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
                new_cache[(utt, m)] = [_num(v) for v in r["inputs"][m]]
        for j in range(S):
            vals = []
            for m in metrics:
                v = _num(r["values"][m][j])
                i = _num(r["inputs"][m][j]) if r["inputs"].get(m) is not None else math.nan
                for c, x in ((m, v), (f"input_{m}", i), (f"{m}_i", v - i)):
                    vals.append(x)
                    columns[c].append(x)
                    per_source[names[j]][c].append(x)
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
    scores_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(scores_dir / "per_utt.tsv", "".join(rows))
    atomic_write_text(scores_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(scores_dir / "RESULTS.md", results_md(summary))
    atomic_write_text(scores_dir / ".done", key + "\n")
    shutil.rmtree(parts_dir, ignore_errors=True)
    log.info("wrote %s (%d utterances)", scores_dir / "RESULTS.md", len(inputs.ref.utts))
    print(results_md(summary), end="")


def _num(v) -> float:
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
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging()
    from sepcore.metrics import parse_metrics

    try:
        metrics = parse_metrics(args.metrics)
    except ValueError as e:
        raise ConfigError(f"--metrics {args.metrics!r}: {e}") from None
    if args.num_jobs < 1:
        raise ConfigError(f"--num-jobs must be >= 1, got {args.num_jobs}")
    inputs = Inputs(args.ref_dir, args.sep_dir)
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


if __name__ == "__main__":
    run_main(main, prog="score.py")
