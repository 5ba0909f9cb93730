#!/usr/bin/env bash
# Usage: tools/run_tests.sh [pytest arguments...]
#  e.g.: tools/run_tests.sh -k utils
#        tools/run_tests.sh -m unit    (the fast tests only: about a minute)
#
# The project's test command (what CI runs, .ci/run): sets up or checks the
# environment with tools/install.sh --slurm --gridengine (about a second when nothing
# is to do; Slurm, munge and Grid Engine for the tests that start them), installs
# Debian's chromium for the report tests when it is missing and this runs as root (they
# are skipped, saying why, without it), then runs the whole test suite from the
# repository root on 2 processes (each starts its own test clusters if its tests need
# them):
#   tools/venv/bin/python -m pytest -n 2 -q tests [pytest arguments...]
set -euo pipefail

case "${1:-}" in
  -h|--help) "$(dirname "$0")/../utils/usage.sh" "$0"; exit 0 ;;
esac
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
tools/install.sh --slurm --gridengine
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "run_tests.sh: installing chromium (headless browser of the report tests)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
      >/dev/null || echo "run_tests.sh: chromium could not be installed: report browser tests skip" >&2
  else
    echo "run_tests.sh: no chromium (as root: apt-get install -y chromium): report browser tests skip" >&2
  fi
fi
exec tools/venv/bin/python -m pytest -n 2 -q tests "$@"
