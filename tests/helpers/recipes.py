"""A recipe copied to a temporary folder for an end-to-end run: its own files copied,
steps/, utils/ and path.sh linked to this checkout (the recipes reach the top that way)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def copy_recipe(recipe: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ("run.sh", "cmd.sh"):
        shutil.copy2(recipe / name, dest / name)
    for name in ("conf", "local"):
        shutil.copytree(recipe / name, dest / name)
    for name in ("steps", "utils", "path.sh"):
        (dest / name).symlink_to(ROOT / name)
    return dest


def load_script(path: Path, name: str):
    """A recipe's Python script (e.g. local/make_data.py) imported as module ``name``."""
    from sepcore.recipes import import_script

    return import_script(path, name)
