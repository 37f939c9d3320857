#!/usr/bin/env bash
# worker-build's esbuild (ESBUILD_BIN, set by build-worker.sh for the edge):
# before bundling, the shim's per-request Proxy export is replaced with the
# edge's plain handler object (edge/src/shell/entry.js); then the real esbuild
# ($EDGE_ESBUILD) runs as worker-build asked. A shim without that export line
# (another worker-build) fails the build rather than ship an unknown entry.
set -euo pipefail
: "${EDGE_ESBUILD:?the real esbuild binary}" "${EDGE_ENTRY_JS:?edge/src/shell/entry.js}"
if [ -f shim.js ]; then
  line='export default new Proxy(Entrypoint, classProxyHooks);'
  if ! grep -qxF "$line" shim.js; then
    echo "esbuild-shim: worker-build's shim.js has no line '$line' (worker-build changed?)" >&2
    exit 1
  fi
  grep -vxF "$line" shim.js >shim.edge.js
  cat "$EDGE_ENTRY_JS" >>shim.edge.js
  mv shim.edge.js shim.js
fi
exec "$EDGE_ESBUILD" "$@"
