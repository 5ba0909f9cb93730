"""The exp-dir lock: one trainer per exp dir.

``<exp>/.train.lock`` holds ``host pid start time`` of the trainer that owns the exp dir,
and that trainer holds an exclusive POSIX lock (``lockf``) on it for as long as it runs:
the kernel drops the lock when the process ends in any way (kill -9 included), so a
second trainer knows at once whether the owner still runs. (A POSIX lock rather than
``flock``: it is not inherited by forked DataLoader workers, which would keep a killed
trainer's lock for a while, and NFS carries it between hosts.) The file is removed on a
normal exit. A lock file left behind by a trainer that died (its lock gone) is taken
over with a warning when its pid is not running on this host (or runs a newer process:
the pid was reused); one of another host, which cannot be checked from here, or of a
live process whose lock does not show (a file system without locks), is refused with
the line to remove it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import socket
import time
from pathlib import Path

from sepcore.errors import ConfigError

log = logging.getLogger("sepcore.train")

LOCK_NAME = ".train.lock"
_HELD: set[str] = set()  # the lock files this process holds


def _boot_ticks(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks after boot (Linux), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe(holder: dict) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("time", 0)))
    return f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')} (since {when})"


def _parse(text: str) -> dict:
    out: dict = {}
    for item in text.split():
        key, _, value = item.partition("=")
        out[key] = value if key == "host" else (int(value) if value.lstrip("-").isdigit()
                                                  else value)
    return out


class ExpLock:
    """Hold ``<exp>/.train.lock`` (a context manager); ConfigError naming the holder."""

    def __init__(self, exp: str | os.PathLike):
        self.path = Path(exp) / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> ExpLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = os.path.realpath(self.path)
        if key in _HELD:  # POSIX locks do not conflict within a process (nor may it close
            # the file: that would drop the lock it holds)
            raise ConfigError(f"{self.path.parent}: this process already trains in it")
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EACCES, errno.EAGAIN):
                    # a file system without locks: the owner's pid in the file still tells
                    log.warning("%s: cannot lock (%s); checking the owner it names",
                                self.path, e.strerror)
                    break
                holder = _parse(os.read(fd, 4096).decode("utf-8", "replace"))
                os.close(fd)
                raise ConfigError(
                    f"{self.path.parent}: another trainer owns this exp dir: "
                    f"{_describe(holder)}, lock file {self.path}; stop it, or use another "
                    "--exp-dir") from None
            # the previous owner may have removed the file after we opened it: lock the
            # file that is at the path now
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        old = _parse(os.read(fd, 4096).decode("utf-8", "replace"))
        if old.get("pid"):
            self._check_stale(fd, old)
        me = {"host": socket.gethostname(), "pid": os.getpid(), "start": _boot_ticks(os.getpid()),
              "time": int(time.time())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, " ".join(f"{k}={v}" for k, v in me.items()).encode() + b"\n", 0)
        self.fd = fd
        self.key = key
        _HELD.add(key)
        return self

    def _check_stale(self, fd: int, old: dict) -> None:
        """A lock file whose owner did not remove it (died); refuse unless it is dead."""
        pid, host = old["pid"], old.get("host")
        if host == socket.gethostname():
            reused = old.get("start") not in (None, "None") and \
                _boot_ticks(pid) not in (None, old.get("start"))
            if not _alive(pid) or reused or pid == os.getpid():
                log.warning("%s: taking over the stale lock of %s (not running any more)",
                            self.path, _describe(old))
                return
            why = "it still runs, though its lock does not show (a file system without locks?)"
        else:
            why = "it cannot be checked from this host"
        os.close(fd)
        raise ConfigError(f"{self.path.parent}: owned by the trainer {_describe(old)}: {why}; "
                          f"if it is not running, remove {self.path}")

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # before the unlock: a waiting opener re-checks the path
        os.close(self.fd)
        self.fd = None
        _HELD.discard(self.key)

    def __enter__(self) -> ExpLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
