#!/usr/bin/env bash
# Training-step throughput of eva next to PyTorch, on the same two physical cores of one machine
# (the device machine, which has torch). Build the eva binaries here first:
#   CGO_ENABLED=0 go test -c -o .carry/bin/llama.test ./models/llama/
#   CGO_ENABLED=0 go test -c -o .carry/bin/cpu.test ./backend/cpu/
# and put libopenblas.so.0 with its libgfortran.so.5 and libquadmath.so.0 (Debian's
# libopenblas0-pthread) into .carry/lib. Extra eva binaries named .carry/bin/llama-*.test (other
# builds to compare) run alternately with the main one. Usage: scripts/bench_device.sh [rounds]
#
# LoRA training steps instead (r 16, all-linear; eva's BenchmarkLoRAStep, with EVA_GEMM=blocked and
# EVA_GEMM=blas, next to PEFT + AdamW):
#   CGO_ENABLED=0 go test -c -o .carry/bin/train.test ./PKG/   (the package holding BenchmarkLoRAStep)
#   scripts/bench_device.sh lora [rounds]
# BATCH=N sets the batch (sequences of 256 tokens; default 8) of both.
# The eva binary is skipped when .carry/bin/train.test is missing.
set -u
cd "$(dirname "$0")/.."
mode=full
if [ "${1:-}" = lora ]; then mode=lora; shift; fi
rounds=${1:-2}
steps=${STEPS:-3} # timed training steps per run (LoRA mode; both report the median step)
batch=${BATCH:-8} # sequences per step (LoRA mode)
export LD_LIBRARY_PATH=$PWD/.carry/lib EVA_OPENBLAS=$PWD/.carry/lib/libopenblas.so.0
# two logical CPUs on distinct physical cores
cores=$(lscpu -p=CPU,CORE | grep -v '^#' | sort -t, -k2,2n -u | head -2 | cut -d, -f1 | paste -sd,)
echo "pinned to CPUs $cores; $(lscpu | grep 'Model name')"
if [ "$mode" = lora ]; then
  for r in $(seq "$rounds"); do
    bin=.carry/bin/train.test
    if [ -x "$bin" ]; then
      for gemm in blocked blas; do # eva's own GEMM for large products, then OpenBLAS for all
        echo "== $bin LoRAStep round $r EVA_GEMM=$gemm"
        EVA_BENCH_BATCH=$batch EVA_GEMM=$gemm GOMAXPROCS=2 taskset -c "$cores" "$bin" -test.run '^$' -test.bench LoRAStep -test.benchtime "${steps}x" -test.v 2>&1 | grep -E 'Benchmark|tokens/s|blas'
      done
    else
      echo "== $bin missing: eva LoRAStep skipped"
    fi
    echo "== torch lora round $r"
    taskset -c "$cores" python3 scripts/bench_torch.py --threads 2 --lora 16 --batch "$batch" --warmup 1 --steps "$steps"
  done
  exit 0
fi
for r in $(seq "$rounds"); do
  for bin in .carry/bin/llama.test .carry/bin/llama-*.test; do
    [ -x "$bin" ] || continue
    echo "== $bin round $r"
    GOMAXPROCS=2 taskset -c "$cores" "$bin" -test.run '^$' -test.bench ForwardBackward -test.benchtime 3x -test.v 2>&1 | grep -E 'tokens/s|blas'
  done
  echo "== torch round $r"
  taskset -c "$cores" python3 scripts/bench_torch.py --threads 2 --warmup 1 --steps 3
done
echo "== GEMM and kernels"
GOMAXPROCS=2 taskset -c "$cores" .carry/bin/cpu.test -test.run '^$' -test.bench 'Gemm$|GemmThreading|Attention' -test.benchtime 1s 2>&1 | grep -E 'Benchmark|blas'
