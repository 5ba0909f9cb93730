#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <wsj0-mix-dir> <data-dir>
#  e.g.: local/prepare_data.sh --num-sources 2 --sample-rate 8k --mode min /data/wsj0-mix/2speakers data/8k_min
# Makes <data-dir>/{tr,cv,tt}/ (wav.scp, spk1..N.scp, sources, utt2spk, utt2num_samples)
# from the published wsj0-{2,3}mix layout
#   <wsj0-mix-dir>/wav{8k,16k}/{min,max}/{tr,cv,tt}/{mix,s1,s2[,s3]}/<name>.wav
# (<wsj0-mix-dir> is the 2speakers/ or 3speakers/ folder, or the folder holding it).
# Warns when a split has fewer mixtures than published (20000/5000/3000); a missing or
# empty folder is an error. Skips the work when <data-dir> was already prepared with
# the same arguments.
# Options:
#   --num-sources 2          2 (wsj0-2mix) or 3 (wsj0-3mix)
#   --sample-rate 8k     8k or 16k
#   --mode min           min or max
#   --sets tr,cv,tt      which splits to prepare
set -euo pipefail

num_sources=2
sample_rate=8k
mode=min
sets=tr,cv,tt

[ -f ./path.sh ] && . ./path.sh
. utils/parse_options.sh

if [ $# -ne 2 ]; then
  echo "$0: expected 2 arguments, got $# (see $0 --help)" >&2
  exit 1
fi
corpus=$1
data=$2
here=$(dirname "$0")

stamp="corpus=$(cd "$corpus" 2>/dev/null && pwd || echo "$corpus") num_sources=$num_sources"
stamp="$stamp sample_rate=$sample_rate mode=$mode sets=$sets"
utils/run_once.sh "$data/.prepare_data.done" "$stamp" \
  python "$here/prepare_wsj0mix.py" --num-sources "$num_sources" --sample-rate "$sample_rate" \
  --mode "$mode" --sets "$sets" "$corpus" "$data"
echo "$0: done: $data ($sets)"
