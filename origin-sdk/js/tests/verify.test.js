'use strict';
// Edge-shaped requests through the package: facts, stripping, replay, key
// rotation, the Express/Connect middleware on a real Node HTTP server.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { Verifier, VerifyError, edgeAuth } = require('../package');
const { edgeKey, edgeSigned } = require('./edge_signer');

const NOW = 1_700_000_000;
const K2026 = edgeKey('edge-2026', 1);
const K2025 = edgeKey('edge-2025', 2);
const FACTS = { 'x-edge-client-ip': '203.0.113.9', 'x-edge-country': 'DE', 'x-edge-asn': '3320', 'x-edge-user': 'alice',
  'x-edge-claims': Buffer.from('{"sub":"alice","role":"admin"}').toString('base64url'), 'x-edge-bot-score': '87' };

test('facts of an edge-signed request, camelCase and frozen', () => {
  const v = new Verifier({ keys: K2026.spec });
  const r = edgeSigned(K2026, { created: NOW, facts: FACTS });
  const f = v.verifyParts(r.method, r.url, r.headers, NOW + 1);
  assert.deepEqual(
    { ip: f.clientIp, c: f.country, asn: f.asn, u: f.user, claims: f.claims, score: f.botScore, kid: f.keyid, colo: f.colo },
    { ip: '203.0.113.9', c: 'DE', asn: 3320, u: 'alice', claims: { sub: 'alice', role: 'admin' }, score: 87, kid: 'edge-2026', colo: null },
  );
  assert.equal(f.expires, NOW + 60);
  assert.ok(Object.isFrozen(f));
});

test('forged facts, unsigned, stale and unknown-key requests are refused with the Rust reason', () => {
  const v = new Verifier({ keys: K2026.spec, replayCapacity: 0 });
  const r = edgeSigned(K2026, { created: NOW, facts: FACTS });
  const forged = r.headers.map((h, i) => (r.headers[i - 1] === 'x-edge-user' ? 'admin' : h));
  const reason = (fn) => { try { fn(); return 'ok'; } catch (e) { assert.ok(e instanceof VerifyError); return e.reason; } };
  assert.equal(reason(() => v.verifyParts('GET', r.url, forged, NOW)), 'bad_signature');
  assert.equal(reason(() => v.verifyParts('POST', r.url, r.headers, NOW)), 'bad_signature');
  assert.equal(reason(() => v.verifyParts('GET', '/orders?id=8', r.headers, NOW)), 'bad_signature');
  assert.equal(reason(() => v.verifyParts('GET', r.url, ['Host', 'origin.example'], NOW)), 'missing_signature');
  assert.equal(reason(() => v.verifyParts('GET', r.url, r.headers, NOW + 120)), 'expired');
  assert.equal(reason(() => v.verifyParts('GET', r.url, r.headers, NOW - 60)), 'created_in_future');
  const other = edgeSigned(edgeKey('edge-2099', 9), { created: NOW });
  assert.equal(reason(() => v.verifyParts('GET', other.url, other.headers, NOW)), 'unknown_keyid');
});

test('uncovered trust headers are named for stripping; all of them on refusal', () => {
  const v = new Verifier({ keys: K2026.spec });
  const r = edgeSigned(K2026, { created: NOW, extra: ['X-Edge-Injected', 'yes', 'Accept', '*/*'] });
  const ok = v.checkParts(r.method, r.url, r.headers, NOW);
  assert.ok(ok.ok);
  assert.deepEqual(ok.strip, ['x-edge-injected']);
  const bad = v.checkParts('GET', r.url, [...r.headers.slice(0, -4), 'x-edge-user', 'admin'], NOW);
  assert.equal(bad.ok, false);
  assert.ok(bad.strip.includes('x-edge-user') && bad.strip.includes('signature') && !bad.strip.includes('accept'), bad.strip.join());
});

