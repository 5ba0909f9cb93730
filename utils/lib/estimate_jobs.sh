# shellcheck shell=bash
# utils/lib/estimate_jobs.sh: what the steps that write estimates of every utterance of a
# data dir (steps/separate.sh with a model; steps/oracle.sh, steps/enhance_baseline.sh
# without) do around their Python program, written once (sourced, not run; after
# utils/parse_options.sh, which sets the caller's $nj and $cmd).
#
#   estimates_data <data-dir> <why spk1.scp>
#       <data-dir>/wav.scp (not empty) and spk1.scp exist, or an error naming the file
#       (and <why>); sets num_utts and lowers nj to it
#   estimates_run <program> <what> <data-dir> <out-dir> [program args...]
#       python -m sepcore.bin.<program> --data-dir <data-dir> --out-dir <out-dir>
#       --job JOB --num-jobs $nj [args] as $nj jobs of $cmd (logs:
#       <out-dir>/log/<program>.JOB.log), then utils/merge_scp_parts.sh: the estimates in
#       the form steps/separate.sh writes (<out-dir>/spkN.scp, sources); says
#       "<what> estimates of ..." before and what it wrote after, or "<what> failed"

_estimate_jobs_utils=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

estimates_data() {
  local data=$1 why=$2
  [ -f "$data/wav.scp" ] || { echo "$0: $data/wav.scp not found (expected a data dir)" >&2; exit 1; }
  [ -f "$data/spk1.scp" ] || { echo "$0: $data/spk1.scp not found ($why)" >&2; exit 1; }
  num_utts=$(wc -l < "$data/wav.scp")
  [ "$num_utts" -ge 1 ] || { echo "$0: $data/wav.scp is empty" >&2; exit 1; }
  [ "$nj" -le "$num_utts" ] || nj=$num_utts
}

estimates_run() {
  local program=$1 what=$2 data=$3 out=$4
  shift 4
  mkdir -p "$out/log"
  rm -rf "$out/.parts"
  echo "$0: $what estimates of $num_utts utterances of $data into $out ($nj jobs)"
  $cmd JOB=1:"$nj" "$out/log/$program.JOB.log" \
    python -m "sepcore.bin.$program" --data-dir "$data" --out-dir "$out" \
      --job JOB --num-jobs "$nj" "$@" ||
    { echo "$0: $what failed; see $out/log/$program.*.log" >&2; exit 1; }
  "$_estimate_jobs_utils/merge_scp_parts.sh" "$out" "$num_utts"
  echo "$0: wrote $out/spk{1..$(wc -w < "$out/sources")}.scp and $out/sources ($(cat "$out/sources"))"
}
