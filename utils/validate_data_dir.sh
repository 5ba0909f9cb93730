#!/usr/bin/env bash
# Usage: utils/validate_data_dir.sh [--no-audio-check] [--channels N] [--outside warn|error] <data-dir>
#  e.g.: utils/validate_data_dir.sh data/train
#
# Checks a data dir against the contract (DESIGN.md):
#   - wav.scp exists and is not empty;
#   - every '<id> <value>' file (*.scp, utt2*, text, spk2utt) is sorted as
#     'LC_ALL=C sort' sorts, with unique ids and no empty or malformed lines;
#   - spk*.scp are spk1.scp..spkN.scp with nothing missing in between;
#   - wav.scp, spk*.scp, noise*.scp, utt2num_samples, utt2spk (and any other
#     *.scp / utt2* file) hold exactly the same ids;
#   - 'sources', if present, is one line with N different names;
#   - utt2num_samples values are integers > 0;
#   - audio files named in wav.scp, spk*.scp and noise*.scp exist (entries ending
#     in '|' are commands and are not run) unless --no-audio-check. Relative paths
#     are resolved as sepcore reads them: against the data dir first, then against
#     the current folder (README: data and experiment dirs);
#   - files outside the data dir: a relative path that resolves only against the
#     current folder is reported as a warning (a copy of the dir, or a run from
#     another folder, would not find it); every file outside the dir (absolute
#     paths included) is an error with --outside error;
#   - then, if all of the above holds, their headers (python -m sepcore.bin.validate_audio:
#     no decoding, ~20 us a file): no file without samples (mixture or reference), the
#     frames of every file equal to utt2num_samples (or, without it, to its mixture's),
#     the sample rate and channels of every reference equal to its mixture's, and with
#     --channels N, N channels in every mixture.
# Every fault is listed as 'validate_data_dir.sh: <file>:<line>: <what is wrong>'
# (at most 20 per file) on stderr, and the exit status is 1. On success prints
# 'validate_data_dir.sh: <dir>: OK (<n> utterances, <N> sources)'.
#
# Options:
#   --no-audio-check   do not check the audio files (neither that they exist nor headers)
#   --channels N       every mixture must have N channels (1: a single-channel recipe)
#   --outside warn|error  files outside the data dir: warn about relative paths that
#                      point outside it (default), or make every one an error
set -euo pipefail
export LC_ALL=C
prog=validate_data_dir.sh

audio_check=1
channels=
outside=warn
while [ $# -gt 0 ]; do
  case "$1" in
    --no-audio-check) audio_check=0; shift ;;
    --channels)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || {
        echo "$prog: --channels must be an integer >= 1, got '${2:-}'" >&2; exit 1; }
      channels=$2; shift 2 ;;
    --outside)
      case "${2:-}" in
        warn|error) outside=$2; shift 2 ;;
        *) echo "$prog: --outside expects warn or error, got '${2:-}'" >&2; exit 1 ;;
      esac ;;
    --help|-h) sed -n '/^# Usage:/,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "$prog: unknown option $1 (see $prog --help)" >&2; exit 1 ;;
    *) break ;;
  esac
