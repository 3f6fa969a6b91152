#!/usr/bin/env bash
# Pretrain eva's house model on the device machine's CPU cores, with eva's static binary, in one
# call of at most ~10 minutes. Prepare here first (see docs/HOUSE_MODEL.md):
#   .carry/eva.xz                    CGO_ENABLED=0 go build -ldflags="-s -w" -o .carry/eva ./cmd/eva; xz -T0 .carry/eva
#   .carry/lib/*.xz                  libopenblas.so.0, libgfortran.so.5, libquadmath.so.0, xz-compressed
#   .carry/data/generic.{train,valid}.jsonl.gz   from `eva data prepare generic`
#   assets/house-tokenizer/          from `eva tokenizer train`
# Usage: scripts/pretrain_device.sh SECONDS [pretrain flags...]
# It measures the speed with a short probe run, sets --steps so that the run ends within SECONDS,
# pretrains into $OUT/house and leaves the model, metrics.jsonl, loss.svg and the log there.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=$1
shift
work=$(mktemp -d)
for f in .carry/lib/*.xz; do xz -dc "$f" > "$work/$(basename "${f%.xz}")"; done
xz -dc .carry/eva.xz > "$work/eva" && chmod +x "$work/eva"
gunzip -c .carry/data/generic.train.jsonl.gz > "$work/train.jsonl"
gunzip -c .carry/data/generic.valid.jsonl.gz > "$work/valid.jsonl"
export LD_LIBRARY_PATH=$work EVA_OPENBLAS=$work/libopenblas.so.0
echo "cpus: $(nproc); $(lscpu | grep 'Model name')"
common=(--tokenizer assets/house-tokenizer --data "$work/train.jsonl" --eval-data "$work/valid.jsonl" "$@")
# Probe: 12 steps with the same settings. Its metrics give the time per step; the rest of its wall
# time (start-up, data loading, the final evaluation and save) is charged twice (the real run has the
# same overheads, and a margin), and the steps that fit the budget follow.
probe_start=$(date +%s)
if ! "$work/eva" pretrain "${common[@]}" --out "$work/probe" --steps 12 --warmup 0 --save-every 1000 > "$work/probe.log" 2>&1; then
  tail -20 "$work/probe.log"
  exit 1
fi
probe=$(( $(date +%s) - probe_start ))
steps=$(python3 - "$work/probe/metrics.jsonl" "$budget" "$probe" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
elapsed = max(float(e["elapsed_s"]) for e in events if "elapsed_s" in e)
budget, probe = float(sys.argv[2]), float(sys.argv[3])
per_step = elapsed / 12
overhead = probe - elapsed
print(max(int((budget - probe - 2 * overhead - 20) / per_step), 1))
PY
)
echo "probe: 12 steps in ${probe}s wall; running $steps steps"
mkdir -p "$OUT/house"
timeout --signal=TERM $((budget - ${probe%.*} - 20)) "$work/eva" pretrain "${common[@]}" --out "$OUT/house" --steps "$steps" \
  --save-every 100000 2>&1 | tr '\r' '\n' | tail -40 | tee "$OUT/pretrain.log"
rm -rf "$OUT/house/checkpoints"
ls -la "$OUT/house"
