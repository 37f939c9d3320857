'use strict';
// Who checks Ed25519: node:crypto (OpenSSL, the default on Node) or the wasm
// module's curve25519-dalek (forced, or where node:crypto is absent). Both
// must accept and refuse alike; a host check that throws or answers nonsense
// refuses the request without crashing.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Verifier, VerifyError } = require('../package');
const { edgeKey, hmacKey, edgeSigned } = require('./edge_signer');

const NOW = 1_700_000_000;
const K2026 = edgeKey('edge-2026', 1);
const K2025 = edgeKey('edge-2025', 2);
const HMAC = hmacKey('edge-hmac', Buffer.from('0123456789abcdef0123456789abcdef'));
const FACTS = { 'x-edge-client-ip': '203.0.113.9', 'x-edge-user': 'alice' };
const rotated = `${K2026.spec},${K2025.spec}`;

const reason = (v, r, now = NOW) => {
  const out = v.checkParts(r.method, r.url, r.headers, now);
  if (!out.ok) assert.ok(out.error instanceof VerifyError);
  return out.ok ? 'ok' : out.error.reason;
};
const forge = (r, name, value) => ({ ...r, headers: r.headers.map((h, i) => (r.headers[i - 1] === name ? value : h)) });

test('on Node the default is node:crypto; "wasm" forces the module', () => {
  assert.equal(new Verifier({ keys: rotated }).ed25519Backend, 'node:crypto');
  assert.equal(new Verifier({ keys: rotated, ed25519: 'auto' }).ed25519Backend, 'node:crypto');
  assert.equal(new Verifier({ keys: rotated, ed25519: 'node' }).ed25519Backend, 'node:crypto');
  assert.equal(new Verifier({ keys: rotated, ed25519: 'wasm' }).ed25519Backend, 'wasm');
  // No Ed25519 key: nothing for the host to do.
  assert.equal(new Verifier({ keys: HMAC.spec }).ed25519Backend, 'wasm');
  assert.throws(() => new Verifier({ keys: rotated, ed25519: 'openssl' }), TypeError);
});

for (const mode of ['node', 'wasm']) {
  test(`${mode}: valid accepted, forged refused, rotated keys both verify`, () => {
    const v = new Verifier({ keys: rotated, ed25519: mode, replayCapacity: 0 });
    const now = edgeSigned(K2026, { created: NOW, facts: FACTS });
    const old = edgeSigned(K2025, { created: NOW, facts: FACTS });
    assert.equal(v.verifyParts(now.method, now.url, now.headers, NOW).keyid, 'edge-2026');
    assert.equal(v.verifyParts(old.method, old.url, old.headers, NOW).user, 'alice');
    assert.equal(reason(v, forge(now, 'x-edge-user', 'admin')), 'bad_signature');
    assert.equal(reason(v, { ...now, method: 'POST' }), 'bad_signature');
    // The old key's signature presented under the new keyid.
    const relabelled = forge(old, 'Signature-Input', old.headers[old.headers.indexOf('Signature-Input') + 1].replace('edge-2025', 'edge-2026'));
    assert.equal(reason(v, relabelled), 'bad_signature');
    // A signature of the wrong length, and one that is not base64 of 64 bytes.
    assert.equal(reason(v, forge(now, 'Signature', `edge=:${Buffer.alloc(63).toString('base64')}:`)), 'bad_signature');
    assert.equal(reason(v, forge(now, 'Signature', `edge=:${Buffer.alloc(64).toString('base64')}:`)), 'bad_signature');
    assert.equal(reason(v, now, NOW + 3600), 'expired');
  });
}

test('the host factory runs once per Ed25519 key, and the check once per verification', () => {
  const made = [];
  let checks = 0;
  const node = require('node:crypto');
  const factory = (publicKey) => {
    made.push(Buffer.from(publicKey).toString('base64'));
    const key = node.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]), format: 'der', type: 'spki' });
    return (message, signature) => { checks += 1; return node.verify(null, message, key, signature); };
  };
  const v = new Verifier({ keys: `${rotated},${HMAC.spec}`, ed25519: factory, replayCapacity: 0 });
  assert.equal(v.ed25519Backend, 'custom');
  assert.deepEqual(made.sort(), [K2026.spec, K2025.spec].map((s) => s.split(':')[1]).sort());
  const r = edgeSigned(K2026, { created: NOW });
  for (let i = 0; i < 5; i++) assert.equal(reason(v, r), 'ok');
  assert.equal(reason(v, edgeSigned(HMAC, { created: NOW })), 'ok');
  assert.equal(reason(v, edgeSigned(K2026, { created: NOW - 3600 })), 'expired');
  assert.equal(made.length, 2);
  assert.equal(checks, 5, 'HMAC and expired requests never reach the host check');
});

