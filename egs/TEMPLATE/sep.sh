# shellcheck shell=bash
# egs/TEMPLATE/sep.sh: the stages every recipe shares, written once (sourced, not run).
#
# A recipe's run.sh sets the defaults of its corpus options (and, if it likes, of the
# options below), defines two functions and sources this file last:
#   recipe_setup    runs after option parsing: checks the corpus options (e.g.
#                   check_choice --mode "$mode" min max) and sets data=<the folder
#                   holding the sets> and tag_suffix=<end of the default tag> (or tag=)
#   prepare_data    stage 1: the corpus on disk → $data/<set>/ (local/prepare_data.sh;
#                   require_option --corpus-dir "$corpus_dir" "the corpus folder")
# and may define hooks run for each test set after the template's own work of a stage:
#   recipe_separate <set>   stage 4: more separated sets, e.g. with other options, or an
#                           oracle (egs/mini_music/umx/run.sh: Wiener filter, oracle mask)
#   recipe_score <set>      stage 5: score them, write the recipe's own tables
# See egs/wsj0_2mix/convtasnet/run.sh for a corpus recipe, egs/mini/convtasnet/run.sh
# for one that makes its own corpus.
#
# Stages (--stage N --stop-stage M runs N..M; each can run alone, a rerun skips finished work):
#   0  tools/install.sh (the Python environment; idempotent)
#   1  prepare_data            corpus → $data/<set>/
#   2  utils/get_utt2num_samples.sh + utils/validate_data_dir.sh on every set
#   3  steps/train.sh          conf + $data/{<train-set>,<valid-set>} → exp/<tag>/
#   4  steps/separate.sh       exp/<tag> + $data/<set> → exp/<tag>/separate/<set>/, each test set
#   5  steps/score.sh          → exp/<tag>/separate/<set>/scores/RESULTS.md, each test set
#   6  steps/report.sh         → exp/<tag>/report/index.html (model card, curves, listening)
#   7  steps/pack.sh           → exp/<tag>/<tag>.tar.gz
# The sample rate is the data's: the config does not set it (training reads it from the
# training data), so a corpus option such as --sample-rate decides it, in stage 1.
#
# Options of every recipe:
#   --stage 0              first stage to run
#   --stop-stage 100       last stage to run (default: all)
#   --nj 4                 parallel jobs (lengths, separation, scoring; a recipe's header
#                          names its own default)
#   --ngpu 0               GPUs for training (0: CPU; >1: DDP) and separation (>0: cuda)
#   --conf <yaml>          training config (default conf/train.yaml)
#   --tag <tag>            experiment name: exp/<tag> (default <tag-prefix>[_<conf>]_<tag-suffix>,
#                          <conf> = the --conf file name less 'train' and '.yaml', e.g. ks2)
#   --tag-prefix <model>   first word of the default tag (default: the recipe folder's name)
#   --train-set <set>      training set, a folder of $data
#   --valid-set <set>      validation set (early stopping, best model)
#   --test-sets "<sets>"   the sets separated and scored (default: the valid and test sets)
#   --train-opts "<..>"    config overrides, e.g. "--training.batch_size 4 --optim.lr 5e-4"
#   --separate-opts "<..>" extra options of steps/separate.sh, e.g. "--chunk-seconds 8"
#   --score-opts "<..>"    extra options of steps/score.sh, e.g. "--metrics si_sdr,sdr"
#   --report-opts "<..>"   extra options of steps/report.sh, e.g. "--num-utts 5"
#   --force false          retrain a finished exp (steps/train.sh moves the old one aside)
# Job runners: cmd.sh ($train_cmd, $decode_cmd).

# Defaults; a recipe may have set any of them before sourcing this file.
: "${stage:=0}" "${stop_stage:=100}" "${nj:=4}" "${ngpu:=0}" "${conf:=conf/train.yaml}"
: "${tag:=}" "${tag_prefix:=$(basename "$(dirname "$(readlink -f "$0")")")}"
: "${train_set:=train}" "${valid_set:=dev}"
: "${test_sets:=$valid_set test}" "${train_opts:=}" "${separate_opts:=}" "${score_opts:=}"
: "${report_opts:=}"
: "${force:=false}"

_sep_template=${BASH_SOURCE[0]}
usage_files=("$0" "$_sep_template")
. ./cmd.sh
. utils/parse_options.sh
unset usage_files
. utils/lib/check_opts.sh
require_int --stage "$stage" 0
require_int --stop-stage "$stop_stage" 0
[ "$stop_stage" -ge "$stage" ] || {
  echo "$0: --stop-stage $stop_stage is before --stage $stage: nothing to run" >&2; exit 1; }
require_int --nj "$nj" 1
require_int --ngpu "$ngpu" 0
require_bool --force "$force"

