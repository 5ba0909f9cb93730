"""Enhance a data dir with a baseline, in separated-dir form (steps/enhance_baseline.sh).

    python -m sepcore.bin.enhance_baseline --method rnnoise|spectral_gating \
        --data-dir D --out-dir O [--job J --num-jobs N] [--force]

Writes ``O/wav/<utt>_<source>.wav``, ``O/.parts/spk<n>.<J>.scp`` (merged into
``O/spk<n>.scp`` by steps/enhance_baseline.sh), ``O/sources`` and ``O/baseline.json``.
See sepcore/baselines/.
"""

from __future__ import annotations

import argparse

from sepcore.bin.common import int_type


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sepcore.bin.enhance_baseline",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--method", required=True, help="rnnoise or spectral_gating")
    p.add_argument("--data-dir", required=True, help="data dir with wav.scp and spk1.scp")
    p.add_argument("--out-dir", required=True, help="separated dir to write")
    p.add_argument("--job", type=int_type(1), default=1, help="this job's id (1-based)")
    p.add_argument("--num-jobs", type=int_type(1), default=1, help="number of jobs")
    p.add_argument("--force", action="store_true", help="recompute existing estimates")
    return p


def _main() -> int:
    from sepcore.baselines import enhance_data_dir
    from sepcore.bin.common import setup_logging

    args = build_parser().parse_args()
    setup_logging()
    failed = enhance_data_dir(args.data_dir, args.out_dir, args.method, job=args.job,
                              num_jobs=args.num_jobs, force=args.force)
    return 1 if failed else 0


def main() -> None:
    from sepcore.bin.common import run_main

    run_main(_main, prog="python -m sepcore.bin.enhance_baseline")


if __name__ == "__main__":
    main()
