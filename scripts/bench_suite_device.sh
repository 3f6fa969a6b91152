#!/usr/bin/env bash
# Run a grid suite of `eva bench` (ranks, calibration) on the device machine's CPU cores: shards
# FIRST…LAST of N, one single-threaded process per core, all stopped after SECONDS (SIGTERM, then
# SIGKILL 15 s later). Every shard rewrites its result after each finished run, so a stopped shard
# loses only its run in flight. The results come back as one archive, $OUT/SUITE.tar.gz (the device
# returns only a few files per call); put it at .carry/bench/SUITE.tar.gz here and the next call
# continues from it. Merge here with `eva bench merge SUITE --out DIR` once every shard is
# complete. Prepare here:
#   .carry/eva.xz          CGO_ENABLED=0 go build -ldflags="-s -w" -o .carry/eva ./cmd/eva; xz -T0 .carry/eva
#   .carry/lib/*.xz        libopenblas.so.0, libgfortran.so.5, libquadmath.so.0, xz-compressed
#   .carry/data.tar.gz     (cd .cache/data && tar -czf ../../.carry/data.tar.gz spam.* arithmetic.* generic.valid.jsonl generic.meta.json)
# Usage: scripts/bench_suite_device.sh SUITE FIRST-LAST/N SECONDS [eva bench run flags...]
# (the other shards can run elsewhere, e.g. here: eva bench run SUITE --shard K/N --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
suite=$1 seconds=$3
IFS='-/' read -r first last shards <<< "$2"
shift 3
work=$(mktemp -d)
for f in .carry/lib/*.xz; do xz -dc "$f" > "$work/$(basename "${f%.xz}")"; done
xz -dc .carry/eva.xz > "$work/eva" && chmod +x "$work/eva"
mkdir -p .cache/data "$OUT"
tar -xzf .carry/data.tar.gz -C .cache/data
# Results live in $res and come back as one archive ($OUT/SUITE.tar.gz: the device returns few files).
res=$work/$suite
mkdir -p "$res"
if [ -f ".carry/bench/$suite.tar.gz" ]; then tar -xzf ".carry/bench/$suite.tar.gz" -C "$res"; fi
export LD_LIBRARY_PATH=$work EVA_OPENBLAS=$work/libopenblas.so.0 GOMAXPROCS=1 OPENBLAS_NUM_THREADS=1
echo "cpus: $(nproc); $(lscpu | grep -E 'Model name|Thread\(s\) per core' | tr -s ' ' | paste -sd';')"
# One single-threaded process per core; process p runs shards first+p, first+p+procs, ... in turn
# until the deadline (a shard that was done already finishes at once).
procs=$(nproc)
deadline=$(( $(date +%s) + seconds ))
for p in $(seq 0 $((procs - 1))); do
  (
    for k in $(seq $((first + p)) "$procs" "$last"); do
      left=$(( deadline - $(date +%s) ))
      [ "$left" -gt 5 ] || break
      timeout -s TERM -k 15 "$left" "$work/eva" bench run "$suite" --shard "$k/$shards" --model assets/house-llama \
        --data-dir .cache/data --out "$res" "$@" >> "$work/shard-$k.log" 2>&1 || true
    done
  ) &
done
wait || true
grep -h "^\[" "$work"/shard-*.log | wc -l | xargs echo "runs started:"
tail -n 2 "$work/shard-$first.log"
tar -czf "$OUT/$suite.tar.gz" -C "$res" .
ls "$res" | grep -c json | xargs echo "result files:"
