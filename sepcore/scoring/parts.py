"""The job parts: ``scores/parts/job.J.jsonl``, one JSON line per scored utterance.

The first line of a part holds the key of what is scored (metrics, options, checksums of
the references and estimates); a part made with another key is ignored, and an unfinished
last line (a killed job) is dropped, so a rerun redoes only what is missing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sepcore.scoring.inputs import Inputs


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
        for rec in read_records(f, key):
            done.setdefault(rec["utt"], rec)
    return done


def read_records(path: Path, key: str) -> list[dict]:
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
