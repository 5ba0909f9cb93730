"""The separated-dir writer shared by the methods that are not a trained model (the
oracle, the enhancement baselines): estimates of every utterance of a data dir, in the
form steps/separate.sh writes, so steps/score.sh scores them like any experiment.

Utterance ``i`` (0-based, sorted) goes to job ``i % num_jobs + 1``, which writes
``out/wav/<utt>_<name>.wav`` (the mixture's rate and sample format, clipped to full scale
for PCM), ``out/.parts/spk<n>.<job>.scp`` (utils/merge_scp_parts.sh merges them),
``out/sources`` and ``out/<stamp>`` (what made the estimates: a second run with another
method into the same folder is refused unless ``force``). An utterance whose outputs all
exist is skipped; one that fails with a DataError is logged and counted.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable

import numpy as np

from sepcore.errors import ConfigError, DataError, DiskFullError
from sepcore.io.atomic import atomic_write_text
from sepcore.io.audio import Audio, wav_subtype, write_audio_set
from sepcore.io.scp import write_scp


def claim_separated_dir(out: Path, stamp_name: str, stamp: dict, names: list[str],
                        force: bool, force_option: str = "--force") -> None:
    """Create ``out/wav``, write ``out/<stamp_name>`` (what makes the estimates) and
    ``out/sources``. A stamp of another method or settings, or estimates without a stamp
    (made by what?), are refused unless ``force``; with ``force`` the merged spkN.scp,
    sources and scores/ are removed first, so a killed forced run never leaves a mix of
    two methods' outputs that scoring would take as one result."""
    import shutil

    (out / "wav").mkdir(parents=True, exist_ok=True)
    stamp_path = out / stamp_name
    merged = sorted(out.glob("spk*.scp"))
    if force:
        for f in merged + [out / "sources"]:
            f.unlink(missing_ok=True)
        shutil.rmtree(out / "scores", ignore_errors=True)
    elif stamp_path.is_file():
        _same_stamp(stamp_path, stamp, force_option)
    elif merged or any((out / "wav").iterdir()):
        raise ConfigError(f"{out}: holds estimates without {stamp_name} (made by what?); use "
                          f"another out-dir (or {force_option} to separate everything again)")
    text = json.dumps(stamp, sort_keys=True) + "\n"
    if force:
        atomic_write_text(stamp_path, text)
    elif not stamp_path.is_file():  # (an existing one stays older than spkN.scp)
        try:  # exclusive: of two runs claiming the folder at once, one stamp wins
            atomic_write_text(stamp_path, text, exclusive=True)
        except DataError:
            _same_stamp(stamp_path, stamp, force_option)
    atomic_write_text(out / "sources", " ".join(names) + "\n")


def _same_stamp(stamp_path: Path, stamp: dict, force_option: str) -> None:
    try:
        old = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{stamp_path}: unreadable ({e}); use another out-dir "
                        f"(or {force_option})") from None
    if old != stamp:
        raise ConfigError(f"{stamp_path}: this folder holds estimates made with {old}, "
                          f"not {stamp}; use another out-dir (or {force_option})")


def write_separated_dir(
    data, out_dir, names: list[str], estimate: Callable[[str, Audio], np.ndarray], *,
    stamp_name: str, stamp: dict, job: int = 1, num_jobs: int = 1, force: bool = False,
    log: logging.Logger | None = None,
) -> int:
    """``estimate(utt, mixture)`` → ``[len(names), frames(, channels)]`` for each utterance
    of job ``job`` of the DataDir ``data``; returns the number of utterances that failed."""
    log = log or logging.getLogger("sepcore.separated")
    if num_jobs < 1 or not 1 <= job <= num_jobs:
        raise ConfigError(f"--job {job} --num-jobs {num_jobs}: need 1 <= job <= num-jobs")
    out = Path(out_dir)
    claim_separated_dir(out, stamp_name, stamp, names, force)
    parts: list[list[tuple[str, str]]] = [[] for _ in names]
    failed = 0
    for utt in [u for i, u in enumerate(data.utts) if i % num_jobs == job - 1]:
        outputs = [str(out / "wav" / f"{utt}_{name}.wav") for name in names]
        try:
            if force or not all(os.path.exists(o) for o in outputs):
                mix = data.read_audio(utt)  # checked against utt2num_samples
                est = estimate(utt, mix)
                subtype = wav_subtype(mix.subtype)
                if subtype not in ("FLOAT", "DOUBLE"):
                    est = [np.clip(e, -1.0, 1.0) for e in est]
                write_audio_set(outputs, est, mix.sample_rate, subtype, format="WAV")
                log.info("%s: estimates written", utt)
        except DiskFullError:
            raise
        except DataError as e:
            failed += 1
            log.error("utterance %s: %s", utt, e)
            continue
        for k, path in enumerate(outputs):
            parts[k].append((utt, path))
    for k, items in enumerate(parts, 1):
        write_scp(out / ".parts" / f"spk{k}.{job}.scp", items, paths_in=out)
    return failed
