#!/usr/bin/env bash
# Usage: utils/split_data_dir.sh [--per-spk false] <data-dir> <nj>
#  e.g.: utils/split_data_dir.sh data/test 4     # -> data/test/split4/{1,2,3,4}/
#
# Splits a data dir into <nj> parts of near-equal size (contiguous runs of the
# utterance ids of wav.scp), written to <data-dir>/split<nj>/<k>/ for k = 1..nj.
# Every per-utterance file (wav.scp, spk*.scp, noise*.scp, utt2num_samples,
# utt2spk, and any other file whose first column holds utterance ids) is filtered
# to the part's ids; spk2utt is rebuilt from utt2spk; 'sources' and any other
# file are copied. Nothing is done if the split is newer than every file of the
# data dir. It is an error to ask for more parts than there are utterances.
#
# Options:
#   --per-spk true   keep all utterances of a speaker (utt2spk) in one part
set -euo pipefail

per_spk=false
# shellcheck source=utils/parse_options.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/parse_options.sh"

if [ $# -ne 2 ]; then
  echo "split_data_dir.sh: expected 2 arguments <data-dir> <nj>, got $#" >&2
  echo "see: split_data_dir.sh --help" >&2
  exit 1
fi
data=${1%/}
nj=$2
utils=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
export LC_ALL=C

if ! [[ $nj =~ ^[1-9][0-9]*$ ]]; then
  echo "split_data_dir.sh: <nj> must be a positive integer, got '$nj'" >&2
  exit 1
fi
if [ ! -f "$data/wav.scp" ]; then
  echo "split_data_dir.sh: $data/wav.scp: file not found (is '$data' a data dir?)" >&2
  exit 1
fi
if [ "$per_spk" = true ] && [ ! -f "$data/utt2spk" ]; then
  echo "split_data_dir.sh: --per-spk true needs $data/utt2spk" >&2
  exit 1
fi

num_utts=$(wc -l < "$data/wav.scp")
if [ "$nj" -gt "$num_utts" ]; then
  echo "split_data_dir.sh: cannot split the $num_utts utterances of $data into $nj parts" >&2
  exit 1
fi

split=$data/split$nj
marker=$split/.done
if [ -f "$marker" ] && [ -z "$(find "$data" -maxdepth 1 -type f -newer "$marker" | head -n 1)" ]; then
  exit 0  # up to date
fi

tmp=$(mktemp -d "$data/.split$nj.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

spk_opt=()
[ "$per_spk" = true ] && spk_opt=(--utt2spk="$data/utt2spk")
parts=()
for k in $(seq "$nj"); do
  mkdir "$tmp/$k"
  parts+=("$tmp/$k/.ids")
done
awk '{print $1}' "$data/wav.scp" > "$tmp/ids"
"$utils/split_scp.pl" "${spk_opt[@]}" "$data/wav.scp" "${parts[@]}"  # ids = first column

# A file is split if its name says it is per-utterance, or if every first field
# is an utterance id of wav.scp.
is_per_utt() {
  case "$(basename "$1")" in
    *.scp|utt2*|text) return 0 ;;
    sources|spk2utt) return 1 ;;
  esac
  awk 'NR == FNR { ids[$1] = 1; next } !($1 in ids) || NF < 2 { bad = 1; exit }
       END { exit bad }' "$tmp/ids" "$1"
}

for f in "$data"/*; do
  [ -f "$f" ] || continue
  name=$(basename "$f")
  if [ "$name" = spk2utt ]; then
    continue
  elif is_per_utt "$f"; then
    for k in $(seq "$nj"); do
      if [[ $name == *.scp ]]; then  # paths relative to the data dir: from split<nj>/<k>/
        "$utils/filter_scp.pl" "$tmp/$k/.ids" "$f" | "$utils/rebase_scp.pl" "$data" ../../ \
          > "$tmp/$k/$name"
      else
        "$utils/filter_scp.pl" "$tmp/$k/.ids" "$f" > "$tmp/$k/$name"
      fi
    done
  else
    for k in $(seq "$nj"); do cp "$f" "$tmp/$k/$name"; done
  fi
done
if [ -f "$data/spk2utt" ] && [ -f "$data/utt2spk" ]; then
  for k in $(seq "$nj"); do
    awk '{ u[$2] = u[$2] " " $1; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
         END { for (i = 1; i <= n; i++) print order[i] u[order[i]] }' "$tmp/$k/utt2spk" |
      sort > "$tmp/$k/spk2utt"
  done
fi
for k in $(seq "$nj"); do rm "$tmp/$k/.ids"; done
rm "$tmp/ids"
touch "$tmp/.done"

rm -rf "$split"
mv "$tmp" "$split"
trap - EXIT
