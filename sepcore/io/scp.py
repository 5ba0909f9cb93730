"""Kaldi-style text files: two-column tables (``wav.scp``, ``spk1.scp``, ``utt2num_samples``
...) and plain lists (``sources``, ``examples/utts``).

Every text file sepcore reads goes through :func:`read_lines`, so a bad byte or a
malformed line is reported as ``file:line: what is wrong``, never as a UnicodeDecodeError.
A table line is ``<utt> <value>``; the value is everything after the first run of white
space (so a pipe command may contain spaces).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Callable

from sepcore.errors import DataError
from sepcore.io.atomic import atomic_write_text


def decode_line(raw: bytes, where: str) -> str:
    """``raw`` as UTF-8; a byte that is not names its column (``where`` is ``file:line``)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(
            f"{where}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
            "sepcore reads its text files as UTF-8 (convert it, e.g. with iconv)") from None


def read_lines(path: str | os.PathLike) -> list[tuple[int, str]]:
    """``[(line number, line), ...]`` of a UTF-8 text file, without line ends (``\\n``
    or ``\\r\\n``). Raises DataError naming the file for a missing file and ``file:line``
    for bytes that are not UTF-8."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [(n, decode_line(ln, f"{path}:{n}").removesuffix("\r"))
            for n, ln in enumerate(lines, 1)]


def read_scp(path: str | os.PathLike, allow_duplicates: bool = False,
             num_fields: int | None = None) -> list[tuple[str, str]]:
    """Return ``[(utt, value), ...]`` in file order.

    ``num_fields``: the exact number of white-space separated fields of every line
    (``utt2num_samples``: 2; default: any number >= 2).
    Raises DataError (with ``file:line``) on a missing file, bytes that are not UTF-8, a
    line without a value, a wrong number of fields, or a repeated utterance id.
    """
    items: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for lineno, line in read_lines(path):
        where = f"{path}:{lineno}"
        if not line.strip():
            raise DataError(f"{where}: empty line (expected '<utt> <value>')")
        if line[0].isspace():
            raise DataError(f"{where}: line starts with white space (an empty utterance id), "
                            f"got {line!r}")
        parts = line.split(maxsplit=1)
        if len(parts) != 2:
            raise DataError(f"{where}: expected '<utt> <value>', got {line!r}")
        utt, value = parts[0], parts[1].strip()
        if num_fields is not None and len(line.split()) != num_fields:
            raise DataError(f"{where}: expected {num_fields} fields, got {len(line.split())} "
                            f"in {line!r}")
        if utt in seen and not allow_duplicates:
            raise DataError(f"{where}: utterance id {utt!r} repeated (first on line {seen[utt]})")
        seen.setdefault(utt, lineno)
        items.append((utt, value))
    return items


def read_scp_dict(path: str | os.PathLike) -> dict[str, str]:
    return dict(read_scp(path))


def read_number_scp(path: str | os.PathLike, kind: Callable = int,
                    what: str = "an integer") -> dict[str, int | float]:
    """Read a ``<utt> <number>`` file (``utt2num_samples``: int, ``utt2snr``: float); a value
    that ``kind`` does not parse is a DataError naming ``file:line`` and ``what``."""
    out = {}
    for lineno, (utt, value) in enumerate(read_scp(path, num_fields=2), 1):
        try:
            out[utt] = kind(value)
        except ValueError:
            raise DataError(f"{path}:{lineno}: expected {what}, got {value!r}") from None
    return out


def read_int_scp(path: str | os.PathLike) -> dict[str, int]:
    """Read a ``<utt> <integer>`` file such as ``utt2num_samples``."""
    return read_number_scp(path)


def write_scp(path: str | os.PathLike, items: Iterable[tuple[str, object]]) -> None:
    """Write ``<utt> <value>`` lines sorted as ``LC_ALL=C sort`` would, atomically."""
    rows = sorted(((str(u), str(v)) for u, v in items), key=lambda kv: kv[0].encode("utf-8"))
    atomic_write_text(path, "".join(f"{u} {v}\n" for u, v in rows))
