#!/usr/bin/env bash
# Builds the worker bundle into edge/build/ (wrangler's [build] command);
# `build-worker.sh DIR` builds another worker crate (e.g. bench/passthrough).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
[ -f .tools/wasm-env.sh ] && . .tools/wasm-env.sh
# worker-build would download these from GitHub; use the installed ones.
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$ROOT/node_modules/binaryen/bin/wasm-opt}"
if [ -x "$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild" ]; then
  export ESBUILD_BIN="${ESBUILD_BIN:-$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild}"
fi
cd "${1:-edge}"
exec worker-build --release
