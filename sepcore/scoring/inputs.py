"""The inputs of scoring: a reference data dir and a separated dir, cross-checked."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from sepcore.data import DataDir
from sepcore.errors import DataError
from sepcore.io import read_audio, read_scp_dict
from sepcore.io.scp import read_lines
from sepcore.separate import check_provenance

log = logging.getLogger("sepcore.score")


FINGERPRINT_BYTES = 1 << 14


def fingerprint(spec: str) -> str:
    """Size, mtime and a checksum of the first and last 16 KiB of the file ``spec`` names.

    Cheap enough for every file of a test set, and it changes when the audio is regenerated
    in place (even with the same size). A pipe (``cmd |``) or ``file:offset`` spec cannot be
    fingerprinted this way: its text stands for it.
    """
    path = spec.strip()
    if path.endswith("|") or not os.path.isfile(path):
        return "spec:" + spec
    st = os.stat(path)
    h = hashlib.sha1()
    with open(path, "rb") as f:
        h.update(f.read(FINGERPRINT_BYTES))
        if st.st_size > 2 * FINGERPRINT_BYTES:
            f.seek(-FINGERPRINT_BYTES, os.SEEK_END)
        h.update(f.read(FINGERPRINT_BYTES))
    return f"{st.st_size}:{st.st_mtime_ns}:{h.hexdigest()[:16]}"


class Inputs:
    """The reference data dir and the estimates, cross-checked."""

    def __init__(self, ref_dir: str, sep_dir: str):
        self.sep_dir = Path(sep_dir)
        if not self.sep_dir.is_dir():
            raise DataError(f"{sep_dir}: separated dir not found")
        self.provenance = check_provenance(self.sep_dir)
        self.ref = DataDir.load(ref_dir)
        est_files = []
        k = 1
        while (self.sep_dir / f"spk{k}.scp").is_file():
            est_files.append(self.sep_dir / f"spk{k}.scp")
            k += 1
        n_ref = self.ref.num_sources
        first = self.ref.utts[0]
        if len(est_files) != n_ref:
            raise DataError(
                f"{self.sep_dir}: {len(est_files)} estimate files (spk1.scp..spk{len(est_files)}"
                f".scp) but {self.ref.path} has {n_ref} references (spk1.scp..spk{n_ref}.scp): "
                f"a different number of estimates than references for every utterance, "
                f"e.g. {first!r}"
            )
        self.est_files = est_files
        self.est = [read_scp_dict(f, paths=True) for f in est_files]
        for f, table in zip(est_files, self.est):
            missing = [u for u in self.ref.utts if u not in table]
            if missing:
                more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
                raise DataError(
                    f"{f}: no estimate for utterance {missing[0]!r}{more} "
                    f"(listed in {self.ref.path / 'wav.scp'})"
                )
            extra = [u for u in table if u not in self.ref.wav]
            if extra:
                log.warning("%s: %d utterances not in %s are ignored (e.g. %r)", f, len(extra),
                            self.ref.path / "wav.scp", extra[0])
        self.source_names = self.ref.source_names
        est_names = self.sep_dir / "sources"
        if est_names.is_file() and (self.ref.path / "sources").is_file():
            given = " ".join(ln for _, ln in read_lines(est_names)).split()
            if given != self.source_names:
                raise DataError(
                    f"{est_names}: estimates are named {' '.join(given)} but the references in "
                    f"{self.ref.path / 'sources'} are {' '.join(self.source_names)} "
                    "(spkN.scp of both must hold the same source)"
                )

    def ref_checksum(self) -> str:
        """The scp texts and the content of every file they name (:func:`fingerprint`):
        regenerating audio in place changes it, so no cached score outlives its audio."""
        if getattr(self, "_ref_sum", None) is None:
            h = hashlib.sha1()
            for name in ["wav.scp"] + [f"spk{k + 1}.scp" for k in range(self.ref.num_sources)]:
                h.update(name.encode() + b"\0" + (self.ref.path / name).read_bytes() + b"\0")
            for table in [self.ref.wav] + list(self.ref.sources):
                for utt in self.ref.utts:
                    h.update(fingerprint(table[utt]).encode() + b"\0")
            self._ref_sum = h.hexdigest()
        return self._ref_sum

    def est_checksum(self) -> str:
        if getattr(self, "_est_sum", None) is None:
            h = hashlib.sha1()
            for f, table in zip(self.est_files, self.est):
                h.update(f.read_bytes() + b"\0")
                for utt in self.ref.utts:
                    h.update(fingerprint(table[utt]).encode() + b"\0")
            self._est_sum = h.hexdigest()
        return self._est_sum

    def load(self, utt: str, allow_mismatch: bool):
        """Read one utterance → (est [S,T(,C)], ref [S,T(,C)], mix [T(,C)], sr, trimmed)."""
        ref_specs = [src[utt] for src in self.ref.sources]
        est_specs = [e[utt] for e in self.est]
        mix_spec = self.ref.wav[utt]

        def read(spec: str, what: str, source: int | None = -1):
            # the reference data dir's files are checked against its utt2num_samples, unless
            # lengths may differ (--allow-length-mismatch: trimmed and counted below)
            try:
                if source == -1 or allow_mismatch:
                    return read_audio(spec)
                return self.ref.read_audio(utt, source)
            except DataError as e:
                raise DataError(f"utterance {utt!r}: {what}: {e}") from None

        refs = [read(s, "reference", k) for k, s in enumerate(ref_specs)]
        ests = [read(s, "estimate") for s in est_specs]
        mix = read(mix_spec, "mixture", None)
        sr = refs[0].sample_rate
        for a, spec, what in ([(mix, mix_spec, "mixture")]
                              + [(r, s, "reference") for r, s in zip(refs, ref_specs)]
                              + [(e, s, "estimate") for e, s in zip(ests, est_specs)]):
            if a.sample_rate != sr:
                raise DataError(
                    f"utterance {utt!r}: sample-rate mismatch: {what} {spec} is at "
                    f"{a.sample_rate} Hz but reference {ref_specs[0]} is at {sr} Hz"
                )
            if not np.all(np.isfinite(a.data)):
                bad = int(np.sum(~np.isfinite(a.data)))
                raise DataError(
                    f"utterance {utt!r}: {what} {spec} contains NaN or inf ({bad} values)"
                )
        chans = {a.num_channels for a in refs + ests + [mix]}
        if len(chans) > 1:
            raise DataError(
                f"utterance {utt!r}: channel counts differ: reference {ref_specs[0]} has "
                f"{refs[0].num_channels}, estimates {[e.num_channels for e in ests]}, mixture "
                f"{mix.num_channels}"
            )
        lengths = [a.num_frames for a in refs + ests + [mix]]
        n = min(lengths)
        trimmed = 0
        if max(lengths) != n:
            if not allow_mismatch:
                specs = ref_specs + est_specs + [mix_spec]
                long_i = int(np.argmax(lengths))
                short_i = int(np.argmin(lengths))
                raise DataError(
                    f"utterance {utt!r}: lengths differ: {specs[long_i]} has {lengths[long_i]} "
                    f"samples but {specs[short_i]} has {lengths[short_i]} (pass "
                    "--allow-length-mismatch true to trim to the shorter one)"
                )
            trimmed = max(lengths) - n
        est = np.stack([e.data[:n] for e in ests])
        ref = np.stack([r.data[:n] for r in refs])
        return est, ref, mix.data[:n], sr, trimmed
