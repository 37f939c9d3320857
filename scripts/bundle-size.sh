#!/usr/bin/env bash
# `bundle-size.sh [CONFIG]`: the gzipped upload size Cloudflare counts for the
# worker that wrangler config CONFIG (default wrangler.toml) deploys, from
# `wrangler deploy --dry-run`; exits 1 when it reaches the project's budget
# (BUNDLE_BUDGET_KIB, 1024 KiB = 1 MB). scripts/test.sh checks the default
# worker (CRS included) with it.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG="${1:-wrangler.toml}"
BUDGET="${BUNDLE_BUDGET_KIB:-1024}"
OUT="target/worker-dist-$(basename "$CONFIG" .toml)"
LOG="$OUT.log"
WRANGLER_SEND_METRICS=false npx wrangler deploy --dry-run -c "$CONFIG" --outdir "$OUT" > "$LOG" 2>&1 || true
line=$(grep -E "Total Upload" "$LOG" || true)
[ -n "$line" ] || { echo "bundle-size: dry-run deploy of $CONFIG failed; see $LOG"; exit 1; }
gzip_kib=$(sed -E 's/.*gzip: ([0-9.]+) KiB.*/\1/' <<<"$line")
echo "bundle-size: $CONFIG: $line (budget $BUDGET KiB)"
awk -v s="$gzip_kib" -v b="$BUDGET" 'BEGIN { exit !(s < b) }' \
  || { echo "bundle-size: $CONFIG is $gzip_kib KiB gzipped, over the $BUDGET KiB budget"; exit 1; }
