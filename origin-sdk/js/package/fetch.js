'use strict';
// Web-standard (Fetch) guard for Next.js middleware and other Request/Response
// runtimes on Node: one call per request, a ready 401 Response on refusal,
// forwardable headers on success.

const { Verifier } = require('./index.js');

/** Header the guard sets on the forwarded request: the verified facts as
 * JSON. It is under `x-edge-`, so a client's copy is always stripped first. */
const FACTS_HEADER = 'x-edge-verified-facts';

/**
 * @param {import('./fetch').EdgeGuardOptions | Verifier} options
 */
function edgeGuard(options) {
  const verifier = options instanceof Verifier ? options : new Verifier(options);
  return function guard(request) {
    const out = verifier.check(request);
    if (!out.ok) {
      const body = JSON.stringify({ error: 'edge_signature_rejected', reason: out.error.reason });
      return { ok: false, error: out.error, response: new Response(body, { status: 401, headers: { 'content-type': 'application/json' } }) };
    }
    out.headers.set(FACTS_HEADER, JSON.stringify(out.facts));
    return { ok: true, facts: out.facts, headers: out.headers };
  };
}

/** The facts a guard forwarded, read back in a route handler (`null` if none). */
function forwardedFacts(headers) {
  const v = headers && typeof headers.get === 'function' ? headers.get(FACTS_HEADER) : null;
  if (!v) return null;
  try {
    return JSON.parse(v);
  } catch {
    return null;
  }
}

module.exports = { edgeGuard, forwardedFacts, FACTS_HEADER };
