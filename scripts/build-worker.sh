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
# default one (extra cargo features, into another directory of edge/).
OUT="${EDGE_OUT_DIR:-build}"
worker-build --release --out-dir "$OUT" ${EDGE_FEATURES:+--features "$EDGE_FEATURES"}
# The edge's wasm-opt pass (its Cargo metadata turns worker-build's off): -Oz
# for size, repeated until it shrinks no more (--converge, about 1 KiB gzip),
# and in the same pass dropping the wasm names section (a sixth of the
# module; the edge never panics on input and logs its own errors).
# EDGE_KEEP_WASM_NAMES=1 keeps the names for readable stack traces. Other
# crates (bench/passthrough) keep worker-build's pass and only lose the names.
OPT="-Oz --converge"
[ "${1:-edge}" = edge ] || OPT=
NAMES=--strip-debug
[ -n "${EDGE_KEEP_WASM_NAMES:-}" ] && NAMES=--debuginfo
[ -z "$OPT" ] && [ "$NAMES" = --debuginfo ] && exit 0
for attempt in 1 2 3; do
  if "$WASM_OPT_BIN" "$OUT/index_bg.wasm" -o "$OUT/index_bg.opt.wasm" $OPT "$NAMES" \
      --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
      --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling; then
    mv "$OUT/index_bg.opt.wasm" "$OUT/index_bg.wasm"
    exit 0
  fi
  # binaryen's npm build is wasm under Node; a crash of it (seen once in CI,
  # SIGTRAP) is not a property of the input, so run it again before failing.
  echo "build-worker: wasm-opt failed (attempt $attempt of 3)" >&2
done
exit 1
