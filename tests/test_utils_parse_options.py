"""utils/parse_options.sh: Kaldi-style options of the calling script."""

import subprocess
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[1] / "utils"

SCRIPT = """#!/usr/bin/env bash
# Usage: demo.sh [options] <in> <out>
#  e.g.: demo.sh --foo-bar 3 a b
#
# Options:
#   --foo-bar N   how many
set -euo pipefail
# (not part of the usage block)
foo_bar=1
flag=false
name="a b"
cmd=run.pl
. {utils}/parse_options.sh
echo "foo_bar=$foo_bar flag=$flag name=$name cmd=$cmd args=$#:$*"
"""


@pytest.fixture
def demo(tmp_path):
    path = tmp_path / "demo.sh"
    path.write_text(SCRIPT.replace("{utils}", str(UTILS)))
    path.chmod(0o755)

    def run(*args, help_message=None):
        env = None
        if help_message is not None:
            import os

            env = {**os.environ, "help_message": help_message}
        return subprocess.run([str(path), *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path)

    return run


def test_sets_variables_and_stops_at_first_argument(demo):
    r = demo("--foo-bar", "3", "--flag", "true", "--name", "x y", "in", "--foo-bar", "out")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "foo_bar=3 flag=true name=x y cmd=run.pl args=3:in --foo-bar out"


def test_equals_form_and_double_dash(demo):
    r = demo("--foo-bar=7", "--", "--flag", "b")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "foo_bar=7 flag=false name=a b cmd=run.pl args=2:--flag b"


def test_unknown_option_is_named(demo):
    r = demo("--foo-baz", "3", "in", "out")
    assert r.returncode == 1
    assert "unknown option --foo-baz" in r.stderr
    assert r.stdout == ""


def test_boolean_accepts_only_true_or_false(demo):
    r = demo("--flag", "yes", "in", "out")
    assert r.returncode == 1
    assert "--flag" in r.stderr and "true or false" in r.stderr and "'yes'" in r.stderr
    assert demo("--flag=false", "a").returncode == 0


def test_missing_value_and_empty_cmd(demo):
    r = demo("--foo-bar")
    assert r.returncode == 1 and "--foo-bar needs a value" in r.stderr
    r = demo("--cmd", "", "a")
    assert r.returncode == 1 and "empty argument to --cmd" in r.stderr


@pytest.mark.parametrize("opt", ["--help", "-h"])
def test_help_prints_usage_block(demo, opt):
    r = demo("--foo-bar", "2", opt)
    assert r.returncode == 0
    assert r.stdout.splitlines() == [
        "Usage: demo.sh [options] <in> <out>",
        " e.g.: demo.sh --foo-bar 3 a b",
        "",
        "Options:",
        "  --foo-bar N   how many",
    ]


def test_help_message_variable_wins(demo):
    r = demo("--help", help_message="custom help")
    assert r.returncode == 0 and r.stdout == "custom help\n"


def test_config_file_is_read_before_command_line(demo, tmp_path):
    (tmp_path / "c.conf").write_text("foo_bar=5\nflag=true\n")
    r = demo("--foo-bar", "9", "--config", "c.conf", "a")
    assert r.stdout.strip() == "foo_bar=9 flag=true name=a b cmd=run.pl args=1:a"
    r = demo("--config=c.conf", "a")
    assert r.stdout.strip() == "foo_bar=5 flag=true name=a b cmd=run.pl args=1:a"
    r = demo("--config", "nope.conf", "a")
    assert r.returncode == 1 and "nope.conf" in r.stderr
