#!/usr/bin/env bash
# Usage: ./run.sh --target-dir DIR --interference-dir DIR [options]
#  e.g.: ./run.sh --target-dir example/speech --interference-dir example/music
#        ./run.sh --target-dir ~/vocals --interference-dir ~/noises --target-name voice
#        ./run.sh --conf conf/tiny.yaml ...   (smoke test: seconds)
#
# "Keep this, remove that" from two folders of audio: every file under --target-dir is
# the source to keep, every file under --interference-dir what to remove (any format
# soundfile reads: wav, flac, mp3, ogg, opus; any rate and channels, recursively; mixed
# down and resampled to --sample-rate by sepcore's resampler). Each folder is split by
# file into train / dev / test; training mixes a target and an interference window on
# the fly at an SNR of the config's data.snr_range (data.dataset: noisy), dev and test
# are fixed mixtures at SNRs uniform in [--snr-min, --snr-max]. A one-source ConvTasNet
# learns the target; `sepcore-separate --model exp/<tag>/<tag>.tar.gz song.wav` writes
# song_<target>.wav and song_<interference>.wav (the input minus the target), named from
# the folders or from --target-name / --interference-name. Stages 0-7 are those of every
# recipe (egs/TEMPLATE/sep.sh); <tag> defaults to convtasnet[_<conf>]_<target>-<interference>.
#
# Corpus options (stage 1; later stages read the names from data/names):
#   --target-dir <>          folder of the audio to keep (required for stage 1)
#   --interference-dir <>    folder of the audio to remove (required for stage 1)
#   --target-name <>         output name of the target (default: the folder's name)
#   --interference-name <>   output name of the residual (default: the folder's name)
#   --sample-rate 16000      the rate everything is resampled to (the model's rate)
#   --dev-fraction 0.1       of each folder's files (at least one)
#   --test-fraction 0.1      of each folder's files (at least one)
#   --snr-min -5 --snr-max 10  dev/test mixtures: target over interference, dB
#   --max-seconds 10         dev/test mixtures: at most this much of each target file
#   --seed 0                 split and mixture seed
#   --nj 2                   (this recipe's default)
set -euo pipefail

target_dir=
interference_dir=
target_name=
interference_name=
# local/prepare_data.sh's own options: passed on when given, else its defaults hold
prep_options=(sample_rate dev_fraction test_fraction snr_min snr_max max_seconds seed)
for o in "${prep_options[@]}"; do printf -v "$o" ''; done
nj=2
score_opts="--metrics si_sdr,sdr"

recipe_setup() {
  data=data
  local t="" i=""
  [ -f "$data/names" ] && read -r t i < "$data/names"
  if [ -n "$target_dir" ] || [ -n "$interference_dir" ]; then
    t=$(basename "$(readlink -f "${target_dir:-.}")")
    i=$(basename "$(readlink -f "${interference_dir:-.}")")
  fi
  target_name=${target_name:-$t}
  interference_name=${interference_name:-$i}
  local n
  for n in "$target_name" "$interference_name"; do
    [[ -z "$n" || "$n" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "$0: the output name '$n' (from a" \
      "folder's name) must be letters, digits, '.', '_' or '-': give --target-name and" \
      "--interference-name" >&2; exit 1; }
  done
  if [ "$stage" -gt 1 ] && [ -f "$data/names" ] \
      && [ "$(cat "$data/names")" != "$target_name $interference_name" ]; then
    echo "$0: $data was prepared for '$(cat "$data/names")', not '$target_name $interference_name'" \
         "(rerun stage 1)" >&2
    exit 1
  fi
  if [ -n "$interference_name" ]; then
    train_opts="--residual_name $interference_name $train_opts"
    tag_suffix=$target_name-$interference_name
  fi
}

prepare_data() {
  require_option --target-dir "$target_dir" "the folder of audio to keep"
  require_option --interference-dir "$interference_dir" "the folder of audio to remove"
  local o opts=()
  for o in "${prep_options[@]}"; do [ -z "${!o}" ] || opts+=("--${o//_/-}" "${!o}"); done
  local/prepare_data.sh --target-name "$target_name" --interference-name "$interference_name" \
    ${opts[@]+"${opts[@]}"} "$target_dir" "$interference_dir" corpus "$data"
}

. ./path.sh
. "$SEPCORE_ROOT/egs/TEMPLATE/sep.sh"
