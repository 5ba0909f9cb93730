"""sepcore/recipes.py: one recipe's script imported by another, found under $SEPCORE_ROOT
(a recipe copied elsewhere still finds the checkout) or else next to the package."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sepcore.errors import SepcoreError
from sepcore.recipes import import_script, recipe_script, sepcore_root

ROOT = Path(__file__).resolve().parents[1]


def test_root_from_the_environment_or_the_package(monkeypatch, tmp_path):
    monkeypatch.delenv("SEPCORE_ROOT", raising=False)
    assert sepcore_root() == ROOT
    monkeypatch.setenv("SEPCORE_ROOT", str(tmp_path))
    assert sepcore_root() == tmp_path


def test_a_script_is_imported_and_registered(monkeypatch, tmp_path):
    script = tmp_path / "egs" / "r" / "local" / "thing.py"
    script.parent.mkdir(parents=True)
    script.write_text("from dataclasses import dataclass\n\n@dataclass\nclass Voice:\n"
                      "    name: str\n\nVALUE = Voice('a')\n")
    monkeypatch.setenv("SEPCORE_ROOT", str(tmp_path))
    mod = recipe_script("r/local/thing.py", "test_recipe_thing")
    assert mod.VALUE.name == "a" and sys.modules["test_recipe_thing"] is mod
    with pytest.raises(SepcoreError, match=r"nope.py: script not found \(SEPCORE_ROOT: "):
        recipe_script("r/local/nope.py", "test_recipe_nope")
    monkeypatch.delenv("SEPCORE_ROOT")
    mini = import_script(ROOT / "egs/mini/convtasnet/local/make_corpus.py", "mini_make_corpus")
    assert callable(mini.make_voices)
