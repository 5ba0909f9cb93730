#!/usr/bin/env bash
# Usage: tools/run_tests.sh [pytest arguments...]
#  e.g.: tools/run_tests.sh -k utils
#        tools/run_tests.sh -m unit    (the fast tests only: about a minute)
#
# The project's test command (what CI runs, .ci/run): sets up or checks the
# environment with tools/install.sh (about a second when nothing is to do), then
# runs the whole test suite from the repository root on 2 processes:
#   tools/venv/bin/python -m pytest -n 2 -q tests [pytest arguments...]
set -euo pipefail

case "${1:-}" in
  -h|--help) "$(dirname "$0")/../utils/usage.sh" "$0"; exit 0 ;;
esac
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
tools/install.sh
exec tools/venv/bin/python -m pytest -n 2 -q tests "$@"
