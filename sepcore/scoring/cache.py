"""The data dir's cache of mixture scores, shared by every experiment scored on it."""

from __future__ import annotations

import contextlib
import logging
import math
from pathlib import Path

from sepcore.io import atomic_write_text

log = logging.getLogger("sepcore.score")

CACHE_NAME = "input_scores.tsv"
CACHE_VERSION = 1


class InputCache:
    """``<ref-dir>/scores/input_scores.tsv``: ``utt source metric value`` rows.

    The first line records a checksum of wav.scp and spkN.scp; a different checksum means
    the data changed and the cache is ignored (and rewritten at the next merge).
    """

    def __init__(self, ref_dir: Path, checksum: str, source_names: list[str]):
        self.path = Path(ref_dir) / "scores" / CACHE_NAME
        self.checksum = checksum
        self.names = source_names

    def load(self) -> dict[tuple[str, str], list[float]]:
        if not self.path.is_file():
            return {}
        table: dict[tuple[str, str], list[float]] = {}
        with open(self.path, encoding="utf-8") as f:
            head = f.readline().split()
            if f"checksum={self.checksum}" not in head or f"version={CACHE_VERSION}" not in head:
                log.info("%s: made for other data (wav.scp/spkN.scp changed); not used", self.path)
                return {}
            f.readline()  # column names
            idx = {n: i for i, n in enumerate(self.names)}
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 4 or parts[1] not in idx:
                    continue
                utt, src, metric, value = parts
                vals = table.setdefault((utt, metric), [math.nan] * len(self.names))
                vals[idx[src]] = float(value)
        return table

    def update(self, new: dict[tuple[str, str], list[float]]) -> None:
        if not new:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(self.path.parent / ".input_scores.lock"):
                table = self.load()
                table.update(new)
                rows = [f"# sepcore input scores version={CACHE_VERSION} "
                        f"checksum={self.checksum}\n", "utt\tsource\tmetric\tvalue\n"]
                for (utt, metric) in sorted(table, key=lambda k: (k[0].encode(), k[1])):
                    for name, v in zip(self.names, table[(utt, metric)]):
                        rows.append(f"{utt}\t{name}\t{metric}\t{v!r}\n")
                atomic_write_text(self.path, "".join(rows))
        except OSError as e:
            log.warning("cannot update the mixture-score cache %s (%s); not cached", self.path, e)


@contextlib.contextmanager
def _locked(path: Path):
    import fcntl

    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
