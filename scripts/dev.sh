#!/usr/bin/env bash
# Runs the edge locally at http://127.0.0.1:8787 (wrangler dev, real workerd)
# in front of the example origin at 127.0.0.1:9000, with a rules document put
# into local KV. RULES_FILE picks another document (default examples/rules/basic.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
RULES_FILE=${RULES_FILE:-examples/rules/basic.json}
EDGE_PORT=${EDGE_PORT:-8787}
ORIGIN_ADDR=${ORIGIN_ADDR:-127.0.0.1:9000}
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
set -a; . examples/dev-keys.env; set +a

cargo run -q -p edge-rules -- check "$RULES_FILE"
cargo build -q -p example-origin
ORIGIN_ADDR=$ORIGIN_ADDR ORIGIN_NAME=example target/debug/example-origin &
origin_pid=$!
trap 'kill $origin_pid 2>/dev/null' EXIT

# Local secrets for wrangler dev; the key is the public development key.
printf 'EDGE_SIGNING_KEY=%s\n' "$EDGE_SIGNING_KEY" > .dev.vars
npx wrangler kv key put rules --path "$RULES_FILE" --binding RULES --local --persist-to .wrangler/state
echo "edge: http://127.0.0.1:$EDGE_PORT  origin: http://$ORIGIN_ADDR  rules: $RULES_FILE" >&2
npx wrangler dev --ip 127.0.0.1 --port "$EDGE_PORT" --persist-to .wrangler/state \
  --var "DEFAULT_ORIGIN:http://$ORIGIN_ADDR" --show-interactive-dev-session=false
