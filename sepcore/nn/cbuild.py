"""Building the C kernels in sepcore/nn/csrc at first use, for this machine.

Each library is compiled with the machine's C compiler (``$CC``, ``cc`` or ``gcc``) for
its own instruction set into ``$SEPCORE_CACHE`` (default ``~/.cache/sepcore``), under a
name that hashes the sources, the compiler, the flags and the CPU's flags, so a change to
any of them builds a new one. Where nothing can be built (no compiler, a read-only cache,
a compile error) it is logged once and the caller runs torch's kernels instead.
"""
from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from sepcore.precision import cpu_flags

CSRC = Path(__file__).resolve().parent / "csrc"
FLAGS = ["-O3", "-ffast-math", "-march=native", "-shared", "-fPIC"]


def cache_dir() -> Path:
    return Path(os.environ.get("SEPCORE_CACHE") or Path.home() / ".cache" / "sepcore")


def build(stem: str, flags: list[str], log: logging.Logger, fallback: str) -> Path | None:
    """``csrc/<stem>.c`` compiled (with ``csrc/<stem>*.h`` in its hash), or None, logged
    as a warning that ends with ``fallback`` (what runs instead)."""
    source = CSRC / f"{stem}.c"
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        log.warning("no C compiler (cc, gcc or $CC): %s", fallback)
        return None
    try:
        version = subprocess.run([cc, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("%s --version failed (%s): %s", cc, e, fallback)
        return None
    flags = FLAGS + flags
    sources = [f.read_text() for f in sorted(CSRC.glob(f"{stem}*.[ch]"))]
    key = hashlib.sha256("\0".join([*sources, version, " ".join(flags), platform.machine(),
                                    " ".join(sorted(cpu_flags()))]).encode()).hexdigest()[:16]
    cache = cache_dir()
    target = cache / f"{stem}-{key}.so"
    if target.exists():
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
        # compiled beside the target and renamed onto it: concurrent first uses each
        # build their own file and the last rename wins, never a half-written library
        fd, tmp = tempfile.mkstemp(prefix=target.name + ".", dir=cache)
        os.close(fd)
    except OSError as e:
        log.warning("cannot write in %s (%s): %s", cache, e, fallback)
        return None
    try:
        done = subprocess.run([cc, *flags, "-o", tmp, str(source), "-lm"],
                              capture_output=True, text=True, timeout=300)
        if done.returncode == 0:
            os.replace(tmp, target)
            return target
        log.warning("compiling %s failed: %s\n%s", source, fallback, done.stderr.strip())
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("could not build %s (%s): %s", source, e, fallback)
    Path(tmp).unlink(missing_ok=True)
    return None
