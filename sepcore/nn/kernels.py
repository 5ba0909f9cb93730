"""Which kernels the models run: the fast ones (default) or the plain reference ones.

The fast kernels (channels-last matrix products, folded norms, sums of shifted slices for
depthwise convolutions, overlap-add decoding) compute the same functions as the plain
torch modules the models are declared with, with the same parameters, so model files are
interchangeable; they differ from them only by float rounding. The reference kernels are
exactly those plain modules (``nn.Conv1d``, ``nn.PReLU``, the paper's gLN formula,
``nn.ConvTranspose1d``, the channels-first layout): they reproduce the outputs of models
saved by earlier sepcore versions bit for bit, and the tests compare the fast path with
them.

Select the reference kernels with ``SEPCORE_KERNELS=reference`` in the environment, or
for a block of code with ``with reference_kernels(): ...``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from sepcore.errors import ConfigError

KERNELS = ("fast", "reference")


def _from_env() -> bool:
    value = os.environ.get("SEPCORE_KERNELS", "fast") or "fast"
    if value not in KERNELS:
        raise ConfigError(f"SEPCORE_KERNELS: expected one of {', '.join(KERNELS)}, "
                          f"got {value!r}")
    return value == "reference"


_reference = _from_env()


def use_reference() -> bool:
    """True while the plain reference kernels are selected."""
    return _reference


@contextlib.contextmanager
def reference_kernels(enabled: bool = True) -> Iterator[None]:
    """Run the models with the plain reference kernels (``enabled``) inside the block."""
    global _reference
    before = _reference
    _reference = bool(enabled)
    try:
        yield
    finally:
        _reference = before
