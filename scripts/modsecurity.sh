#!/usr/bin/env bash
# ModSecurity 2 + the CRS request rules the edge ships, side by side with the
# edge: Apache httpd (Debian's apache2 and libapache2-mod-security2, installed by
# `scripts/setup.sh --with-modsecurity`) loads edge/crs/ as it is vendored, at the
# paranoia level and inbound threshold the edge's `owasp-crs` ruleset is given,
# with ModSecurity's recommended request-body settings (modsecurity.conf-recommended:
# JSON and XML body processors, body limits, a 400 on a body it cannot parse).
#
#   scripts/modsecurity.sh [decisions|cpu|all|serve] [PL] [THRESHOLD]
#
# decisions: the public payload lists, prompts and GoTestWAF sent to ModSecurity
#   (`waf_measure --server`) and, natively, to the edge's CRS and detectors
#   (`waf_measure_native`), blocked/passed per set for each;
# cpu: CPU per request of ModSecurity (Apache's one worker process, engine On
#   minus Off, same requests) and of the edge's CRS natively, for a benign GET, a
#   2 KB form and a 4 KB JSON prompt (`crs_vs_modsecurity`), as ratios.
# serve: Apache alone, until interrupted, for requests by hand (its error log,
#   which names the rules that matched, is printed at the end).
# Apache listens on 127.0.0.1 only, as a prefork server with one child, so the
# child's CPU time is the requests' alone. MISSES_DIR=DIR also writes each
# wrong outcome of the payload lists' tuning halves, per WAF (`modsecurity.misses`,
# `edge.misses`: `CONFIG SET PLACE PAYLOAD`, the edge's with the rules that
# fired), to see where the two differ.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WHAT=${1:-all}
PL=${2:-1}
THRESHOLD=${3:-5}
ON=${MODSEC_PORT:-18480}
OFF=$((ON + 1))
MODULES=/usr/lib/apache2/modules
[ -f $MODULES/mod_security2.so ] || bash scripts/setup.sh --with-modsecurity

DIR=$(mktemp -d /tmp/modsecurity.XXXXXX)
chmod 755 "$DIR"
mkdir -p "$DIR/www" "$DIR/tmp" "$DIR/data"
chown www-data: "$DIR/tmp" "$DIR/data" 2>/dev/null || true
stop() {
  if [ -f "$DIR/httpd.pid" ]; then kill "$(cat "$DIR/httpd.pid")" 2>/dev/null || true; sleep 1; fi
  rm -rf "$DIR"
}
trap stop EXIT

# The request-phase rules in the order the edge loads them (edge/src/waf/crs/bundle.rs).
{
  echo "SecRuleEngine On"
  echo "SecRequestBodyAccess On"
  # From modsecurity.conf-recommended (request side).
  cat <<'CONF'
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" "id:'200000',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyInMemoryLimit 131072
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 512
SecRule REQBODY_ERROR "!@eq 0" "id:'200002',phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.'"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:'200003',phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "!@eq 0" "id:'200004',phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
SecPcreMatchLimit 100000
SecPcreMatchLimitRecursion 100000
SecRule TX:/^MSC_/ "!@streq 0" "id:'200005',phase:2,t:none,deny,msg:'ModSecurity internal error flagged: %{MATCHED_VAR_NAME}'"
SecResponseBodyAccess Off
SecAuditEngine Off
SecArgumentSeparator &
SecCookieFormat 0
SecUnicodeMapFile /etc/modsecurity/unicode.mapping 20127
SecStatusEngine Off
CONF
  echo "SecTmpDir $DIR/tmp"
  echo "SecDataDir $DIR/data"
  echo "Include $ROOT/edge/crs/crs-setup.conf.example"
  echo "SecAction \"id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=$PL\""
  echo "SecAction \"id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=$THRESHOLD,setvar:tx.outbound_anomaly_score_threshold=4\""
  for f in "$ROOT"/edge/crs/rules/REQUEST-*.conf; do echo "Include $f"; done
} > "$DIR/modsecurity.conf"

cat > "$DIR/httpd.conf" <<CONF
ServerRoot $DIR
ServerName 127.0.0.1
PidFile $DIR/httpd.pid
Listen 127.0.0.1:$ON
Listen 127.0.0.1:$OFF
LoadModule mpm_prefork_module $MODULES/mod_mpm_prefork.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule unique_id_module $MODULES/mod_unique_id.so
LoadModule security2_module $MODULES/mod_security2.so
User www-data
Group www-data
StartServers 1
MinSpareServers 1
MaxSpareServers 1
ServerLimit 1
MaxRequestWorkers 1
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 5
LimitRequestFieldSize 65536
ErrorLog $DIR/error.log
LogLevel warn
DocumentRoot $DIR/www
AllowEncodedSlashes On
<Directory />
  Require all granted
</Directory>
Include $DIR/modsecurity.conf
<VirtualHost 127.0.0.1:$ON>
</VirtualHost>
<VirtualHost 127.0.0.1:$OFF>
  SecRuleEngine Off
</VirtualHost>
CONF

apache2 -f "$DIR/httpd.conf" -k start
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$ON/" && curl -s -o /dev/null "http://127.0.0.1:$OFF/" && break
  sleep 0.2
done
CHILD=$(pgrep -P "$(cat "$DIR/httpd.pid")" | head -1)
echo "ModSecurity $(dpkg-query -W -f='${Version}' libapache2-mod-security2 2>/dev/null), CRS $(sed -n 's/.*setvar:tx.crs_setup_version=\([0-9]*\).*/\1/p' edge/crs/crs-setup.conf.example | head -1), PL $PL, threshold $THRESHOLD; Apache child $CHILD" >&2
# A request that must be blocked, and one that must not, before measuring anything.
blocked=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ON/?q=1%27%20UNION%20SELECT%20password%20FROM%20users--")
passed=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ON/?q=hello")
if [ "$blocked" != 403 ] || [ "$passed" != 404 ]; then
  echo "ModSecurity is not deciding: a UNION SELECT got $blocked, a benign query $passed" >&2
  cat "$DIR/error.log" >&2
  exit 1
fi

if [ "$WHAT" = decisions ] || [ "$WHAT" = all ]; then
  cargo run -q -p e2e --example waf_measure -- --server "modsecurity_pl$PL=$ON" \
    ${MISSES_DIR:+--misses "$MISSES_DIR/modsecurity.misses"}
  cargo run -q --release -p edge --example waf_measure_native -- \
    ${MISSES_DIR:+--misses "$MISSES_DIR/edge.misses"} \
    --config "crs_pl$PL={\"rulesets\":[\"owasp-crs\"],\"paranoia\":$PL,\"threshold\":$THRESHOLD}" \
    --config "edge_pl$PL={\"paranoia\":$PL,\"threshold\":$THRESHOLD}"
fi
if [ "$WHAT" = cpu ] || [ "$WHAT" = all ]; then
  cargo run -q --release -p edge --example crs_vs_modsecurity -- \
    --on "$ON" --off "$OFF" --pid "$CHILD" --paranoia "$PL" --threshold "$THRESHOLD"
fi
if [ "$WHAT" = serve ]; then
  echo "serving: ModSecurity on http://127.0.0.1:$ON/, off on http://127.0.0.1:$OFF/; ^C stops" >&2
  trap 'cat "$DIR/error.log" >&2; stop' EXIT
  while kill -0 "$(cat "$DIR/httpd.pid")" 2>/dev/null; do sleep 1; done
fi
