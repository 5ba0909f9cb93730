# shellcheck shell=bash
# utils/lib/corpus_prep.sh: what every corpus prep (egs/*/*/local/prepare_data.sh) does
# around its Python program, written once (sourced, not run).
#
# A prep sets its option defaults, sources utils/parse_options.sh itself (so that --help
# and option errors name the prep), then this file, e.g.
#   . "$(dirname "$0")/../utils/parse_options.sh"
#   . "$(dirname "$0")/../utils/lib/corpus_prep.sh"
#   prep_args corpus data -- "$@"
#   prep_need_programs "run tools/install.sh as root" fluidsynth
#   prep_once "$data" "$(prep_corpus_stamp "$corpus") seed=$seed" \
#     "$PYTHON" "$(dirname "$0")/prepare_x.py" --seed "$seed" "$corpus" "$data"
# Functions:
#   prep_args <name>... -- "$@" one argument per <name>, set as the variable <name>, or an
#                               error saying which were expected and how many came
#   prep_need_programs <hint> <program>...
#                               each program on PATH, or an error naming it and <hint>
#   prep_corpus_stamp <dir>     "corpus=<absolute dir>" (the path as given if it is not a
#                               folder: the prep's own check then names it)
#   prep_once <data-root> <stamp> <command> [args...]
#                               utils/run_once.sh with <data-root>/.prepare_data.done: runs
#                               <command> unless the same <stamp> finished there, then
#                               prints "<prep>: done: <data-root>"
# Sources ./path.sh when run from a recipe folder; sets PYTHON (default: python, the
# venv's once path.sh is sourced).

_corpus_prep_utils=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC1091
[ -f ./path.sh ] && . ./path.sh
PYTHON=${PYTHON:-python}

prep_args() {
  local names=() list= name
  while [ "$1" != -- ]; do names+=("$1"); list+="${list:+ }<$1>"; shift; done
  shift
  if [ $# -ne ${#names[@]} ]; then
    echo "$0: expected ${#names[@]} arguments, $list; got $# (see $0 --help)" >&2
    exit 1
  fi
  for name in "${names[@]}"; do printf -v "$name" '%s' "$1"; shift; done
}

prep_need_programs() {
  local hint=$1 prog
  shift
  for prog in "$@"; do
    command -v "$prog" > /dev/null || { echo "$0: '$prog' not found; $hint" >&2; exit 1; }
  done
}

prep_corpus_stamp() {
  echo "corpus=$(cd "$1" 2> /dev/null && pwd || echo "$1")"
}

prep_once() {
  local data=$1 stamp=$2
  shift 2
  mkdir -p "$data"
  "$_corpus_prep_utils/run_once.sh" "$data/.prepare_data.done" "$stamp" "$@"
  echo "$0: done: $data"
}
