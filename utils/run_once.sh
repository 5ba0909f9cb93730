#!/usr/bin/env bash
# Usage: utils/run_once.sh <done-file> <stamp> <command> [args...]
#  e.g.: utils/run_once.sh data/8k_min/.prepare_data.done "corpus=/data/wsj0 sets=tr,cv,tt" \
#          python local/prepare_wsj0mix.py /data/wsj0 data/8k_min
#
# Runs <command> unless <done-file> holds exactly <stamp> (the same work was done with the
# same inputs), then writes <stamp> to <done-file>. A failed or killed run leaves no
# <done-file>, so the next call runs it again. Corpus preps (egs/*/*/local/) use it to
# skip a finished data preparation.
set -euo pipefail

if [ $# -lt 3 ]; then
  "$(dirname "$0")/usage.sh" "$0" >&2
  exit 1
fi
done_file=$1
stamp=$2
shift 2
if [ -f "$done_file" ] && [ "$(cat "$done_file")" = "$stamp" ]; then
  echo "$(basename "$0"): $(dirname "$done_file") already prepared ($stamp); remove $done_file to redo"
  exit 0
fi
rm -f "$done_file"
"$@"
mkdir -p "$(dirname "$done_file")"
echo "$stamp" > "$done_file"
