#!/usr/bin/env bash
# Measures the WAF on attack and benign corpora under several configurations at
# once and prints blocked/passed per set per configuration.
#
#   scripts/waf-measure.sh [ARGS]            through the edge under workerd (wrangler dev)
#   scripts/waf-measure.sh --native [ARGS]   natively (edge::waf::inspect), in seconds
#
# ARGS (both modes): --config NAME=PARAMS (a `waf` rule's params as JSON; repeat to
# compare; default pl1, pl2, prompt_api), --list NAME=FILE / --benign NAME=FILE (a
# payload list, one payload a line), --ftw DIR (go-ftw YAML, e.g. OWASP CRS's
# tests/regression/tests), --misses FILE (native only: the wrong outcomes).
# Without a set: the vendored SecLists lists and prompts (tuning and held-out
# halves), plus GoTestWAF under workerd.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--native" ]]; then
  shift
  exec cargo run -q --release -p edge --example waf_measure_native -- "$@"
fi
exec cargo run -q -p e2e --example waf_measure -- "$@"
