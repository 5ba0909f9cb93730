#!/usr/bin/env bash
# Usage: bench/gpu_check.sh [--conf <yaml>] [--steps 20] [--batch-size 4] [--files 4]
#  e.g.: bench/gpu_check.sh                     (ConvTasNet of egs/mini/convtasnet/conf/train.yaml)
#        bench/gpu_check.sh --conf egs/wsj0_2mix/convtasnet/conf/train.yaml
#
# One short run (about a minute) for whenever a machine with a CUDA GPU is at hand:
#   1. ConvTasNet training steps on cuda:0 (forward, PIT SI-SDR loss, backward, Adam) on
#      random batches of --batch-size x data.segment seconds, in float32 and in bfloat16
#      autocast: seconds per step (median of --steps after 5 warm-up steps), peak GPU
#      memory, and that the loss is finite in both;
#   2. steps/separate.sh --device cuda on --files random 10-s files with the (untrained)
#      model of the config: wall time and that every output was written.
# Exits 1 with a clear message when torch sees no CUDA device (a CPU build of torch:
# install a CUDA one with TORCH_VERSION=<v> TORCH_INDEX_URL=<index> tools/install.sh).
# Never run by the tests or CI.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
conf=$root/egs/mini/convtasnet/conf/train.yaml
steps=20
batch_size=4
files=4
while [ $# -gt 0 ]; do
  case "$1" in
    --conf) conf=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --batch-size) batch_size=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$0: unknown option '$1' (see $0 --help)" >&2; exit 1 ;;
  esac
done
[ -f "$conf" ] || { echo "$0: config $conf not found" >&2; exit 1; }
# shellcheck disable=SC1091
. "$root/path.sh"

if ! python -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "$0: error: no CUDA device: torch $(python -c 'import torch; print(torch.__version__)' \
    2>/dev/null || echo '(not importable)') sees no GPU (CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-unset});" \
    "run this on a GPU machine with a CUDA build of torch" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sepcore-gpu-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

python - "$conf" "$steps" "$batch_size" "$files" "$tmp" <<'EOF'
import statistics, sys, time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from sepcore.config import load_config
from sepcore.data import DataDir
from sepcore.losses import LOSSES, PITLoss
from sepcore.modelfile import save_model_file
from sepcore.models import build_model, count_parameters

conf, steps, batch, files, tmp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
cfg = load_config(conf)
rate = int(cfg["data"].get("sample_rate") or 8000)
length = int(cfg["data"]["segment"] * rate)
device = torch.device("cuda:0")
print(f"gpu_check: {torch.cuda.get_device_name(device)}, torch {torch.__version__}, "
      f"CUDA {torch.version.cuda}; {conf}: {cfg['model']['name']}, batch {batch} x "
      f"{cfg['data']['segment']} s at {rate} Hz")
pit = PITLoss(LOSSES[cfg["loss"]["name"]])
for mode in ("float32", "bf16 autocast"):
    torch.manual_seed(0)
    model = build_model(cfg["model"]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    sources = 0.1 * torch.randn(batch, cfg["model"]["num_sources"], length, device=device)
    mixture = sources.sum(1)
    torch.cuda.reset_peak_memory_stats(device)
    times, losses = [], []
    for i in range(5 + steps):
        torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=mode != "float32"):
            estimates = model(mixture)
        loss, _ = pit(estimates.float(), sources)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        torch.cuda.synchronize(device)
        if i >= 5:
            times.append(time.perf_counter() - t0)
            losses.append(float(loss.detach()))
    peak = torch.cuda.max_memory_allocated(device) / 2**20
    ok = all(np.isfinite(losses))
    print(f"gpu_check: train step {mode:13s}: {statistics.median(times) * 1000:8.1f} ms/step, "
          f"peak GPU memory {peak:8.0f} MiB, loss {losses[-1]:.3f} ({'finite' if ok else 'NOT FINITE'})")
    if not ok:
        sys.exit(1)

exp = tmp / "exp"
exp.mkdir()
model = build_model(cfg["model"])
save_model_file(exp / "model.pt", model, cfg["model"], rate,
                [f"spk{k + 1}" for k in range(cfg["model"]["num_sources"])],
                {"num_params": count_parameters(model)})
rng = np.random.default_rng(0)
wav = {}
for i in range(files):
    path = tmp / f"f{i}.wav"
    sf.write(path, (0.1 * rng.standard_normal(10 * rate)).astype(np.float32), rate)
    wav[f"f{i}"] = str(path)
DataDir.write(tmp / "data", wav, [])
EOF

echo "gpu_check: steps/separate.sh --device cuda on $files files of 10 s"
start=$(date +%s.%N)
"$root/steps/separate.sh" --device cuda "$tmp/exp" "$tmp/data" "$tmp/out" > "$tmp/separate.out" 2>&1 || {
  cat "$tmp/separate.out" "$tmp"/out/log/*.log >&2; echo "$0: error: steps/separate.sh failed" >&2; exit 1; }
elapsed=$(python -c "import time; print(f'{time.time() - $start:.1f}')")
written=$(find "$tmp/out/wav" -name '*.wav' | wc -l)
expected=$((files * $(python -c "import yaml; print(yaml.safe_load(open('$conf'))['model'].get('num_sources', 2))")))
echo "gpu_check: separated in $elapsed s (with model loading), $written / $expected outputs written"
[ "$written" -eq "$expected" ] || { echo "$0: error: outputs missing" >&2; exit 1; }
echo "gpu_check: ok"
