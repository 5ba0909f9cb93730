#!/usr/bin/env bash
# Usage: local/prepare_data.sh [options] <corpus-dir> <data-root>
#  e.g.: local/prepare_data.sh --nj 2 --seed 0 corpus data
#
# Renders the mini music corpus (local/make_corpus.py): songs from seeded random MIDI,
# one fluidsynth render per stem (drums, bass, other, vocals), 44.1 kHz stereo, mixture =
# the exact sum of the stems, split by song. Writes
#   <corpus-dir>/{train,dev,test}/<song>/{mixture,drums,bass,other,vocals}.wav, songs.tsv
#   <data-root>/{train,dev,test}/{wav.scp,spk1..4.scp,sources,utt2num_samples}
# The same options give byte-identical audio. Skipped when <data-root> was prepared with
# the same options (utils/lib/corpus_prep.sh). Needs the fluidsynth program and a GM soundfont (Debian packages
# fluidsynth, timgm6mb-soundfont; tools/install.sh installs them as root).
#
# Options:
#   --nj <2>               parallel renders
#   --seed <0>             random seed (tempo, key, progression, instruments, pans, levels)
#   --songs <24,4,6>       train,dev,test song counts
#   --seconds <30>         length of every song
set -euo pipefail

nj=2
seed=0
songs=24,4,6
seconds=30

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/lib/corpus_prep.sh"

prep_args corpus data -- "$@"
prep_need_programs \
  "run tools/install.sh as root (or: apt-get install -y fluidsynth timgm6mb-soundfont)" fluidsynth
prep_once "$data" "seed=$seed songs=$songs seconds=$seconds" \
  "$PYTHON" "$(dirname "$0")/make_corpus.py" --nj "$nj" --seed "$seed" \
  --songs "$songs" --seconds "$seconds" "$corpus" "$data"
