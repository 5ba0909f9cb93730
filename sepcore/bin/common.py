"""What every entry point shares: one parser builder, Kaldi-style booleans, clean errors
and logging.

Conventions (every ``sepcore/bin/*.py``): ``prog`` and the error prefix are
``python -m sepcore.bin.<name>``; booleans are ``--x true|false`` (a bare ``--x``
means true); the logger is ``sepcore.<name>``; ``main(argv)`` parses the arguments
and makes one call into the library, run through :func:`run_main`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from sepcore.errors import SepcoreError
from sepcore.log import setup_logging

__all__ = ["add_bool", "make_parser", "prog_name", "report_errors", "run_main", "setup_logging",
           "str2bool"]

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
