"""Scoring separated estimates against a reference data dir (``steps/score.sh``).

``inputs`` (the two dirs, cross-checked), ``parts`` (the jobs' JSONL records),
``cache`` (the data dir's mixture scores), ``results`` (statistics, RESULTS.md) and
``jobs`` (a job, the merge). The metrics themselves are sepcore/metrics.
"""

from sepcore.scoring.jobs import score

__all__ = ["score"]
