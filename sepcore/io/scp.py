"""Kaldi-style text files: two-column tables (``wav.scp``, ``spk1.scp``, ``utt2num_samples``
...) and plain lists (``sources``, ``examples/utts``).

Every text file sepcore reads goes through :func:`read_lines`, so a bad byte or a
malformed line is reported as ``file:line: what is wrong``, never as a UnicodeDecodeError.
A table line is ``<utt> <value>``; the value is everything after the first run of white
space (so a pipe command may contain spaces).

Paths in scp files (the data-dir contract, README "Data and experiment dirs"): sepcore
writes a file inside the scp's folder as a path relative to that folder
(``wav/utt1_spk1.wav``) and any other file as an absolute path, so a copied data or
separated dir points at its own files (:func:`portable_entry`). Reading, a relative path
is resolved against the scp's folder when it exists there, else against the current
folder when it exists there (data dirs written before, relative to the recipe folder),
else against the scp's folder (so a missing file is named where it was expected);
absolute paths and commands (``... |``) are used as they are (:func:`resolve_entry`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Callable

from sepcore.errors import DataError
from sepcore.io.atomic import atomic_write_text


def _is_command(value: str) -> bool:
    return value.rstrip().endswith("|")


def resolve_entry(value: str, folder: str | os.PathLike) -> str:
    """The path an scp value of a file in ``folder`` names (the rule of the module doc)."""
    if _is_command(value) or os.path.isabs(value):
        return value
    own = os.path.join(folder, value)
    if os.path.exists(own) or not os.path.exists(value):
        return own
    return value


def portable_entry(value: str, folder: str | os.PathLike) -> str:
    """``value`` (a path as the caller names it, or one relative to ``folder``) written
    for an scp in ``folder``: relative to ``folder`` if the file is inside it, else
    absolute; commands unchanged."""
    if _is_command(value):
        return value
    folder = os.path.abspath(folder)
    target = os.path.abspath(value if os.path.isabs(value) or os.path.exists(value)
                             or not os.path.exists(os.path.join(folder, value))
                             else os.path.join(folder, value))
    if target.startswith(folder + os.sep):
        return os.path.relpath(target, folder)
    return target


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
             num_fields: int | None = None, paths: bool = False) -> list[tuple[str, str]]:
    """Return ``[(utt, value), ...]`` in file order.

    ``num_fields``: the exact number of white-space separated fields of every line
    (``utt2num_samples``: 2; default: any number >= 2); ``paths``: values are file paths
    (or commands), resolved with :func:`resolve_entry`.
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
        items.append((utt, resolve_entry(value, Path(path).parent) if paths else value))
    return items


def read_scp_dict(path: str | os.PathLike, paths: bool = False) -> dict[str, str]:
    return dict(read_scp(path, paths=paths))


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


def write_scp(path: str | os.PathLike, items: Iterable[tuple[str, object]],
              paths_in: str | os.PathLike | None = None) -> None:
    """Write ``<utt> <value>`` lines sorted as ``LC_ALL=C sort`` would, atomically.

    ``paths_in``: the values are file paths, written with :func:`portable_entry` for the
    folder ``paths_in`` (the scp's own folder; for per-job parts, the folder of the
    file they are merged into)."""
    rows = ((str(u), str(v)) for u, v in items)
    if paths_in is not None:
        rows = ((u, portable_entry(v, paths_in)) for u, v in rows)
    rows = sorted(rows, key=lambda kv: kv[0].encode("utf-8"))
    atomic_write_text(path, "".join(f"{u} {v}\n" for u, v in rows))
