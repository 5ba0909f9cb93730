# shellcheck shell=bash
# egs/TEMPLATE/enh.sh: the stages every speech-enhancement recipe adds after those of
# egs/TEMPLATE/sep.sh (sourced right after it, not run). The model's estimates of each
# set of $compare_sets are compared with the unprocessed input, the baselines and the
# ideal ratio mask in one table per set, per SNR when the data dir has utt2snr (--compare-by).
#
#   8  steps/enhance_baseline.sh  each of $baselines → exp/<method>/separate/<set>/
#   9  steps/oracle.sh            ideal ratio mask  → exp/oracle_irm/separate/<set>/
#  10  steps/score.sh             the baselines and the oracle, with $score_opts
#  11  steps/show_results.sh      → $exp/compare_<set>.md (input, baselines, oracle, model)
#
# Options (set before sourcing egs/TEMPLATE/sep.sh, so that --option works):
#   --baselines "rnnoise spectral_gating"  the methods of steps/enhance_baseline.sh
#   --compare-sets "<sets>"                default: the test sets other than the valid set
#   --compare-metrics si_sdr,pesq          the metrics of the comparison table
#   --compare-by snr                       its columns: snr, noise_type or mask_type (the
#                                          data dir's utt2snr, utt2noise_type, utt2mask_type)

: "${baselines:=rnnoise spectral_gating}" "${compare_sets:=}" "${compare_metrics:=si_sdr,pesq}"
: "${compare_by:=snr}"
if [ -z "$compare_sets" ]; then
  for set in $test_sets; do
    [ "$set" = "$valid_set" ] || compare_sets="$compare_sets $set"
  done
fi
systems="$baselines oracle_irm"

if _sep_stage 8 "baselines ($baselines) on:$compare_sets"; then
  for set in $compare_sets; do
    for method in $baselines; do
      steps/enhance_baseline.sh --nj "$nj" --cmd "$decode_cmd" --method "$method" \
        "$data/$set" "exp/$method/separate/$set"
    done
  done
  _sep_took 8
fi

if _sep_stage 9 "oracle ideal ratio mask on:$compare_sets"; then
  for set in $compare_sets; do
    steps/oracle.sh --nj "$nj" --cmd "$decode_cmd" "$data/$set" "exp/oracle_irm/separate/$set"
  done
fi

if _sep_stage 10 "scoring the baselines and the oracle"; then
  for set in $compare_sets; do
    for method in $systems; do
      steps/score.sh --nj "$nj" --cmd "$decode_cmd" ${score_opts_a[@]+"${score_opts_a[@]}"} \
        "$data/$set" "exp/$method/separate/$set" > /dev/null
    done
  done
  _sep_took 10
fi

if _sep_stage 11 "comparison tables"; then
  for set in $compare_sets; do
    dirs=()
    for method in $systems; do dirs+=("exp/$method/separate/$set"); done
    steps/show_results.sh --by "$compare_by" --metrics "$compare_metrics" --input true \
      "${dirs[@]}" "$exp/separate/$set" > "$exp/compare_$set.md"
    echo "$0: $exp/compare_$set.md"
    cat "$exp/compare_$set.md"
  done
fi
