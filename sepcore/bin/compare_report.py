"""Compare experiments on one page (``steps/compare_report.sh`` runs this).

    python -m sepcore.bin.compare_report exp/a exp/b [...] [--out-dir D] [--num-utts N]

→ ``D/index.html`` (default ``exp/compare_<a>-<b>``): for every set scored by all of them,
their results side by side and the utterances where they differ most (see sepcore/report).
"""

from __future__ import annotations

import argparse

from sepcore.bin.common import run_main, setup_logging


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sepcore.bin.compare_report",
                                description="One offline page comparing experiments (A/B).")
    p.add_argument("exp_dirs", nargs="+", help="two or more experiment dirs")
    p.add_argument("--out-dir", default=None,
                   help="report folder (default: <exp root>/compare_<tag1>-<tag2>...)")
    p.add_argument("--num-utts", type=int, default=3,
                   help="show the 3*N utterances where the experiments differ most (default 3)")
    p.add_argument("--max-seconds", type=float, default=10.0,
                   help="audio excerpts of at most this many seconds; 0: whole (default 10)")
    p.add_argument("--audio-format", default="auto", choices=["auto", "wav", "flac", "ogg"],
                   help="auto: flac up to 16 kHz mono, ogg (Vorbis) otherwise (default auto)")
    p.add_argument("--metric", default=None,
                   help="per_utt.tsv column to compare by (default: si_sdr_i, else the set's "
                        "main metric)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging()
    from sepcore.errors import ConfigError
    from sepcore.report import ReportOptions, build_compare_report

    if args.num_utts < 1:
        raise ConfigError(f"--num-utts must be >= 1, got {args.num_utts}")
    opts = ReportOptions(num_utts=args.num_utts, max_seconds=args.max_seconds or None,
                         audio_format=args.audio_format, metric=args.metric)
    print(build_compare_report(args.exp_dirs, args.out_dir, opts))
    return 0


if __name__ == "__main__":
    run_main(main, prog="python -m sepcore.bin.compare_report")
