"""Markers: every test is ``unit`` unless it is marked ``slow`` (subprocess recipes,
training, synthesis: more than ~2 s), so ``tools/run_tests.sh -m unit`` is the quick run
and ``tools/run_tests.sh`` (CI) runs everything.

Shared helpers live in the ``helpers`` package beside this file (tests/helpers/).
"""

from __future__ import annotations

import pytest
import torch


# (the markers themselves are registered in pyproject.toml)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.unit)


@pytest.fixture
def float64():
    """torch's default dtype float64 inside the test (fast kernels against the reference)."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(default)
