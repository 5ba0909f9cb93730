"""Markers: every test is ``unit`` unless it is marked ``slow`` (subprocess recipes,
training, synthesis: more than ~2 s), so ``tools/run_tests.sh -m unit`` is the quick run
and ``tools/run_tests.sh`` (CI) runs everything.

Shared helpers live in the ``helpers`` package beside this file (tests/helpers/).
"""

from __future__ import annotations

import pytest


# (the markers themselves are registered in pyproject.toml)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.unit)
