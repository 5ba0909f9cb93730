"""Shared plumbing of the entry points: clean errors and logging."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Callable

from sepcore.errors import SepcoreError

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def run_main(main: Callable[[], int | None], prog: str | None = None) -> None:
    """Run ``main``; a SepcoreError becomes ``prog: error: message`` and exit code 1."""
    prog = prog or os.path.basename(sys.argv[0])
    try:
        code = main()
    except SepcoreError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


def setup_logging(log_file: str | os.PathLike | None = None, level: int = logging.INFO) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, mode="a", encoding="utf-8"))
    logging.basicConfig(level=level, format=LOG_FORMAT, handlers=handlers, force=True)


def str2bool(v: str) -> bool:
    """argparse type for ``true|false`` options (also 1/0, yes/no)."""
    if v.lower() in ("true", "1", "yes"):
        return True
    if v.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {v!r}")
