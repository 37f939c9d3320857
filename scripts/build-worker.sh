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
# EDGE_FEATURES / EDGE_OUT_DIR: another build of the same crate beside the
# default one (the e2e `crs` suite: `owasp-crs` into edge/build-crs).
OUT="${EDGE_OUT_DIR:-build}"
worker-build --release --out-dir "$OUT" ${EDGE_FEATURES:+--features "$EDGE_FEATURES"}
# worker-build keeps the wasm names section (readable stack traces); it is a
# sixth of the module. The edge never panics on input and logs its own errors,
# so drop it unless asked: EDGE_KEEP_WASM_NAMES=1 keeps it.
if [ -z "${EDGE_KEEP_WASM_NAMES:-}" ]; then
  "$WASM_OPT_BIN" "$OUT/index_bg.wasm" -o "$OUT/index_bg.wasm" --strip-debug \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling
fi
