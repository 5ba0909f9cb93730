"""Enhancement baselines scored by the same code as the models: ``rnnoise`` and
``spectral_gating`` (each an optional package; a clear error names the pip command).

:func:`enhance_data_dir` writes a method's estimates of a data dir in the separated-dir
form steps/separate.sh writes (``wav/<utt>_<source>.wav``, ``.parts/spk<n>.<job>.scp``
merged by utils/merge_scp_parts.sh, ``sources``), so steps/score.sh scores them. The
estimate is the speech (spk1); a data dir with a second reference (the noise) also gets
the residual, mixture minus the estimate.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable

import numpy as np

from sepcore.baselines.rnnoise import rnnoise
from sepcore.baselines.spectral_gating import spectral_gating
from sepcore.errors import ConfigError, DataError

METHODS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "rnnoise": rnnoise,
    "spectral_gating": spectral_gating,
}

log = logging.getLogger("sepcore.baselines")


def get_method(name: str) -> Callable[[np.ndarray, int], np.ndarray]:
    if name not in METHODS:
        raise ConfigError(f"--method {name!r}: unknown baseline; expected one of "
                          f"{', '.join(METHODS)}")
    return METHODS[name]


def enhance_data_dir(data_dir, out_dir, method: str, *, job: int = 1, num_jobs: int = 1,
                     force: bool = False) -> int:
    """Write ``method``'s estimates of the utterances of job ``job`` (utterance i, sorted,
    goes to job ``i % num_jobs + 1``); returns the number of utterances that failed."""
    from sepcore.data.datadir import DataDir
    from sepcore.io import atomic_write_text, read_audio, write_audio, write_scp
    from sepcore.io.audio import wav_subtype

    fn = get_method(method)
    if num_jobs < 1 or not 1 <= job <= num_jobs:
        raise ConfigError(f"--job {job} --num-jobs {num_jobs}: need 1 <= job <= num-jobs")
    data = DataDir.load(data_dir)
    if data.num_sources > 2:
        raise DataError(f"{data.path}: {data.num_sources} sources (spk1..spk{data.num_sources}"
                        ".scp); an enhancement data dir has the speech in spk1.scp and at "
                        "most the noise in spk2.scp")
    out = Path(out_dir)
    (out / "wav").mkdir(parents=True, exist_ok=True)
    stamp = out / "baseline.json"
    info = {"method": method, "data_dir": str(data_dir)}
    if stamp.is_file() and not force:
        old = json.loads(stamp.read_text(encoding="utf-8"))
        if old != info:
            raise ConfigError(f"{stamp}: this folder holds {old['method']} estimates of "
                              f"{old['data_dir']}; use another out-dir (or --force)")
    atomic_write_text(stamp, json.dumps(info, sort_keys=True) + "\n")
    names = data.source_names
    atomic_write_text(out / "sources", " ".join(names) + "\n")
    parts: list[list[tuple[str, str]]] = [[] for _ in names]
    failed = 0
    for utt in [u for i, u in enumerate(data.utts) if i % num_jobs == job - 1]:
        outputs = [str(out / "wav" / f"{utt}_{name}.wav") for name in names]
        try:
            if force or not all(os.path.exists(o) for o in outputs):
                mix = read_audio(data.wav[utt])
                if mix.num_channels != 1:
                    raise DataError(f"{data.wav[utt]}: {mix.num_channels} channels; the "
                                    "baselines enhance mono audio")
                speech = fn(mix.data, mix.sample_rate)
                estimates = [speech, mix.data - speech][: len(names)]
                subtype = wav_subtype(mix.subtype)
                for est, path in zip(estimates, outputs):
                    if subtype not in ("FLOAT", "DOUBLE"):
                        est = np.clip(est, -1.0, 1.0)
                    write_audio(path, est, mix.sample_rate, subtype, format="WAV")
        except DataError as e:
            failed += 1
            log.error("utterance %s: %s", utt, e)
            continue
        for k, path in enumerate(outputs):
            parts[k].append((utt, path))
    for k, items in enumerate(parts, 1):
        write_scp(out / ".parts" / f"spk{k}.{job}.scp", items)
    return failed
