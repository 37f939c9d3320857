#!/usr/bin/env bash
# Installs what building, running and testing the edge needs, on a fresh machine
# or an old one: the wasm32 target (rustup, or Debian's rustc-web as fallback),
# wasm-bindgen-cli matching Cargo.lock, worker-build, the npm tools (wrangler,
# Node 22, wasm-opt), the Python verifier and headless Chromium used by the
# end-to-end tests; with --with-modsecurity also Apache httpd and ModSecurity 2
# for scripts/modsecurity.sh.
# Idempotent: what is already there is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
mkdir -p "$TOOLS"
log() { printf '[setup] %s\n' "$*" >&2; }

WORKER_BUILD_VERSION=0.8.7
BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)

# 1. wasm32 target: rustup's when reachable, else Debian's rustc-web with build-std.
rm -f "$TOOLS/wasm-env.sh"
if rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  log "wasm32 target: rustup (installed)"
elif timeout 180 rustup target add wasm32-unknown-unknown >&2; then
  log "wasm32 target: rustup (added)"
else
  log "rustup could not add wasm32; using Debian's rustc-web with -Zbuild-std"
  if ! dpkg -s rustc-web cargo-web rust-web-src lld-22 >/dev/null 2>&1; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web rust-web-src lld-22 >&2
  fi
  # worker-build checks that a wasm32 sysroot directory exists.
  mkdir -p /usr/lib/rustlib/wasm32-unknown-unknown/lib
  cat > "$TOOLS/wasm-env.sh" <<'ENV'
# Sourced by scripts/build-worker.sh: build wasm with Debian's toolchain.
export PATH="/usr/bin:$PATH"
export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/bin/wasm-ld-22
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/debian-wasm"
ENV
fi

# 2. wasm-bindgen-cli at exactly the version Cargo.lock pins (worker-build refuses
#    others); it also brings wasm-bindgen-test-runner for edge/tests/wasm_shell.rs.
if ! wasm-bindgen --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$" \
   || ! wasm-bindgen-test-runner --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$"; then
  log "installing wasm-bindgen-cli $BINDGEN_VERSION"
  cargo install -q wasm-bindgen-cli --version "$BINDGEN_VERSION" >&2
fi

# 3. worker-build.
if ! worker-build --version 2>/dev/null | grep -q "$WORKER_BUILD_VERSION"; then
  log "installing worker-build $WORKER_BUILD_VERSION"
  cargo install -q worker-build --version "$WORKER_BUILD_VERSION" >&2
fi

# 4. npm tools: wrangler, Node 22 (wrangler 4 needs it; npx puts it first on PATH), wasm-opt.
if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

# 5. The independent RFC 9421 implementation the end-to-end tests verify against,
#    and C libinjection (edge/tests/libinjection_oracle.rs).
if ! python3 -c 'import http_message_signatures, libinjection' 2>/dev/null; then
  log "installing Python test requirements"
  python3 -m pip install -q -r tests/py/requirements.txt >&2
fi
# 5b. The Python SDK (origin-sdk/python): maturin builds its wheel; pytest,
#     hypothesis and the frameworks its tests and e2e origins run.
if ! python3 -c 'import maturin, pytest, hypothesis, fastapi, httpx, uvicorn, django, gunicorn, flask' 2>/dev/null; then
  log "installing Python SDK build and test requirements"
  python3 -m pip install -q -r origin-sdk/python/requirements-dev.txt >&2
fi
# 6. Headless Chromium for the challenge-page check of the waf end-to-end suite.
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi
# 7. Debian's nginx: run by the nginx_diff suite beside the edge, and by the
#    js_origins suite (auth_request + edge-verify); Express plus the pure-JS
#    RFC 9421 library in tests/js (js_origins, the npm package's benchmark).
if [ ! -x /usr/sbin/nginx ]; then
  log "installing nginx"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2
fi
if [ ! -d tests/js/node_modules/express ] || [ tests/js/package-lock.json -nt tests/js/node_modules/.package-lock.json ]; then
  log "installing tests/js npm packages"
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error >&2
fi
# 8. Only with --with-modsecurity: Apache httpd and ModSecurity 2, which
#    scripts/modsecurity.sh runs beside the edge for the side-by-side figures.
if [ "${1:-}" = "--with-modsecurity" ] && [ ! -f /usr/lib/apache2/modules/mod_security2.so ]; then
  log "installing apache2 and libapache2-mod-security2"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apache2 libapache2-mod-security2 >&2
fi
log "ready"