test('a host check that throws or answers a non-boolean refuses, without crashing', () => {
  const answers = [
    [() => { throw new Error('OpenSSL exploded'); }, /OpenSSL exploded/],
    [() => { throw 'a bare string'; }, /a bare string/],
    [() => 'true', /instead of a boolean/],
    [() => 1, /instead of a boolean/],
    [() => undefined, /instead of a boolean/],
    [() => Promise.resolve(true), /instead of a boolean/],
  ];
  const r = edgeSigned(K2026, { created: NOW, facts: FACTS });
  for (const [check, message] of answers) {
    const v = new Verifier({ keys: K2026.spec, ed25519: () => check });
    const out = v.checkParts(r.method, r.url, r.headers, NOW);
    assert.equal(out.ok, false);
    assert.equal(out.error.reason, 'signature_check_failed');
    assert.match(out.error.message, message);
    assert.ok(out.strip.includes('x-edge-user') && out.strip.includes('signature'), out.strip.join());
    assert.throws(() => v.verifyParts(r.method, r.url, r.headers, NOW), (e) => e instanceof VerifyError && e.reason === 'signature_check_failed');
  }
  // The module is still fine afterwards.
  assert.equal(reason(new Verifier({ keys: K2026.spec }), r), 'ok');
});

test('a host check answering true for anything cannot pass what the core refuses', () => {
  const v = new Verifier({ keys: `${K2026.spec},${HMAC.spec}`, ed25519: () => () => true, replayCapacity: 0 });
  assert.equal(reason(v, forge(edgeSigned(HMAC, { created: NOW }), 'x-edge-user', 'admin')), 'bad_signature');
  assert.equal(reason(v, edgeSigned(K2026, { created: NOW }), NOW + 3600), 'expired');
  assert.equal(reason(v, edgeSigned(edgeKey('edge-1999', 5), { created: NOW })), 'unknown_keyid');
  // An Ed25519 signature claiming the HMAC key's keyid: the key pins the algorithm.
  assert.equal(reason(v, edgeSigned(edgeKey('edge-hmac', 5), { created: NOW })), 'algorithm_mismatch');
});

test('a factory that throws or gives a non-function fails construction; null keeps the key in wasm', () => {
  assert.throws(() => new Verifier({ keys: K2026.spec, ed25519: () => { throw new Error('no Ed25519 here'); } }), /edge-2026.*no Ed25519 here/);
  assert.throws(() => new Verifier({ keys: K2026.spec, ed25519: () => 42 }), /not a function/);
  const v = new Verifier({ keys: K2026.spec, ed25519: () => null });
  assert.equal(v.ed25519Backend, 'wasm');
  assert.equal(reason(v, edgeSigned(K2026, { created: NOW })), 'ok');
});

test('many verifiers come and go; their host checks do not leak into each other', () => {
  const r = edgeSigned(K2026, { created: NOW });
  for (let i = 0; i < 50; i++) {
    const answer = i % 2 === 0;
    const v = new Verifier({ keys: K2026.spec, ed25519: () => () => answer, replayCapacity: 0 });
    assert.equal(reason(v, r), answer ? 'ok' : 'bad_signature', `verifier ${i}`);
  }
});

/** Runs `body` in a fresh Node whose `node:crypto` is replaced by `crypto`
 * (a JS expression over the real module `real`, or `null` for "absent"),
 * with the package loaded and `req` a request signed here. */
function withCrypto(crypto, body, req) {
  const { spawnSync } = require('node:child_process');
  const script = `
    const Module = require('node:module');
    const load = Module._load;
    const real = load('node:crypto', module);
    const fake = ${crypto};
    Module._load = function (name, ...rest) {
      if (name === 'node:crypto' || name === 'crypto') { if (fake === null) throw new Error('no node:crypto here'); return fake; }
      return load.call(this, name, ...rest);
    };
    const { Verifier } = require(${JSON.stringify(require.resolve('../package'))});
    const req = ${JSON.stringify(req)};
    const out = (() => { ${body} })();
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('without a usable node:crypto the module verifies by itself; "node" then throws', () => {
  const r = edgeSigned(K2026, { created: NOW, facts: FACTS });
  const forged = forge(r, 'x-edge-user', 'admin');
  const body = `
    const v = new Verifier({ keys: ${JSON.stringify(K2026.spec)}, replayCapacity: 0 });
    const check = (q) => { const o = v.checkParts(q.method, q.url, q.headers, ${NOW}); return o.ok ? o.facts.user : o.error.reason; };
    let forced; try { new Verifier({ keys: ${JSON.stringify(K2026.spec)}, ed25519: 'node' }); forced = 'built'; } catch (e) { forced = e.name; }
    return { backend: v.ed25519Backend, good: check(req.good), forged: check(req.forged), forced };`;
  const want = { backend: 'wasm', good: 'alice', forged: 'bad_signature', forced: 'TypeError' };
  // Absent (Edge runtime, browsers, workerd), and present but answering yes to
  // everything (fails the RFC 8032 self-test).
  assert.deepEqual(withCrypto('null', body, { good: r, forged }), want);
  assert.deepEqual(withCrypto('({ ...real, verify: () => true })', body, { good: r, forged }), want);
  // The real one is taken.
  assert.deepEqual(withCrypto('real', body, { good: r, forged }), { ...want, backend: 'node:crypto', forced: 'built' });
});