if [ $# -ne 0 ]; then
  echo "$0: unexpected argument '$1' (see $0 --help)" >&2
  exit 1
fi
[ -f "$conf" ] || { echo "$0: config $conf not found" >&2; exit 1; }
check_choice() { require_choice "$@"; }  # check_choice <option> <value> <allowed>...
require_option() {  # require_option <option> <value> <what it is>: for prepare_data
  [ -n "$2" ] || { echo "$0: stage 1 needs $1 <$3>" >&2; exit 1; }
}
data=
tag_suffix=
install_opts=()
recipe_setup
[ -n "$data" ] || { echo "$0: recipe_setup did not set data=" >&2; exit 1; }
if [ -z "$tag" ]; then
  conf_name=$(basename "$conf" .yaml)
  conf_name=${conf_name#train}
  conf_name=${conf_name#_}  # conf/train.yaml: ""; conf/train_ks2.yaml: ks2; conf/my.yaml: my
  tag=${tag_prefix}${conf_name:+_$conf_name}${tag_suffix:+_$tag_suffix}
fi
exp=exp/$tag
read -r -a train_opts_a <<< "$train_opts"
read -r -a separate_opts_a <<< "$separate_opts"
read -r -a score_opts_a <<< "$score_opts"
read -r -a report_opts_a <<< "$report_opts"
device=$([ "$ngpu" -gt 0 ] && echo cuda || echo cpu)
all_sets=$(printf '%s\n' "$train_set" "$valid_set" $test_sets | awk '!seen[$0]++')

_sep_ran=  # the stages run, for the last line (--stop-stage defaults to 100: "all")
_sep_stage() {  # _sep_stage N "what": true if stage N is to run (and says so)
  if [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; then
    echo "$0: stage $1: $2"
    _sep_ran="$_sep_ran $1"
    _sep_start=$(date +%s)
    return 0
  fi
  return 1
}
_sep_took() { echo "$0: stage $1 took $(( $(date +%s) - _sep_start )) s"; }

if _sep_stage 0 "tools/install.sh"; then
  "$SEPCORE_ROOT/tools/install.sh" ${install_opts[@]+"${install_opts[@]}"}
  . ./path.sh  # again: on a fresh clone the venv exists only now
fi

if _sep_stage 1 "data preparation → $data"; then
  prepare_data
  _sep_took 1
fi

if _sep_stage 2 "validate data dirs, lengths"; then
  for set in $all_sets; do
    utils/get_utt2num_samples.sh --nj "$nj" --cmd "$train_cmd" "$data/$set"
    utils/validate_data_dir.sh "$data/$set"
  done
fi

if _sep_stage 3 "training → $exp"; then
  steps/train.sh --cmd "$train_cmd" --ngpu "$ngpu" --force "$force" "$conf" \
    "$data/$train_set" "$data/$valid_set" "$exp" -- ${train_opts_a[@]+"${train_opts_a[@]}"}
  _sep_took 3
fi

if _sep_stage 4 "separating $test_sets"; then
  for set in $test_sets; do
    steps/separate.sh --nj "$nj" --cmd "$decode_cmd" --device "$device" \
      ${separate_opts_a[@]+"${separate_opts_a[@]}"} "$exp" "$data/$set" "$exp/separate/$set"
    if declare -F recipe_separate >/dev/null; then recipe_separate "$set"; fi
  done
fi

if _sep_stage 5 "scoring $test_sets"; then
  for set in $test_sets; do
    steps/score.sh --nj "$nj" --cmd "$decode_cmd" ${score_opts_a[@]+"${score_opts_a[@]}"} \
      "$data/$set" "$exp/separate/$set" > /dev/null
    if declare -F recipe_score >/dev/null; then recipe_score "$set"; fi
  done
  echo "$0: $exp/separate/$set/scores/RESULTS.md"
  cat "$exp/separate/$set/scores/RESULTS.md"
fi

if _sep_stage 6 "report"; then
  index=$(steps/report.sh ${report_opts_a[@]+"${report_opts_a[@]}"} "$exp")
  echo "$0: report: $index (open it in a browser; the folder can be zipped alone)"
fi

if _sep_stage 7 "packing"; then
  steps/pack.sh "$exp"
fi
# The last line, once the recipe's file (and egs/TEMPLATE/enh.sh, sourced after this one)
# has run every stage it has: the stages that ran, or an error when none did.
_sep_done() {
  local rc=$? ran
  [ "$rc" -eq 0 ] || return "$rc"
  read -r -a ran <<< "$_sep_ran" || true
  if [ "${#ran[@]}" -eq 0 ]; then
    echo "$0: no stage ran: --stage $stage is after the last stage of this recipe" >&2
    exit 1
  fi
  if [ "${#ran[@]}" -eq 1 ]; then echo "$0: done (stage ${ran[0]})"
  else echo "$0: done (stages ${ran[0]}..${ran[${#ran[@]} - 1]})"; fi
}
trap _sep_done EXIT
