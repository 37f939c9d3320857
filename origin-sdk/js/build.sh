#!/usr/bin/env bash
# Builds the npm package: origin-sdk-js for wasm32 (profile `npm`: release at
# opt-level 3), wasm-bindgen --target nodejs (the CLI version Cargo.lock pins,
# installed by scripts/setup.sh), wasm-opt when present, then `npm pack` into
# target/npm-package/edge-origin-sdk-<version>.tgz. Prints the package sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PKG=$ROOT/origin-sdk/js/package
export PATH="$HOME/.cargo/bin:$PATH"
# Debian's rustc-web fallback (see scripts/setup.sh) sets the wasm toolchain.
[ -f "$ROOT/.tools/wasm-env.sh" ] && . "$ROOT/.tools/wasm-env.sh"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

cargo build -q --profile npm --target wasm32-unknown-unknown -p origin-sdk-js
rm -rf "$PKG/wasm"
wasm-bindgen --target nodejs --out-dir "$PKG/wasm" "$TARGET_DIR/wasm32-unknown-unknown/npm/origin_sdk_js.wasm"
OPT=$ROOT/node_modules/.bin/wasm-opt
if [ -x "$OPT" ]; then
  "$OPT" -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    "$PKG/wasm/origin_sdk_js_bg.wasm" -o "$PKG/wasm/origin_sdk_js_bg.wasm"
fi
mkdir -p "$ROOT/target/npm-package"
(cd "$PKG" && npm pack --silent --pack-destination "$ROOT/target/npm-package" >/dev/null)
TGZ=$(ls -t "$ROOT"/target/npm-package/edge-origin-sdk-*.tgz | head -1)
echo "wasm: $(stat -c %s "$PKG/wasm/origin_sdk_js_bg.wasm") bytes; package: $(stat -c %s "$TGZ") bytes ($TGZ)"
