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
# The edge's entry: worker-build's shim with a plain handler object as its
# default export (scripts/esbuild-shim.sh); other crates keep the stock shim.
if [ "${1:-edge}" = edge ] && [ -n "${ESBUILD_BIN:-}" ]; then
  export EDGE_ESBUILD=$ESBUILD_BIN EDGE_ENTRY_JS=$ROOT/edge/src/shell/entry.js ESBUILD_BIN=$ROOT/scripts/esbuild-shim.sh
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
FLAGS="$OPT $NAMES --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling"
# Every `wrangler dev` runs this build (the e2e suites start several), and
# worker-build's output is the same for the same code: the optimized module
# is kept by the hash of its input, flags and wasm-opt version, so only a
# changed module pays for the pass (minutes with --converge).
CACHE=$ROOT/target/wasm-opt-cache
key=$({ sha256sum <"$OUT/index_bg.wasm"; echo "$FLAGS"; "$WASM_OPT_BIN" --version; } | sha256sum | cut -c1-40)
if [ -f "$CACHE/$key.wasm" ]; then
  cp "$CACHE/$key.wasm" "$OUT/index_bg.wasm"
  exit 0
fi
for attempt in 1 2 3; do
  # shellcheck disable=SC2086 # FLAGS is a list of flags
  if "$WASM_OPT_BIN" "$OUT/index_bg.wasm" -o "$OUT/index_bg.opt.wasm" $FLAGS; then
    mv "$OUT/index_bg.opt.wasm" "$OUT/index_bg.wasm"
    mkdir -p "$CACHE"
    cp "$OUT/index_bg.wasm" "$CACHE/$key.wasm.tmp" && mv "$CACHE/$key.wasm.tmp" "$CACHE/$key.wasm"
    # The newest few builds are enough (a few MB each).
    ls -t "$CACHE"/*.wasm 2>/dev/null | tail -n +9 | xargs -r rm -f
    exit 0
  fi
  # binaryen's npm build is wasm under Node; a crash of it (seen once in CI,
  # SIGTRAP) is not a property of the input, so run it again before failing.
  echo "build-worker: wasm-opt failed (attempt $attempt of 3)" >&2
done
exit 1
