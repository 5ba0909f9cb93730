#!/usr/bin/env bash
# Usage: utils/get_utt2num_samples.sh [--nj N] [--cmd run.pl] <data-dir>
#  e.g.: utils/get_utt2num_samples.sh --nj 4 data/train
#
# Writes <data-dir>/utt2num_samples ('<utt> <samples>', sorted, written at once)
# from the headers of the audio in wav.scp (python -m sepcore.bin.utt2num_samples).
# Nothing is done if utt2num_samples is newer than wav.scp and has its ids.
# With --nj N, wav.scp is split in N parts run as N jobs through --cmd; their
# logs are in <data-dir>/.utt2num_samples/log/ (kept if a job fails).
#
# Options:
#   --nj N       number of parallel jobs (default 1)
#   --cmd CMD    job runner: run.pl, slurm.pl, queue.pl ... (default run.pl)
set -euo pipefail

nj=1
cmd=run.pl
utils=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=utils/parse_options.sh
. "$utils/parse_options.sh"
# shellcheck source=utils/lib/check_opts.sh
. "$utils/lib/check_opts.sh"
require_int --nj "$nj" 1

if [ $# -ne 1 ]; then
  echo "get_utt2num_samples.sh: expected one argument <data-dir>, got $# (see --help)" >&2
  exit 1
fi
data=${1%/}
export LC_ALL=C
root=$(dirname "$utils")
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
export PATH=$utils:$PATH
python=python3
[ -x "$root/tools/venv/bin/python" ] && python=$root/tools/venv/bin/python

if [ ! -f "$data/wav.scp" ]; then
  echo "get_utt2num_samples.sh: $data/wav.scp: file not found" >&2
  exit 1
fi
out=$data/utt2num_samples
if [ -f "$out" ] && [ "$out" -nt "$data/wav.scp" ] &&
   cmp -s <(awk '{print $1}' "$data/wav.scp" | sort) <(awk '{print $1}' "$out"); then
  echo "get_utt2num_samples.sh: $out is up to date"
  exit 0
fi

num_utts=$(wc -l < "$data/wav.scp")
[ "$nj" -gt "$num_utts" ] && nj=$num_utts
[ "$nj" -lt 1 ] && { echo "get_utt2num_samples.sh: $data/wav.scp is empty" >&2; exit 1; }

tmp=$data/.utt2num_samples
rm -rf "$tmp"
mkdir -p "$tmp/log"
parts=()
for k in $(seq "$nj"); do parts+=("$tmp/wav.$k.scp"); done
# (paths relative to the data dir, sepcore/io/scp.py, are rebased to the parts' folder)
"$utils/rebase_scp.pl" "$data" ../ < "$data/wav.scp" > "$tmp/wav.scp"
split_scp.pl "$tmp/wav.scp" "${parts[@]}"

$cmd JOB=1:"$nj" "$tmp/log/utt2num_samples.JOB.log" \
  "$python" -m sepcore.bin.utt2num_samples "$tmp/wav.JOB.scp" "$tmp/utt2num_samples.JOB"

for k in $(seq "$nj"); do cat "$tmp/utt2num_samples.$k"; done | sort > "$tmp/all"
mv "$tmp/all" "$out"
rm -rf "$tmp"
echo "get_utt2num_samples.sh: wrote $out ($num_utts utterances)"
