"""Atomic file writes: write to a temporary name in the same folder, then publish it.

A reader (or a rerun after a crash) sees either the old complete file or the new
complete file, never a half-written one. ``exclusive=True`` publishes with a hard link,
which fails if the final name exists: of two writers racing for one name, one wins and
the other gets a DataError naming the file (a check-then-replace would let both "win").
A full disk is a :class:`~sepcore.errors.DiskFullError` naming the final file, never the
temporary one, which is removed.

A writer killed outright (``kill -9``, the OOM killer, a node lost) cannot remove its
temporary, so each temporary's name says who wrote it (``.<name>.tmp-<host>-<pid>-XXXXXXXX``)
and :func:`remove_stale_temporaries` removes, when a run starts over a folder, those of
this host whose process is gone (never another host's: their processes are not visible).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import socket
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from sepcore.errors import DataError, DiskFullError

_UMASK = os.umask(0)
os.umask(_UMASK)
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_HOST = re.sub(r"\W", "_", socket.gethostname()) or "host"
# mkstemp's random part is 8 of [a-z0-9_]
_TEMP = re.compile(r"^\..+\.tmp-(?P<host>\w+)-(?P<pid>\d+)-\w{8}")

log = logging.getLogger(__name__)


def _temp_beside(path: Path, suffix: str | None) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.tmp-{_HOST}-{os.getpid()}-",
        suffix=path.suffix if suffix is None else suffix, dir=path.parent,
    )
    os.close(fd)
    return tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Remove the temporaries in ``folder`` (not below it) left by killed writers of this
    host; returns how many. A missing folder has none."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        m = _TEMP.match(entry.name)
        if not m or m["host"] != _HOST or _alive(int(m["pid"])) or not entry.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            removed += 1
    if removed:
        log.info("%s: removed %d temporary file(s) left by killed runs", folder, removed)
    return removed


def disk_full(folder: str | os.PathLike, needed: int = 0) -> bool:
    """True if the file system of ``folder`` has less than ``needed`` + 64 KiB free: how a
    writer that reports only "System error" (libsndfile) is told apart from others."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < needed + 65536


def _publish(tmp: str, path: Path, exclusive: bool) -> None:
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the usual permissions
    if not exclusive:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise DataError(f"{path}: exists (written by another run meanwhile?); not "
                        "overwritten") from None
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike], suffix: str | None = None,
                 exclusive: bool = False) -> Iterator[list[str]]:
    """Yield a temporary path beside each of ``paths``; publish them all on success.

    The set is published only when every file of it was written, so a failure (or a
    full disk) halfway leaves none of its new files. With ``exclusive``, one final name
    that exists already un-publishes those of the set this call had published.
    ``suffix`` defaults to each target's suffix, so libraries that infer the format from
    the extension (soundfile) keep working.
    """
    targets = [Path(p) for p in paths]
    tmps: list[str] = []
    published: list[Path] = []
    try:
        for p in targets:
            tmps.append(_temp_beside(p, suffix))
        yield list(tmps)
        for tmp, p in zip(tmps, targets):
            _publish(tmp, p, exclusive)
            published.append(p)
    except BaseException as e:
        for tmp in tmps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if exclusive:
            for p in published:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(p)
        if isinstance(e, OSError) and e.errno in _DISK_FULL:
            where = next((p for p, t in zip(targets, tmps) if t == e.filename), None)
            names = str(where) if where else ", ".join(map(str, targets))
            raise DiskFullError(f"disk full writing {names} ({e.strerror})") from None
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None,
                exclusive: bool = False) -> Iterator[str]:
    """Yield a temporary path beside ``path``; publish it onto ``path`` on success
    (replacing it, or with ``exclusive`` refusing an existing one)."""
    with atomic_paths([path], suffix, exclusive) as (tmp,):
        yield tmp


def atomic_write_text(path: str | os.PathLike, text: str, exclusive: bool = False) -> None:
    with atomic_path(path, exclusive=exclusive) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


def atomic_torch_save(obj, path: str | os.PathLike) -> None:
    import torch

    with atomic_path(path) as tmp:
        try:
            torch.save(obj, tmp)
        except RuntimeError as e:  # torch's writer says "file write failed", not ENOSPC
            if disk_full(Path(tmp).parent):
                raise DiskFullError(f"disk full writing {path}") from None
            raise DataError(f"{path}: cannot write ({e})") from None
