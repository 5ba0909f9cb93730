# shellcheck shell=bash
# utils/lib/check_opts.sh: check option values at the edge, before anything runs (sourced).
#
#   require_int    <option> <value> [min [max]]   an integer (decimal digits) in [min, max]
#   require_number <option> <value> [min]         a decimal number >= min (default: any)
#   require_positive <option> <value>             a decimal number > 0
#   require_bool   <option> <value>               true or false
#   require_choice <option> <value> <allowed>...  one of the allowed words
#
# Each prints '<script>: <option> must be <what was expected>, got '<value>'' on stderr and
# exits 1 when the value is wrong, so '--nj x' fails with the option's name instead of a
# bash 'integer expression expected' deep inside a step. <option> is the option as the
# user writes it (--nj); an empty value is wrong for each (guard optional options with
# '[ -z "$x" ] || require_number ...').

_check_opts_fail() {  # _check_opts_fail <option> <value> <what>
  echo "$(basename "$0"): $1 must be $3, got '$2'" >&2
  exit 1
}

require_int() {
  local opt=$1 value=$2 min=${3:-} max=${4:-} what="an integer"
  if [ -n "$min" ] && [ -n "$max" ]; then what="an integer in [$min, $max]"
  elif [ -n "$min" ]; then what="an integer >= $min"
  fi
  [[ $value =~ ^-?[0-9]+$ ]] && [ "${#value}" -le 18 ] || _check_opts_fail "$opt" "$value" "$what"
  if [ "${value:0:1}" = - ]; then value=$((-10#${value#-})); else value=$((10#$value)); fi
  if { [ -n "$min" ] && [ "$value" -lt "$min" ]; } || { [ -n "$max" ] && [ "$value" -gt "$max" ]; }; then
    _check_opts_fail "$opt" "$2" "$what"
  fi
  return 0
}

_check_opts_number() {  # _check_opts_number <option> <value> <awk test of x> <what>
  [[ $2 =~ ^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]] &&
    awk -v x="$2" "BEGIN { x += 0; exit !($3) }" || _check_opts_fail "$1" "$2" "$4"
}

require_number() {
  if [ -n "${3:-}" ]; then _check_opts_number "$1" "$2" "x >= $3" "a number >= $3"
  else _check_opts_number "$1" "$2" 1 "a number"; fi
}

require_positive() {
  _check_opts_number "$1" "$2" "x > 0" "a number > 0"
}

require_bool() {
  [ "$2" = true ] || [ "$2" = false ] || _check_opts_fail "$1" "$2" "true or false"
}

require_choice() {
  local opt=$1 value=$2 allowed
  shift 2
  for allowed in "$@"; do [ "$value" = "$allowed" ] && return 0; done
  local list="$*"
  _check_opts_fail "$opt" "$value" "${list// / or }"
}
