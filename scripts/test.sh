#!/usr/bin/env bash
# Installs what is missing, then runs every test: native (core, SDK, CLI,
# corpora), the rules examples, the wasm build with its bundle size, and the
# end-to-end suite under workerd (wrangler dev) with real origins.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
# No incremental caches: CI builds once, and they double a debug build's disk.
export CARGO_INCREMENTAL=0
# Each step names the free disk, so a CI log shows where space goes.
step() { printf '\n==> %s   [disk free: %s, target: %s]\n' "$*" \
  "$(df -h --output=avail . | tail -1 | tr -d ' ')" "$(du -sh target 2>/dev/null | cut -f1)"; }

step "setup"
bash scripts/setup.sh

step "native tests"
cargo test --workspace --exclude e2e

step "wasm shell tests (wasm-bindgen-test under Node)"
# The shell's translation code (request.cf, headers, body tee, panic hook) in a
# real JS engine; edge/tests/wasm_shell.rs.
(
  [ -f .tools/wasm-env.sh ] && . .tools/wasm-env.sh
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test -p edge --target wasm32-unknown-unknown --test wasm_shell
)
# No later step uses the debug wasm build.
rm -rf target/wasm32-unknown-unknown/debug

step "npm package (origin-sdk/js): build, node tests, install into tests/js"
bash origin-sdk/js/build.sh
node --test origin-sdk/js/tests/
npm install --prefix tests/js --no-save --no-audit --no-fund --loglevel=error \
  "$PWD/target/npm-package/edge-origin-sdk-$(node -p 'require("./origin-sdk/js/package/package.json").version').tgz"

step "owasp-crs ruleset: CRS's go-ftw suite (per-folder table), and the edge built without it"
# The native tests above ran it too (owasp-crs is a default feature); here
# for the table. A build without the feature refuses documents naming it.
cargo test -p edge --test crs_conformance -- --nocapture
cargo test -p edge --no-default-features --lib -- phases::filter rules

step "worker features"
# Ed25519 signing in the worker needs curve25519-dalek's precomputed basepoint
# tables; without them every forwarded request pays a variable-base
# multiplication (a quarter of the edge's CPU, docs/benchmarks.md).
tree=$(cargo tree -q -p edge -e normal,features --target wasm32-unknown-unknown -i curve25519-dalek)
grep -q 'curve25519-dalek feature "precomputed-tables"' <<<"$tree" \
  || { echo "the worker's curve25519-dalek lacks precomputed-tables (ed25519-dalek feature fast)"; exit 1; }

step "rules examples"
# Also builds target/debug/edge-rules, which the e2e lifecycle suite runs.
cargo run -q -p edge-rules -- check examples/rules/*.json

step "worker bundle (wrangler deploy --dry-run, under the 1 MB budget)"
bash scripts/bundle-size.sh wrangler.toml

step "python package (wheel, pytest)"
bash scripts/build-python.sh
python3 -m pytest -q origin-sdk/python/tests
# The wheel is installed; its build directory is not needed again.
rm -rf target/python

step "end-to-end under workerd"
cargo test -p e2e --test e2e
