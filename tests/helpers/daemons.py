"""Daemons that a test fixture starts in one temporary folder, and stops for sure.

``DaemonFolder`` starts daemons (in the foreground, each in its own session, logs in
``<folder>/log``) and stops them with ``<folder>/stop.sh``: every process whose
environment or command line names the folder (the daemons are started with an
environment that does, and so are the jobs they run), SIGTERM first, SIGKILL after
five seconds. A watchdog process runs the same script when the test process dies
without tearing down (SIGKILL, a crash), so no daemon outlives the test run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

STOP_SCRIPT = r"""#!/usr/bin/env bash
dir=$1
ours() {
  for p in /proc/[0-9]*; do
    case ${p#/proc/} in $$|$BASHPID) continue ;; esac
    if grep -qsaF "$dir" "$p/environ" "$p/cmdline"; then echo "${p#/proc/}"; fi
  done
}
for _ in $(seq 50); do
  pids=$(ours)
  [ -z "$pids" ] && exit 0
  kill -TERM $pids 2>/dev/null
  sleep 0.1
done
kill -KILL $(ours) 2>/dev/null
exit 0
"""




def free_port_range(count: int) -> int:
    """The first of ``count`` consecutive loopback ports that are free right now."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65535:
            continue
        socks = []
        try:
            for port in range(base, base + count):
                t = socket.socket()
                socks.append(t)
                t.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for t in socks:
                t.close()
    raise RuntimeError("no free range of loopback ports")



class DaemonFolder:
    """A folder of daemons; subclasses set ``env`` (which must name the folder)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.env: dict[str, str] = {}
        self.procs: list[subprocess.Popen] = []
        self.watchdog: subprocess.Popen | None = None
        self.start_seconds = 0.0

    def prepare(self) -> None:
        """The log folder, the stop script and the watchdog; call before any daemon."""
        os.chmod(self.folder, 0o755)  # daemons that drop root must be able to enter it
        (self.folder / "log").mkdir()
        stop = self.folder / "stop.sh"
        stop.write_text(STOP_SCRIPT)
        stop.chmod(0o755)
        self.watchdog = subprocess.Popen(
            ["bash", "-c", f'while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; '
                           f'exec "$0" "$1"', str(stop), str(self.folder)],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run(self, *args: str, check: bool = True, timeout: float = 60, **kwargs):
        return subprocess.run(list(args), capture_output=True, text=True, check=check,
                              env={**os.environ, **self.env}, timeout=timeout, **kwargs)

    def daemon(self, *args: str, env: dict | None = None) -> None:
        log = open(self.folder / "log" / f"{Path(args[0]).name}.out", "w")  # noqa: SIM115
        self.procs.append(subprocess.Popen(list(args), stdout=log, stderr=subprocess.STDOUT,
                                           env={**os.environ, **self.env, **(env or {})},
                                           cwd=self.folder, start_new_session=True))

    def wait(self, ready, what: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ready():
                return
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.2)
        raise RuntimeError(f"the test daemons in {self.folder} did not come up "
                           f"(waiting for {what}):\n{self.logs()}")

    def logs(self) -> str:
        parts = []
        for p in sorted((self.folder / "log").glob("*")):
            lines = p.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {p.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def stop(self) -> None:
        subprocess.run([self.folder / "stop.sh", str(self.folder)], timeout=60)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.watchdog:
            self.watchdog.kill()
            self.watchdog.wait()


def running(cls, prefix: str, unavailable: str | None, what: str):
    """The body of a session fixture: skip with the reason ``unavailable``, or start a
    ``cls`` in a fresh /tmp folder, yield it and stop it."""
    if unavailable:
        pytest.skip(unavailable)
    cluster = cls(Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp")))
    try:
        cluster.start()
        print(f"\ntest {what} up in {cluster.start_seconds:.1f} s ({cluster.folder})",
              file=sys.stderr)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.folder, ignore_errors=True)
