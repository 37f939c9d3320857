#!/usr/bin/env bash
# Replays the GoTestWAF corpora (tests/corpora/gotestwaf/) through the edge
# under workerd (wrangler dev, one `waf` rule with default params) in front of
# the example origin, over real HTTP. Prints the blocked share of owasp and
# owasp-api and the passed share of false-pos.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run -q -p e2e --example waf_measure "$@"
