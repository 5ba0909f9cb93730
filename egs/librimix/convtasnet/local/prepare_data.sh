#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <librimix-dir> <data-dir>
#  e.g.: local/prepare_data.sh --num-sources 2 --task sep_clean --sample-rate 8k --mode min /data/LibriMix/Libri2Mix data/sep_clean_8k_min
# Makes <data-dir>/{train-360,dev,test}/ (wav.scp, spk1..N.scp, sources, [noise1.scp],
# utt2spk, utt2num_samples) from the published LibriMix layout
#   <librimix-dir>/wav{8k,16k}/{min,max}/metadata/mixture_<subset>_<mix_type>.csv
#   <librimix-dir>/wav{8k,16k}/{min,max}/<subset>/{mix_clean,mix_both,mix_single,s1,s2[,s3],noise}/
# (<librimix-dir> is the Libri2Mix/ or Libri3Mix/ folder, or the folder holding it).
# The CSVs' absolute paths are resolved relative to <librimix-dir>, so a moved corpus works.
# Warns when a subset has fewer mixtures than published (Libri2Mix: train-360 50800,
# train-100 13900, dev 3000, test 3000); a missing CSV or folder is an error. Skips the
# work when <data-dir> was already prepared with the same arguments.
# Options:
#   --num-sources 2                  2 (Libri2Mix) or 3 (Libri3Mix)
#   --task sep_clean           sep_clean, sep_noisy or enh_single
#   --sample-rate 8k           8k or 16k
#   --mode min                 min or max
#   --sets train-360,dev,test  which subsets to prepare (train-100 is the small train set)
set -euo pipefail

num_sources=2
task=sep_clean
sample_rate=8k
mode=min
sets=train-360,dev,test

[ -f ./path.sh ] && . ./path.sh
. utils/parse_options.sh

if [ $# -ne 2 ]; then
  echo "$0: expected 2 arguments, got $# (see $0 --help)" >&2
  exit 1
fi
corpus=$1
data=$2
here=$(dirname "$0")

stamp="corpus=$(cd "$corpus" 2>/dev/null && pwd || echo "$corpus") num_sources=$num_sources task=$task"
stamp="$stamp sample_rate=$sample_rate mode=$mode sets=$sets"
utils/run_once.sh "$data/.prepare_data.done" "$stamp" \
  python "$here/prepare_librimix.py" --num-sources "$num_sources" --task "$task" --sample-rate "$sample_rate" \
  --mode "$mode" --sets "$sets" "$corpus" "$data"
echo "$0: done: $data ($sets)"
