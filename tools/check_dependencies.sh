#!/usr/bin/env bash
# Usage: tools/check_dependencies.sh
#
# Checks what sepcore needs and prints one line per item, 'OK' (with the version
# where there is one) or 'MISSING':
#   programs        sox, espeak-ng, flite, festival, text2wave, perl
#   tcmalloc        optional (faster CPU training)
#   tools/venv      the Python virtual environment
#   Python modules  torch, numpy, scipy, soundfile, soxr, yaml, tqdm, pystoi, pesq,
#                   mir_eval, fast_bss_eval, matplotlib (reports), noisereduce, pyrnnoise,
#                   sepcore (installed in the venv); pytest, xdist, tensorboard (optional:
#                   for the tests; tensorboard also for training.tensorboard); speechmos
#                   and onnxruntime (optional: the DNSMOS metric)
#   chromium        optional: the report tests' headless browser
# Prints the command that fixes what is missing (tools/install.sh) and exits 1
# if anything required is missing.
set -uo pipefail

case "${1:-}" in
  -h|--help) "$(dirname "$0")/../utils/usage.sh" "$0"; exit 0 ;;
  "") ;;
  *) echo "check_dependencies.sh: unexpected argument '$1' (see --help)" >&2; exit 1 ;;
esac

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
venv=$root/tools/venv
missing=0
missing_programs=""

line() { printf '%-16s %s\n' "$1" "$2"; }

for prog in sox espeak-ng flite festival text2wave perl; do
  if path=$(command -v "$prog" 2>/dev/null); then
    line "$prog" "OK ($path)"
  else
    line "$prog" "MISSING"
    missing=1
    missing_programs="$missing_programs $prog"
  fi
done

if lib=$("$root/utils/find_tcmalloc.sh"); then
  line tcmalloc "OK ($lib)"
else
  line tcmalloc "MISSING (optional: CPU training steps ~1.6x faster; Debian libtcmalloc-minimal4)"
fi

if path=$(command -v chromium 2>/dev/null); then
  line chromium "OK ($path)"
else
  line chromium "MISSING (optional: the report tests' browser; Debian chromium)"
fi

if [ -x "$venv/bin/python" ]; then
  line "tools/venv" "OK ($("$venv/bin/python" --version 2>&1))"
  # One interpreter for all modules. torch is imported (it can be installed but
  # broken); the others are only located, with versions from the package metadata,
  # which is much faster. Run from / so that 'sepcore' counts only if installed.
  out=$(cd / && "$venv/bin/python" - <<'EOF'
import importlib
import importlib.metadata as md
import importlib.util

REQUIRED = {"torch": "torch", "numpy": "numpy", "scipy": "scipy", "soundfile": "soundfile",
            "soxr": "soxr", "yaml": "PyYAML", "tqdm": "tqdm", "pystoi": "pystoi",
            "pesq": "pesq", "mir_eval": "mir_eval", "fast_bss_eval": "fast-bss-eval",
            "matplotlib": "matplotlib", "noisereduce": "noisereduce", "pyrnnoise": "pyrnnoise",
            "sepcore": "sepcore"}
OPTIONAL = {"pytest": "pytest", "xdist": "pytest-xdist", "tensorboard": "tensorboard",
            "speechmos": "speechmos", "onnxruntime": "onnxruntime"}
for name, dist in {**REQUIRED, **OPTIONAL}.items():
    kind = "MISSING" if name in REQUIRED else "MISSING-OPTIONAL"
    try:
        if name == "torch":
            version = importlib.import_module("torch").__version__
        elif importlib.util.find_spec(name) is None:
            print(f"{name} {kind} (not installed)")
            continue
        else:
            try:
                version = md.version(dist)
            except md.PackageNotFoundError:
                version = ""
        print(f"{name} OK {version}".rstrip())
    except Exception as e:  # any failure to import means it is not usable
        msg = str(e).splitlines()[0] if str(e) else ""
        print(f"{name} {kind} ({type(e).__name__}: {msg})")
EOF
  )
  if [ -z "$out" ]; then
    line "python modules" "MISSING (the venv's python does not run)"
    missing=1
  fi
  while read -r name status rest; do
    [ -n "$name" ] || continue
    case "$status" in
      OK) line "$name" "OK${rest:+ $rest}" ;;
      MISSING-OPTIONAL) line "$name" "MISSING (optional, for the tests) $rest" ;;
      *) line "$name" "MISSING $rest"; missing=1 ;;
    esac
  done <<< "$out"
else
  line "tools/venv" "MISSING ($venv/bin/python not found)"
  missing=1
fi

if [ "$missing" != 0 ]; then
  echo
  echo "check_dependencies.sh: something required is missing; fix it with:"
  echo "  $root/tools/install.sh"
  if [ -n "$missing_programs" ]; then
    echo "  (the programs$missing_programs come from Debian packages: run it as root, or"
    echo "   apt-get install -y sox libsox-fmt-all espeak-ng flite festival festvox-kdlpc16k)"
  fi
  exit 1
fi
echo "check_dependencies.sh: all dependencies found"
