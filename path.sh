# Source this file (recipes reach it through a symlink): activates tools/venv and
# puts utils/ and steps/ on PATH and the repository root on PYTHONPATH.
# shellcheck shell=bash
SEPCORE_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
export SEPCORE_ROOT
if [ -f "$SEPCORE_ROOT/tools/venv/bin/activate" ]; then
  # shellcheck disable=SC1091
  . "$SEPCORE_ROOT/tools/venv/bin/activate"
fi
export PATH=$SEPCORE_ROOT/utils:$SEPCORE_ROOT/steps:$PATH
export PYTHONPATH=$SEPCORE_ROOT${PYTHONPATH:+:$PYTHONPATH}
export LC_ALL=C
export PYTHONUNBUFFERED=1