test('Fetch Request: check() hands back forwardable headers without the stripped ones', () => {
  const v = new Verifier({ keys: K2026.spec });
  const r = edgeSigned(K2026, { created: NOW, facts: FACTS, extra: ['x-edge-injected', '1'] });
  const pairs = [];
  for (let i = 0; i < r.headers.length; i += 2) pairs.push([r.headers[i], r.headers[i + 1]]);
  const out = v.check(new Request(`http://origin.example${r.url}`, { headers: pairs }), NOW);
  assert.ok(out.ok, out.error && out.error.message);
  assert.equal(out.facts.user, 'alice');
  assert.equal(out.headers.get('x-edge-injected'), null);
  assert.equal(out.headers.get('x-edge-user'), 'alice');
});

test('a nonce is accepted once (bounded replay cache), per verifier', () => {
  const v = new Verifier({ keys: K2026.spec, replayCapacity: 2 });
  const r = edgeSigned(K2026, { created: NOW });
  assert.ok(v.checkParts(r.method, r.url, r.headers, NOW).ok);
  assert.equal(v.checkParts(r.method, r.url, r.headers, NOW).error.reason, 'replayed');
  // Capacity 2: two newer nonces push the first out (memory stays bounded).
  for (let i = 0; i < 2; i++) { const o = edgeSigned(K2026, { created: NOW }); assert.ok(v.checkParts(o.method, o.url, o.headers, NOW).ok); }
  assert.ok(v.checkParts(r.method, r.url, r.headers, NOW).ok);
  assert.ok(new Verifier({ keys: K2026.spec, replayCapacity: 0 }).checkParts(r.method, r.url, r.headers, NOW).ok);
});

test('rotation: both keyids of a two-key list verify', () => {
  const v = new Verifier({ keys: `${K2026.spec},${K2025.spec}` });
  for (const k of [K2025, K2026]) {
    const r = edgeSigned(k, { created: NOW });
    assert.equal(v.verifyParts(r.method, r.url, r.headers, NOW).keyid, k.keyid);
  }
  const list = new Verifier({ keys: [K2026.spec, K2025.spec] });
  const r = edgeSigned(K2025, { created: NOW });
  assert.equal(list.verifyParts(r.method, r.url, r.headers, NOW).keyid, 'edge-2025');
});

function serve(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler).listen(0, '127.0.0.1', () => resolve(server));
  });
}

function send(port, r) {
  return new Promise((resolve, reject) => {
    const headers = [];
    for (let i = 0; i < r.headers.length; i += 2) if (r.headers[i] !== 'Host') headers.push([r.headers[i], r.headers[i + 1]]);
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.url, setHost: false,
      headers: [['Host', 'origin.example'], ...headers].flat() }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('middleware on a real Node server: req.edge, stripped headers, 401 JSON, exempt path', async () => {
  const mw = edgeAuth({ keys: K2026.spec, exempt: ['/health'] });
  const server = await serve((req, res) => mw(req, res, (err) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ err: err && String(err), edge: req.edge, injected: req.headers['x-edge-injected'] ?? null,
      raw: req.rawHeaders.filter((h) => /^x-edge-injected$/i.test(h)).length }));
  }));
  const { port } = server.address();
  try {
    const now = Math.floor(Date.now() / 1000);
    const good = edgeSigned(K2026, { created: now, facts: FACTS, extra: ['X-Edge-Injected', 'forged'] });
    let r = await send(port, good);
    assert.equal(r.status, 200);
    assert.equal(r.body.edge.user, 'alice');
    assert.equal(r.body.edge.clientIp, '203.0.113.9');
    assert.equal(r.body.injected, null);
    assert.equal(r.body.raw, 0);
    r = await send(port, good);
    assert.deepEqual([r.status, r.body], [401, { error: 'edge_signature_rejected', reason: 'replayed' }]);
    r = await send(port, { method: 'GET', url: '/orders', headers: ['x-edge-user', 'admin'] });
    assert.deepEqual([r.status, r.body.reason], [401, 'missing_signature']);
    r = await send(port, { method: 'GET', url: '/health', headers: ['x-edge-user', 'admin'] });
    assert.deepEqual([r.status, r.body.edge, r.body.injected], [200, null, null]);
  } finally {
    server.close();
  }
});
