#!/usr/bin/env bash
# Usage: utils/usage.sh <script> [<more-scripts> ...]
#  e.g.: utils/usage.sh "$0" >&2; exit 1     (a step called with the wrong arguments)
#
# Prints the usage header of each script: the comment block that starts at its
# '# Usage:' line (for the second and later scripts, at their first '# Options' line)
# and ends at the first line that is not a comment, without the leading '# '.
# The one place that turns a script's header into its --help text
# (utils/parse_options.sh calls it for --help).

first=true
for script in "$@"; do
  if [ ! -f "$script" ]; then
    echo "$(basename "$script"): no usage information"
    continue
  fi
  if [ "$first" = true ]; then start='^#[[:space:]]*Usage:'; else start='^#[[:space:]]*Options'; echo; fi
  awk -v start="$start" '$0 ~ start { on = 1 }
       on && !/^#/ { exit }
       on { sub(/^# ?/, ""); print }' "$script"
  first=false
done
