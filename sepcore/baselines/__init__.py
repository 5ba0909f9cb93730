"""Enhancement baselines scored by the same code as the models: ``rnnoise`` and
``spectral_gating`` (each an optional package; a clear error names the pip command).

:func:`enhance_data_dir` writes a method's estimates of a data dir in the separated-dir
form steps/separate.sh writes (``wav/<utt>_<source>.wav``, ``.parts/spk<n>.<job>.scp``
merged by utils/merge_scp_parts.sh, ``sources``), so steps/score.sh scores them. The
estimate is the speech (spk1); a data dir with a second reference (the noise) also gets
the residual, mixture minus the estimate.
"""

from __future__ import annotations

import logging
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
    goes to job ``i % num_jobs + 1``; see sepcore/io/separated.py); returns the number of
    utterances that failed."""
    from sepcore.data.datadir import DataDir
    from sepcore.io.separated import write_separated_dir

    fn = get_method(method)
    data = DataDir.load(data_dir)
    if data.num_sources > 2:
        raise DataError(f"{data.path}: {data.num_sources} sources (spk1..spk{data.num_sources}"
                        ".scp); an enhancement data dir has the speech in spk1.scp and at "
                        "most the noise in spk2.scp")

    def estimate(utt, mix):
        if mix.num_channels != 1:
            raise DataError(f"{data.wav[utt]}: {mix.num_channels} channels; the baselines "
                            "enhance mono audio")
        speech = fn(mix.data, mix.sample_rate)
        return [speech, mix.data - speech][: data.num_sources]

    return write_separated_dir(data, out_dir, data.source_names, estimate,
                               stamp_name="baseline.json",
                               stamp={"method": method, "data_dir": str(data_dir)},
                               job=job, num_jobs=num_jobs, force=force, log=log)
