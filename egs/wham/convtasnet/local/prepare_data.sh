#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <wham-dir> <data-dir>
#  e.g.: local/prepare_data.sh --task sep_clean --sample-rate 8k --mode min /data/wham_wav data/sep_clean_8k_min
#        local/prepare_data.sh --reverb true --task sep_noisy_reverb /data/whamr data/sep_noisy_reverb_8k_min
# Makes <data-dir>/{tr,cv,tt}/ (wav.scp, spk1..N.scp, sources, [noise1.scp], utt2spk,
# utt2num_samples) from the published WHAM! layout
#   <wham-dir>/wav{8k,16k}/{min,max}/{tr,cv,tt}/{mix_clean,mix_single,mix_both,s1,s2,noise}/
# or, with --reverb true, the WHAMR! layout ({mix_*,s1,s2}_{anechoic,reverb}/ and noise/).
# Warns when a split has fewer mixtures than published (20000/5000/3000); a missing or
# empty folder is an error. Skips the work when <data-dir> was already prepared with
# the same arguments.
# Options:
#   --task sep_clean     WHAM!: sep_clean, sep_noisy, enh_single, enh_both;
#                        WHAMR!: the same with _anechoic or _reverb (e.g. sep_clean_reverb)
#   --reverb false       true: the corpus is WHAMR!
#   --sample-rate 8k     8k or 16k
#   --mode min           min or max
#   --sets tr,cv,tt      which splits to prepare
set -euo pipefail

task=
reverb=false
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

stamp="corpus=$(cd "$corpus" 2>/dev/null && pwd || echo "$corpus") reverb=$reverb task=$task"
stamp="$stamp sample_rate=$sample_rate mode=$mode sets=$sets"
opts=()
[ "$reverb" = true ] && opts+=(--reverb)
[ -n "$task" ] && opts+=(--task "$task")
utils/run_once.sh "$data/.prepare_data.done" "$stamp" \
  python "$here/prepare_wham.py" "${opts[@]}" --sample-rate "$sample_rate" --mode "$mode" \
  --sets "$sets" "$corpus" "$data"
echo "$0: done: $data ($sets)"
