"""Write the HTML report of an experiment (``steps/report.sh`` runs this).

    python -m sepcore.bin.report exp/<tag> [--out-dir D] [--num-utts N] [--max-seconds S]

→ ``exp/<tag>/report/index.html`` with its images and audio beside it (see sepcore/report).
"""

from __future__ import annotations

import argparse

from sepcore.bin.common import int_type, number_type, run_main, setup_logging


def add_report_options(p: argparse.ArgumentParser) -> None:
    """The options shared with python -m sepcore.bin.compare_report."""
    p.add_argument("--num-utts", type=int_type(1), default=3,
                   help="best, median and worst N utterances of each set; for a comparison "
                        "the 3*N where the experiments differ most (default 3)")
    p.add_argument("--max-seconds", type=number_type(0), default=10.0,
                   help="audio excerpts of at most this many seconds, the loudest part of the "
                        "mixture; 0: whole utterances (default 10)")
    p.add_argument("--audio-format", default="auto", choices=["auto", "wav", "flac", "ogg"],
                   help="auto: flac up to 16 kHz mono, ogg (Vorbis) otherwise (default auto)")
    p.add_argument("--metric", default=None,
                   help="per_utt.tsv column to rank utterances by (default: si_sdr_i, else the "
                        "set's main metric)")


def report_options(args: argparse.Namespace):
    from sepcore.errors import ConfigError
    from sepcore.report import ReportOptions

    if args.num_utts < 1:
        raise ConfigError(f"--num-utts must be >= 1, got {args.num_utts}")
    return ReportOptions(num_utts=args.num_utts, max_seconds=args.max_seconds or None,
                         audio_format=args.audio_format, metric=args.metric)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sepcore.bin.report",
                                description="Write exp/<tag>/report/index.html (offline).")
    p.add_argument("exp_dir", help="experiment dir")
    p.add_argument("--out-dir", default=None, help="report folder (default: <exp_dir>/report)")
    add_report_options(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging()
    from sepcore.report import build_report

    print(build_report(args.exp_dir, args.out_dir, report_options(args)))
    return 0


if __name__ == "__main__":
    run_main(main, prog="python -m sepcore.bin.report")
