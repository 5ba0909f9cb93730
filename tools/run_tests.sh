#!/usr/bin/env bash
# Usage: tools/run_tests.sh [pytest arguments...]
#  e.g.: tools/run_tests.sh -k utils
#
# The project's test command (what CI runs, .ci/run): sets up or checks the
# environment with tools/install.sh --slurm --gridengine (about a second when nothing
# is to do; Slurm, munge and Grid Engine for the tests that start them), then runs
# the whole test suite from the repository root on 2 processes (the tests of each
# test cluster in one group, on one of them):
#   tools/venv/bin/python -m pytest -n 2 --dist loadgroup -q tests [pytest arguments...]
set -euo pipefail

case "${1:-}" in
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
tools/install.sh --slurm --gridengine
exec tools/venv/bin/python -m pytest -n 2 --dist loadgroup -q tests "$@"
