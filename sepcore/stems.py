"""Stems: keep some sources of a separation and add their residual (mixture minus them)."""

from __future__ import annotations

import numpy as np

from sepcore.errors import ConfigError, DataError


def residual_stem_name(stems: list[str], residual_name: str | None = None) -> str:
    """``residual_name``, or ``no_<stem>`` for one kept stem, ``residual`` for several."""
    name = residual_name or (f"no_{stems[0]}" if len(stems) == 1 else "residual")
    if name in stems:
        raise ConfigError(f"residual name {name!r} is also a kept stem")
    return name


def keep_stems(
    estimates: np.ndarray, mixture: np.ndarray, sources: list[str], stems: list[str],
    residual_name: str | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Keep ``stems`` of ``estimates`` and add the residual: the mixture minus their sum.

    ``estimates`` ``[S, T(, C)]``, ``mixture`` ``[T(, C)]`` (same rate and shape) → ``(array
    [len(stems) + 1, T(, C)], names)``; the last name is ``residual_name`` or ``no_<stem>``
    (``no_vocals``, as Demucs's ``--two-stems``), ``residual`` for several stems. They sum to
    the mixture exactly (float32), in ``estimates``' memory (a one-source model: a row more).
    """
    unknown = [s for s in stems if s not in sources]
    if unknown or not stems or len(set(stems)) != len(stems):
        raise ConfigError(f"--stems {','.join(stems)}: expected distinct names among the "
                          f"model's sources ({' '.join(sources)})")
    if estimates.shape[1:] != np.shape(mixture):
        raise DataError(f"estimates {estimates.shape[1:]} and mixture {np.shape(mixture)} "
                        f"differ in shape")
    if len(stems) == len(sources) > 1:  # (one source: enhancement, the residual is the noise)
        raise ConfigError(f"--stems {','.join(stems)}: that is every source; the residual "
                          f"would be (almost) silent")
    index = [sources.index(s) for s in stems]
    name = residual_stem_name(stems, residual_name)
    if index == sorted(index):  # move the kept stems to the front, in place
        for k, i in enumerate(index):
            if i != k:
                estimates[k] = estimates[i]
    else:
        estimates[:len(index)] = estimates[index]
    k = len(index)
    estimates = np.concatenate([estimates, estimates[:1]]) if k == len(estimates) else estimates
    estimates[k] = mixture
    for j in range(k):
        estimates[k] -= estimates[j]
    return estimates[:k + 1], list(stems) + [name]
