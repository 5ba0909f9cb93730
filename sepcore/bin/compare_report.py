"""Compare experiments on one page (``steps/compare_report.sh`` runs this).

    python -m sepcore.bin.compare_report exp/a exp/b [...] [--out-dir D] [--num-utts N]

→ ``D/index.html`` (default ``exp/compare_<a>-<b>``): for every set scored by all of them,
their results side by side and the utterances where they differ most (see sepcore/report).
"""

from __future__ import annotations

import argparse

from sepcore.bin.common import run_main, setup_logging
from sepcore.bin.report import add_report_options, report_options


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sepcore.bin.compare_report",
                                description="One offline page comparing experiments (A/B).")
    p.add_argument("exp_dirs", nargs="+", help="two or more experiment dirs")
    p.add_argument("--out-dir", default=None,
                   help="report folder (default: <exp root>/compare_<tag1>-<tag2>...)")
    add_report_options(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging()
    from sepcore.report import build_compare_report

    print(build_compare_report(args.exp_dirs, args.out_dir, report_options(args)))
    return 0


if __name__ == "__main__":
    run_main(main, prog="python -m sepcore.bin.compare_report")