done
if [ $# -ne 1 ]; then
  echo "$prog: expected one argument <data-dir>, got $# (see $prog --help)" >&2
  exit 1
fi
data=${1%/}
if [ ! -d "$data" ]; then
  echo "$prog: $data: no such directory" >&2
  exit 1
fi
if [ ! -f "$data/wav.scp" ]; then
  echo "$prog: $data/wav.scp: file not found (a data dir needs wav.scp)" >&2
  exit 1
fi

report=$(mktemp)
outside_list=$(mktemp)
trap 'rm -f "$report" "$outside_list"' EXIT
abs_data=$(cd "$data" && pwd)
real_data=$(readlink -f "$data")

# check <file> <kind: audio|int|plain> <compare ids with wav.scp: 0|1>
check() {
  awk -v name="$1" -v kind="$2" -v cmp="$3" -v ref="$data/wav.scp" -v audio="$audio_check" \
      -v prog="$prog" -v max=20 -v dir="$data" -v absdir="$abs_data" -v realdir="$real_data" \
      -v outside_list="$outside_list" '
    function fault(msg) { if (++n <= max) print prog ": " msg }
    BEGIN {
      if (cmp) while ((getline line < ref) > 0) {
        split(line, f, /[ \t]+/); id = f[1] == "" ? f[2] : f[1]
        if (id != "" && !(id in inref)) { inref[id] = 1; order[++nref] = id }
      }
    }
    {
      where = name ":" FNR ": "
      if ($0 ~ /\r$/) { fault(where "line ends in a carriage return (DOS line endings)"); sub(/\r$/, "") }
      if (NF == 0) { fault(where "empty line (expected <id> <value>)"); next }
      if (NF < 2) { fault(where "expected <id> <value>, got \"" $0 "\""); next }
      if ($0 ~ /^[ \t]/) { fault(where "line starts with white space (an empty id)"); next }
      id = $1 ""
      if (id in seen) fault(where "id " id " repeated (first on line " seen[id] ")")
      else if (have_prev && id < prev) fault(where "not sorted: id " id " after " prev \
                                           " (sort it with LC_ALL=C sort)")
      if (!(id in seen)) seen[id] = FNR
      prev = id; have_prev = 1
      if (cmp && !(id in inref)) fault(where "id " id " is not in " ref)
      if (kind == "int" && (NF != 2 || $2 !~ /^[0-9]+$/ || $2 + 0 <= 0))
        fault(where "expected a positive integer number of samples, got \"" substr($0, length($1) + 2) "\"")
      if (kind == "audio" && audio) {
        value = $0; sub(/^[ \t]*[^ \t]+[ \t]+/, "", value); sub(/[ \t]+$/, "", value)
        if (value !~ /\|$/) {
          path = value
          up = value ~ /(^|\/)\.\.(\/|$)/
          if (value !~ /^\//) {  # relative: the data dir first, then the current folder
            path = dir "/" value
            if ((getline dummy < path) < 0) { close(path); if ((getline dummy < value) >= 0) { path = value; up = 2 } }
          }
          if ((getline dummy < path) < 0)
            fault(where "audio file " value " not found" (value ~ /^\// ? "" : " (looked in " dir \
                  "/ and in the current folder)"))
          else if (up == 2) print "relative " name ":" FNR ": " value >> outside_list
          else if (up || (value ~ /^\// && index(value, absdir "/") != 1 && index(value, realdir "/") != 1))
            print "outside " name ":" FNR ": " value >> outside_list
          close(path)
        }
      }
    }
    END {
      if (FNR == 0 && NR == 0) fault(name ": file is empty")
      for (i = 1; i <= nref; i++) if (!(order[i] in seen)) fault(name ": id " order[i] \
                                                               " of " ref " is missing")
      if (n > max) print prog ": " name ": ... and " n - max " more faults"
    }' "$1" >> "$report"
}

check "$data/wav.scp" audio 0
num_sources=0  # the highest k of spk<k>.scp
for f in "$data"/spk[0-9]*.scp; do
  k=${f##*/spk}; k=${k%.scp}
  if [[ $k =~ ^[0-9]+$ ]] && [ "$((10#$k))" -gt "$num_sources" ]; then num_sources=$((10#$k)); fi
done
for k in $(seq "$num_sources"); do
  if [ ! -f "$data/spk$k.scp" ]; then
    # shellcheck disable=SC2012
    found=$(cd "$data" && ls spk[0-9]*.scp | sort -V | tr '\n' ' ')
    echo "$prog: $data/spk$k.scp: file not found (sources must be spk1.scp..spk$num_sources.scp" \
      "with none missing; found: ${found% })" >> "$report"
  fi
done
for f in "$data"/*; do
  [ -f "$f" ] || continue
  case "$(basename "$f")" in
    wav.scp) ;;
    spk[0-9]*.scp|noise*.scp) check "$f" audio 1 ;;
    utt2num_samples) check "$f" int 1 ;;
    *.scp|utt2*|text) check "$f" plain 1 ;;
    spk2utt) check "$f" plain 0 ;;
  esac
done
if [ -f "$data/sources" ]; then
  awk -v name="$data/sources" -v n="$num_sources" -v prog="$prog" '
    NR == 1 && NF != n { print prog ": " name ":1: expected " n " names (one per spk*.scp), got " NF }
    NR == 1 { for (i = 1; i <= NF; i++) if (seen[$i]++) print prog ": " name ":1: name " $i " repeated" }
    NR == 2 { print prog ": " name ":2: expected one line of names" }
    END { if (NR == 0) print prog ": " name ": file is empty (expected " n " names)" }' \
    "$data/sources" >> "$report"
fi

n_rel=$(grep -c '^relative ' "$outside_list" || true)
n_out=$(grep -c '^outside ' "$outside_list" || true)
if [ "$n_rel" -gt 0 ]; then
  first=$(grep -m1 '^relative ' "$outside_list"); first=${first#relative }
  msg="$n_rel audio paths are relative to the current folder, not to the data dir, e.g. $first: a copy of $data, or a run from another folder, would not find them (write the dir again with sepcore.data.DataDir.write, or use absolute paths)"
  if [ "$outside" = error ]; then echo "$prog: $msg" >> "$report"; else echo "$prog: warning: $msg" >&2; fi
fi
if [ "$outside" = error ] && [ "$n_out" -gt 0 ]; then
  first=$(grep -m1 '^outside ' "$outside_list"); first=${first#outside }
  echo "$prog: $n_out audio files are outside $data, e.g. $first (--outside error)" >> "$report"
fi

if [ "$audio_check" = 1 ] && [ ! -s "$report" ]; then
  root=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
  python=python3
  [ -x "$root/tools/venv/bin/python" ] && python=$root/tools/venv/bin/python
  # exit status 1: faults, listed on stdout; anything else: its own error on stderr
  PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH} "$python" -m sepcore.bin.validate_audio \
    ${channels:+--channels "$channels"} "$data" | sed "s/^/$prog: /" >> "$report" ||
    [ -s "$report" ] || { echo "$prog: $data: the audio check failed" >&2; exit 1; }
fi

if [ -s "$report" ]; then
  cat "$report" >&2
  echo "$prog: $data: FAILED ($(grep -vc ' more faults$' "$report") problems listed above)" >&2
  exit 1
fi
echo "$prog: $data: OK ($(wc -l < "$data/wav.scp") utterances, $num_sources sources)"
