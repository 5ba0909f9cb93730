"""Ideal ratio mask oracle estimates of a data dir, in separated-dir form (steps/oracle.sh).

    python -m sepcore.bin.oracle --data-dir D --out-dir O [--job J --num-jobs N]
                                 [--power 1|2] [--n-fft N --hop H] [--force true]

Writes ``O/wav/<utt>_<source>.wav``, ``O/.parts/spk<n>.<J>.scp`` (steps/oracle.sh
merges them into ``O/spk<n>.scp``), ``O/sources`` and ``O/oracle.json``, so
steps/score.sh scores the oracle like any experiment. ``--power 1`` is IRM1 (magnitude
ratio, the default), ``2`` IRM2 (power ratio); STFT default: 4096/1024 at 44.1 kHz
(~93 ms frames, hop 1/4). See sepcore/spectral/oracle.py.
"""

from __future__ import annotations

import argparse

from sepcore.bin.common import (
    add_bool,
    int_type,
    make_parser,
    number_type,
    prog_name,
    run_main,
    setup_logging,
)


def build_parser() -> argparse.ArgumentParser:
    p = make_parser("oracle", __doc__)
    p.add_argument("--data-dir", required=True, help="data dir with wav.scp and spkN.scp")
    p.add_argument("--out-dir", required=True, help="separated dir to write")
    p.add_argument("--job", type=int_type(1), default=1, help="this job's id (1-based)")
    p.add_argument("--num-jobs", type=int_type(1), default=1, help="number of jobs")
    p.add_argument("--power", type=number_type(above=0), default=1.0,
                   help="mask exponent: 1 = IRM1 (magnitude, default), 2 = IRM2 (power)")
    p.add_argument("--n-fft", type=int_type(2), default=None, help="FFT size (default: ~93 ms)")
    p.add_argument("--hop", type=int_type(1), default=None, help="hop (default: n_fft / 4)")
    add_bool(p, "--force", False, "recompute existing estimates")
    return p


def _main() -> int:
    import torch

    from sepcore.spectral.oracle import oracle_data_dir

    args = build_parser().parse_args()
    setup_logging()
    torch.set_num_threads(1)
    failed = oracle_data_dir(args.data_dir, args.out_dir, job=args.job, num_jobs=args.num_jobs,
                             power=args.power, n_fft=args.n_fft, hop=args.hop, force=args.force)
    return 1 if failed else 0


def main() -> None:
    run_main(_main, prog=prog_name("oracle"))


if __name__ == "__main__":
    main()
