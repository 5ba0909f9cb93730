#!/usr/bin/env bash
# Usage: tools/install.sh [--system true|false] [--slurm] [--gridengine]
#
# Sets up everything sepcore needs, idempotently:
#   1. Debian packages (sox, espeak-ng, flite, festival + a voice; fluidsynth + a GM
#      soundfont for the mini music corpus; ffmpeg for MUSDB18; tcmalloc, which makes
#      CPU training steps ~1.6x faster; gcc, which builds the LSTM step kernels of
#      sepcore/nn/lstm.py): installed with apt-get when run as root, otherwise the exact
#      command is printed and the script exits non-zero (a missing tcmalloc or gcc alone
#      is only a note). Skipped when all are already present.
#      --slurm: also slurm-wlm and munge, for the tests that start a one-node Slurm;
#      --gridengine: also gridengine-master/-exec/-client, for those that start a Grid
#      Engine (tools/run_tests.sh passes both; without root it is only a note: the
#      tests skip).
#      No daemon is started here (a policy-rc.d denies it during the install).
#   2. tools/venv: a Python virtual environment.
#   3. torch (TORCH_VERSION, default 2.13.0; set TORCH_INDEX_URL for a CUDA build),
#      then requirements.txt with that torch pinned so pip cannot replace it,
#      then sepcore itself in editable mode (provides the sepcore-separate command).
# A second run with nothing to do finishes in about a second.
#
# Environment:
#   TORCH_VERSION     torch version to install (default 2.13.0)
#   TORCH_INDEX_URL   extra index for torch wheels (e.g. a CUDA index); default none
#   PYTHON            python interpreter used to create the venv (default python3)
set -euo pipefail

system=true
slurm=false
gridengine=false
while [ $# -gt 0 ]; do
  case "$1" in
    --system) system="$2"; shift 2 ;;
    --slurm) slurm=true; shift ;;
    --gridengine) gridengine=true; shift ;;
    -h|--help) "$(dirname "$0")/../utils/usage.sh" "$0"; exit 0 ;;
    *) echo "$0: unknown option '$1' (expected --system true|false, --slurm, --gridengine)" >&2; exit 1 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/tools/venv
torch_version=${TORCH_VERSION:-2.13.0}
python=${PYTHON:-python3}

# --- 1. Debian packages -----------------------------------------------------------
debian_packages="sox libsox-fmt-all espeak-ng flite festival festvox-kdlpc16k fluidsynth"
debian_packages="$debian_packages timgm6mb-soundfont ffmpeg libtcmalloc-minimal4 gcc libc6-dev"
missing_programs=""
for prog in sox espeak-ng flite festival text2wave fluidsynth ffmpeg; do
  command -v "$prog" >/dev/null 2>&1 || missing_programs="$missing_programs $prog"
done
[ -f /usr/share/sounds/sf2/TimGM6mb.sf2 ] || missing_programs="$missing_programs TimGM6mb.sf2"
can_apt=$([ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && echo true || echo false)
if ! "$root/utils/find_tcmalloc.sh" >/dev/null; then
  if [ "$can_apt" = true ]; then
    missing_programs="$missing_programs libtcmalloc_minimal.so.4"
  elif [ "$system" = true ]; then
    echo "install.sh: note: tcmalloc is not installed; CPU training steps are ~1.6x faster with it" \
      "(as root: apt-get install -y libtcmalloc-minimal4)" >&2
  fi
fi
if ! command -v cc >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
  if [ "$can_apt" = true ]; then
    missing_programs="$missing_programs gcc"
  elif [ "$system" = true ]; then
    echo "install.sh: note: no C compiler; DPRNN's LSTMs run through torch's nn.LSTM" \
      "(as root: apt-get install -y gcc libc6-dev)" >&2
  fi
fi
# optional_packages <what> <packages> <programs>: for the test clusters
optional_packages() {
  local missing="" prog
  for prog in $3; do
    command -v "$prog" >/dev/null 2>&1 || missing="$missing $prog"
  done
  if [ -n "$missing" ] && [ "$can_apt" = true ]; then
    missing_programs="$missing_programs$missing"
    debian_packages="$debian_packages $2"
  elif [ -n "$missing" ]; then
    echo "install.sh: note: $1 is not installed (missing$missing); the tests that start" \
      "one will skip (as root: apt-get install -y --no-install-recommends $2)" >&2
  fi
}
if [ "$system" = true ] && [ "$slurm" = true ]; then
  optional_packages Slurm "slurm-wlm munge" "slurmctld slurmd sbatch srun munged"
fi
if [ "$system" = true ] && [ "$gridengine" = true ]; then
  optional_packages "Grid Engine" "gridengine-master gridengine-exec gridengine-client" \
    "sge_qmaster sge_execd qsub qconf"
fi
if [ "$system" = true ] && [ -n "$missing_programs" ]; then
  if [ "$can_apt" = true ]; then
    echo "install.sh: installing Debian packages ($debian_packages)"
    apt-get update -qq
    # the packages' scripts must not start munged/slurmctld/slurmd/sge_* as system services
    # (the tests start their own, on loopback): a policy-rc.d that denies, for the install
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
      made_policy=true
      trap 'rm -f "$policy"' EXIT
    fi
    # --no-install-recommends: slurm-wlm recommends a desktop's worth (X11 tools)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      $debian_packages >/dev/null
    if [ "${made_policy:-}" = true ]; then rm -f "$policy"; trap - EXIT; fi
  else
    echo "install.sh: missing programs:$missing_programs" >&2
    echo "install.sh: run as root:  apt-get update && apt-get install -y $debian_packages" >&2
    exit 1
  fi
fi

# --- 2. virtual environment ---------------------------------------------------------
stamp=$venv/.sepcore-installed
want="torch=$torch_version requirements=$(cksum < "$root/requirements.txt" | cut -d' ' -f1) pyproject=$(cksum < "$root/pyproject.toml" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "install.sh: creating $venv"
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)

# --- 3. torch first, then the rest with torch pinned -------------------------------
installed_torch=$("$venv/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)
if [ "$installed_torch" != "$torch_version" ]; then
  echo "install.sh: installing torch==$torch_version"
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "${pip[@]}" install "torch==$torch_version" --extra-index-url "$TORCH_INDEX_URL"
  else
    "${pip[@]}" install "torch==$torch_version"
  fi
fi
constraints=$(mktemp)
trap 'rm -f "$constraints"' EXIT
"$venv/bin/python" -c 'import torch; print("torch==" + torch.__version__)' > "$constraints"
echo "install.sh: installing requirements.txt (torch pinned to $(cat "$constraints"))"
"${pip[@]}" install -r "$root/requirements.txt" -c "$constraints"
"${pip[@]}" install --no-deps --no-build-isolation -e "$root"
echo "$want" > "$stamp.tmp" && mv "$stamp.tmp" "$stamp"
echo "install.sh: done ($venv)"
