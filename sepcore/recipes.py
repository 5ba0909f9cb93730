"""One recipe's script imported by another (they are scripts, not part of the package).

The DeMask and mini_enh corpora synthesize the voices of egs/mini's corpus
(egs/mini/convtasnet/local/make_corpus.py), the custom recipe's example folders use
mini_enh's noises. A recipe may run from a copy (the smoke tests copy run.sh, conf/ and
local/ elsewhere), so the script is found in the checkout: ``$SEPCORE_ROOT`` (path.sh
sets it), else the folder holding this package.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from sepcore.errors import SepcoreError


def sepcore_root() -> Path:
    """The checkout: ``$SEPCORE_ROOT``, else the folder holding the sepcore package."""
    return Path(os.environ.get("SEPCORE_ROOT") or Path(__file__).resolve().parents[1])


def import_script(path: str | os.PathLike, name: str) -> ModuleType:
    """The Python file ``path`` imported as module ``name``, registered in
    ``sys.modules`` before it runs (its dataclasses look their module up there)."""
    path = Path(path)
    if not path.is_file():
        raise SepcoreError(f"{path}: script not found (SEPCORE_ROOT: {sepcore_root()})")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def recipe_script(relpath: str, name: str) -> ModuleType:
    """``egs/<relpath>`` of the checkout as module ``name``, e.g.
    ``recipe_script("mini/convtasnet/local/make_corpus.py", "mini_make_corpus")``."""
    return import_script(sepcore_root() / "egs" / relpath, name)
