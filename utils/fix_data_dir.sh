#!/usr/bin/env bash
# Usage: utils/fix_data_dir.sh <data-dir>
#  e.g.: utils/fix_data_dir.sh data/train && utils/validate_data_dir.sh data/train
#
# Makes a data dir consistent, the way Kaldi's fix_data_dir.sh does:
#   - sorts every per-utterance file (wav.scp, spk*.scp, noise*.scp, utt2num_samples,
#     utt2spk, any other *.scp / utt2* file, text) with LC_ALL=C, dropping empty
#     lines and keeping the first line of a repeated id;
#   - drops utt2num_samples lines whose value is not an integer > 0;
#   - keeps only the utterances present in all of those files;
#   - rebuilds spk2utt from utt2spk if there is one.
# The original files are saved in <data-dir>/.backup/ first. Prints how many
# utterances were kept and what each file lost.
set -euo pipefail
export LC_ALL=C
prog=fix_data_dir.sh

case "${1:-}" in
  -h|--help) sed -n '/^# Usage:/,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
if [ $# -ne 1 ]; then
  echo "$prog: expected one argument <data-dir>, got $# (see $prog --help)" >&2
  exit 1
fi
data=${1%/}
if [ ! -f "$data/wav.scp" ]; then
  echo "$prog: $data/wav.scp: file not found (a data dir needs wav.scp)" >&2
  exit 1
fi

files=()
for f in "$data"/*; do
  [ -f "$f" ] || continue
  case "$(basename "$f")" in
    *.scp|utt2*|text) files+=("$f") ;;
  esac
done

tmp=$(mktemp -d "$data/.fix.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$data/.backup"

# 1. clean and sort each file; 2. the ids common to all of them.
for f in "${files[@]}"; do
  name=$(basename "$f")
  cp "$f" "$data/.backup/$name"
  if [ "$name" = utt2num_samples ]; then
    # shellcheck disable=SC2016  # an awk program
    filter='NF == 2 && $2 ~ /^[0-9]+$/ && $2 + 0 > 0'
  else
    filter='NF >= 2'
  fi
  sed 's/\r$//' "$f" | awk "$filter" | sort -s -k1,1 | awk '!seen[$1]++' > "$tmp/$name"
  awk '{print $1}' "$tmp/$name" > "$tmp/$name.ids"
done
cp "$tmp/wav.scp.ids" "$tmp/common"
for f in "${files[@]}"; do
  name=$(basename "$f")
  comm -12 "$tmp/common" "$tmp/$name.ids" > "$tmp/common.new"
  mv "$tmp/common.new" "$tmp/common"
done

# 3. keep the common ids everywhere and report what each file lost.
before=$(wc -l < "$tmp/wav.scp.ids")
for f in "${files[@]}"; do
  name=$(basename "$f")
  n_in=$(wc -l < "$f")
  awk 'NR == FNR { keep[$1] = 1; next } $1 in keep' "$tmp/common" "$tmp/$name" > "$tmp/$name.out"
  n_out=$(wc -l < "$tmp/$name.out")
  mv "$tmp/$name.out" "$f"
  if [ "$n_out" -ne "$n_in" ]; then
    echo "$prog: $f: $n_in -> $n_out lines"
  fi
done
if [ -f "$data/utt2spk" ]; then
  [ -f "$data/spk2utt" ] && cp "$data/spk2utt" "$data/.backup/spk2utt"
  awk '{ u[$2] = u[$2] " " $1 } END { for (s in u) print s u[s] }' "$data/utt2spk" |
    sort > "$data/spk2utt"
fi
after=$(wc -l < "$data/wav.scp")
echo "$prog: $data: kept $after of the $before utterances of wav.scp (originals in $data/.backup/)"
