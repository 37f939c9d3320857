'use strict';
// Express / Connect middleware: `req.edge` holds the verified facts; anything
// unsigned, forged, stale or replayed gets 401 with a small JSON body. Trust
// headers the signature does not cover are removed from the request either
// way, so later handlers cannot read a forged value.

const { Verifier } = require('./index.js');

function removeHeaders(req, names) {
  if (!names.length) return;
  const drop = new Set(names);
  for (const n of names) delete req.headers[n];
  const raw = req.rawHeaders;
  if (Array.isArray(raw)) {
    for (let i = raw.length - 2; i >= 0; i -= 2) {
      if (drop.has(String(raw[i]).toLowerCase())) raw.splice(i, 2);
    }
  }
}

/**
 * @param {import('./express').EdgeAuthOptions | Verifier} options
 */
function edgeAuth(options) {
  const { exempt = [], ...rest } = options instanceof Verifier ? {} : options || {};
  const verifier = options instanceof Verifier ? options : new Verifier(rest);
  if (!Array.isArray(exempt) || !exempt.every((p) => typeof p === 'string')) throw new TypeError('exempt must be an array of paths');
  const exemptPaths = new Set(exempt);
  return function edgeAuthMiddleware(req, res, next) {
    let out;
    try {
      // `originalUrl`: Express rewrites `url` under mounted routers; the edge signed the original.
      const target = req.originalUrl || req.url;
      out = verifier.checkParts(req.method, target, req.rawHeaders || req.headers);
    } catch (e) {
      return next(e);
    }
    removeHeaders(req, out.strip);
    const path = (req.originalUrl || req.url || '').split('?')[0];
    if (out.ok) {
      req.edge = out.facts;
      return next();
    }
    if (exemptPaths.has(path)) {
      req.edge = null;
      return next();
    }
    res.statusCode = 401;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ error: 'edge_signature_rejected', reason: out.error.reason }));
  };
}

module.exports = { edgeAuth };
