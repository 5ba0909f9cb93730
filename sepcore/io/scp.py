"""Kaldi-style two-column files (``wav.scp``, ``spk1.scp``, ``utt2num_samples`` ...).

Each line is ``<utt> <value>``; the value is everything after the first run of
white space (so a pipe command may contain spaces). Errors name the file and line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sepcore.errors import DataError
from sepcore.io.atomic import atomic_write_text


def read_scp(path: str | os.PathLike, allow_duplicates: bool = False) -> list[tuple[str, str]]:
    """Return ``[(utt, value), ...]`` in file order.

    Raises DataError (with ``file:line``) on a missing file, a line without a value,
    or a repeated utterance id.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    items: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                raise DataError(f"{path}:{lineno}: empty line (expected '<utt> <value>')")
            parts = line.split(maxsplit=1)
            if len(parts) != 2:
                raise DataError(f"{path}:{lineno}: expected '<utt> <value>', got {line!r}")
            utt, value = parts[0], parts[1].strip()
            if utt in seen and not allow_duplicates:
                raise DataError(
                    f"{path}:{lineno}: utterance id {utt!r} repeated (first on line {seen[utt]})"
                )
            seen.setdefault(utt, lineno)
            items.append((utt, value))
    return items


def read_scp_dict(path: str | os.PathLike) -> dict[str, str]:
    return dict(read_scp(path))


def read_int_scp(path: str | os.PathLike) -> dict[str, int]:
    """Read a ``<utt> <integer>`` file such as ``utt2num_samples``."""
    out = {}
    for lineno, (utt, value) in enumerate(read_scp(path), 1):
        try:
            out[utt] = int(value)
        except ValueError:
            raise DataError(f"{path}:{lineno}: expected an integer, got {value!r}") from None
    return out


def write_scp(path: str | os.PathLike, items: Iterable[tuple[str, object]]) -> None:
    """Write ``<utt> <value>`` lines sorted as ``LC_ALL=C sort`` would, atomically."""
    rows = sorted(((str(u), str(v)) for u, v in items), key=lambda kv: kv[0].encode("utf-8"))
    atomic_write_text(path, "".join(f"{u} {v}\n" for u, v in rows))
