#!/usr/bin/env bash
# Usage: . utils/parse_options.sh   (sourced by a script, after its defaults)
#
# Kaldi-style option parsing. For every leading option of the calling script:
#   --foo-bar value  or  --foo-bar=value   sets the already-defined variable foo_bar
#                                          ("unknown option --foo-bar" if there is none);
#                                          a variable whose value is true/false accepts
#                                          only true or false.
#   --config file    sources a file of var=value lines (before the other options, so
#                    options on the command line win).
#   --help, -h       prints $help_message, or else the '# Usage:' comment block at the
#                    top of the calling script (utils/usage.sh; of each of $usage_files
#                    when set), and exits 0.
# Parsing stops at the first argument that is not an option, or after '--'.
# The options are removed from the positional parameters ("$@") of the caller.

# All helper variables start with _po_ because this file runs in the caller's scope.

_po_script=${BASH_SOURCE[1]:-$0}
_po_prog=$(basename "$_po_script")
_po_utils=$(dirname "${BASH_SOURCE[0]}")

_po_usage() {
  if [ -n "${help_message:-}" ]; then
    printf '%b\n' "$help_message"
  else
    # usage_files (an array, set by egs/TEMPLATE/sep.sh): the recipe's header, then the
    # template's options
    if [ -n "${usage_files+x}" ]; then
      "$_po_utils/usage.sh" "${usage_files[@]}"
    else
      "$_po_utils/usage.sh" "$_po_script"
    fi
  fi
}

_po_set() {  # _po_set <option-as-given> <value>; locals are _po_* so no option hides
  local _po_opt=$1 _po_val=$2 _po_name _po_old
  _po_name=${_po_opt#--}
  _po_name=${_po_name%%=*}
  _po_name=${_po_name//-/_}
  if ! [[ $_po_name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || [[ $_po_name == _po_* ]] ||
     [ -z "${!_po_name+x}" ]; then
    echo "$_po_prog: unknown option ${_po_opt%%=*} (see $_po_prog --help)" >&2
    return 1
  fi
  _po_old=${!_po_name}
  if { [ "$_po_old" = true ] || [ "$_po_old" = false ]; } &&
     [ "$_po_val" != true ] && [ "$_po_val" != false ]; then
    echo "$_po_prog: option ${_po_opt%%=*} expects true or false, got '$_po_val'" >&2
    return 1
  fi
  printf -v "$_po_name" '%s' "$_po_val"
}

# Pass 1: source --config files first (lower priority than command-line options).
_po_args=("$@")
_po_i=0
while [ "$_po_i" -lt "${#_po_args[@]}" ]; do
  _po_a=${_po_args[$_po_i]}
  case "$_po_a" in
    --) break ;;
    --config=*|--config)
      if [ "$_po_a" = --config ]; then
        _po_f=${_po_args[$((_po_i + 1))]:-}
        _po_i=$((_po_i + 2))
      else
        _po_f=${_po_a#--config=}
        _po_i=$((_po_i + 1))
      fi
      if [ ! -r "$_po_f" ]; then
        echo "$_po_prog: cannot read config file '$_po_f' (from --config)" >&2
        exit 1
      fi
      # shellcheck disable=SC1090
      . "$_po_f" ;;
    --help|-h) _po_i=$((_po_i + 1)) ;;
    --*=*) _po_i=$((_po_i + 1)) ;;
    --?*) _po_i=$((_po_i + 2)) ;;
    *) break ;;
  esac
done
unset _po_args _po_i _po_a _po_f

# Pass 2: the options themselves.
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    --help|-h) _po_usage; exit 0 ;;
    --config=*) shift ;;
    --config) shift 2 || shift ;;
    --*=*) _po_set "$1" "${1#*=}" || exit 1; shift ;;
    --?*)
      if [ $# -lt 2 ]; then
        echo "$_po_prog: option $1 needs a value" >&2
        exit 1
      fi
      _po_set "$1" "$2" || exit 1
      shift 2 ;;
    *) break ;;
  esac
done

# An empty --cmd is almost always a scripting mistake (e.g. an unset variable in cmd.sh).
if [ -n "${cmd+x}" ] && [ -z "$cmd" ]; then
  echo "$_po_prog: empty argument to --cmd" >&2
  exit 1
fi

unset -f _po_set _po_usage
unset _po_script _po_prog _po_utils
true
