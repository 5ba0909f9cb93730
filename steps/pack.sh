#!/usr/bin/env bash
# Usage: steps/pack.sh [options] <exp-dir>
#  e.g.: steps/pack.sh exp/convtasnet
#
# Packs <exp-dir> into <exp-dir>/<tag>.tar.gz (tag = the folder's name) through
# python -m sepcore.bin.pack: model.pt, config.yaml, history.tsv, the RESULTS.md and
# summary.json of every scored set (separate/<set>/scores/), a README.md model card
# and a MANIFEST with the sha256 of every member. Written atomically; a pack newer
# than everything it holds is left alone. Load it with sepcore.load(<pack>) or
# sepcore-separate --model <pack> ...
#
# Options:
#   --license <>     licence for the model card (default: the config's 'license' key)
#   --force <false>  repack even if the pack is up to date
set -euo pipefail

license=
force=false

. "$(dirname "$0")/../utils/parse_options.sh"

if [ $# -ne 1 ]; then
  "$(dirname "$0")/../utils/usage.sh" "$0" >&2
  exit 1
fi
exp=$1
[ -d "$exp" ] || { echo "$0: $exp is not a folder (expected an exp dir)" >&2; exit 1; }
[ -f "$exp/model.pt" ] || { echo "$0: $exp/model.pt not found (train first)" >&2; exit 1; }

opts=()
[ -n "$license" ] && opts+=(--license "$license")
opts+=(--force "$force")
python -m sepcore.bin.pack "${opts[@]}" "$exp"
