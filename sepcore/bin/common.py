"""What every entry point shares: one parser builder, Kaldi-style booleans, clean errors
and logging.

Conventions (every ``sepcore/bin/*.py``): ``prog`` and the error prefix are
``python -m sepcore.bin.<name>``; booleans are ``--x true|false`` (a bare ``--x``
means true); the logger is ``sepcore.<name>``; ``main(argv)`` parses the arguments
and makes one call into the library, run through :func:`run_main`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Callable

from sepcore.errors import SepcoreError
from sepcore.log import setup_logging

__all__ = ["add_bool", "int_type", "make_parser", "number_type", "prog_name", "report_errors",
           "run_main", "setup_logging", "str2bool"]

def prog_name(name: str) -> str:
    return f"python -m sepcore.bin.{name}"


def make_parser(name: str, doc: str | None, prog: str | None = None,
                **kwargs) -> argparse.ArgumentParser:
    """The parser of entry point ``name``: its description is the module docstring's
    first paragraph."""
    description = (doc or "").strip().split("\n\n")[0] or None
    return argparse.ArgumentParser(prog=prog or prog_name(name), description=description,
                                   **kwargs)


def str2bool(value: str) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def int_type(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[lo, hi]`` (either bound optional), so that
    ``--num-jobs 0`` is ``argument --num-jobs: expected an integer >= 1, got '0'``."""
    want = ("an integer" + (f" in [{lo}, {hi}]" if lo is not None and hi is not None else
                            f" >= {lo}" if lo is not None else f" <= {hi}" if hi is not None
                            else ""))

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            n = None
        if n is None or (lo is not None and n < lo) or (hi is not None and n > hi):
            raise argparse.ArgumentTypeError(f"expected {want}, got {value!r}")
        return n

    parse.__name__ = want
    return parse


def number_type(lo: float | None = None, above: float | None = None) -> Callable[[str], float]:
    """An argparse ``type``: a finite number ``>= lo`` or ``> above`` (or any)."""
    want = ("a number" + (f" > {above:g}" if above is not None else
                          f" >= {lo:g}" if lo is not None else ""))

    def parse(value: str) -> float:
        try:
            x = float(value)
        except ValueError:
            x = math.nan
        if (not math.isfinite(x) or (lo is not None and x < lo)
                or (above is not None and x <= above)):
            raise argparse.ArgumentTypeError(f"expected {want}, got {value!r}")
        return x

    parse.__name__ = want
    return parse


def add_bool(parser: argparse.ArgumentParser, flag: str, default: bool, help: str,
             **kwargs) -> None:
    """``--flag true|false`` (bare ``--flag``: true), as Kaldi and the shell steps write it."""
    parser.add_argument(flag, type=str2bool, nargs="?", const=True, default=default,
                        metavar="true|false",
                        help=f"{help} (default {'true' if default else 'false'})", **kwargs)


def report_errors(prog: str, body: Callable[[], int | None]) -> int:
    """``body()``'s exit code (None: 0); a SepcoreError is printed as ``prog: error:
    message`` and gives 1. For mains that return their code, such as the corpus preps'
    (egs/*/*/local/*.py), whose tests call ``main(argv)``."""
    try:
        return body() or 0
    except SepcoreError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1


def run_main(main: Callable[[], int | None], prog: str | None = None) -> None:
    """Run ``main``; a SepcoreError becomes ``prog: error: message`` and exit code 1."""
    prog = prog or os.path.basename(sys.argv[0])
    try:
        sys.exit(report_errors(prog, main))
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
