#!/usr/bin/env bash
# Fuzzes each parser for a fixed time (default 60 s each) with libFuzzer via
# cargo-fuzz (nightly). Seeds: fuzz/corpus/<target>/. A crash leaves its input in
# fuzz/artifacts/<target>/: turn it into a regression test, then fix it.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
secs=${1:-60}; shift || true
targets=${*:-rules_parse jwt_verify signature_verify waf_inspect user_agent nginx_parse}
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz
for t in $targets; do
  echo "==> $t (${secs}s)"
  mkdir -p "fuzz/corpus/$t"
  # -rss_limit_mb and -timeout catch unbounded memory and time per input.
  (cd fuzz && cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=1024 -timeout=5 -max_len=65536)
done
