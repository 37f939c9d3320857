'use strict';
// Verifications per second from Node: this package (origin-sdk in wasm, its
// Ed25519 check by node:crypto as by default on Node, and forced onto the
// wasm module's curve25519-dalek) against http-message-signatures, a pure-JS RFC 9421 implementation
// (its Ed25519 check is node:crypto's, i.e. OpenSSL), on the same edge-shaped
// request as origin-sdk/benches/verify.rs. One process, one core. Cases run
// in interleaved rounds and the best round counts, so a busy machine skews
// them alike. Run (after origin-sdk/js/build.sh and `npm ci --prefix tests/js`):
//   node origin-sdk/js/bench/verify.js

const path = require('node:path');
const crypto = require('node:crypto');
const { Verifier } = require('../package');
const { edgeKey, hmacKey, edgeSigned } = require('../tests/edge_signer');

const ROOT = path.join(__dirname, '../../..');
const hms = require(require.resolve('http-message-signatures', { paths: [path.join(ROOT, 'tests/js')] }));

const now = Math.floor(Date.now() / 1000);
const facts = {
  'x-edge-client-ip': '203.0.113.7', 'x-edge-country': 'DE', 'x-edge-asn': '3320', 'x-edge-colo': 'FRA',
  'x-edge-request-id': '5f0c6e1e-2f4b-4c2e-9a53-0d6f3f1b2a77', 'x-edge-user': 'alice',
  'x-edge-claims': 'eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbImFkbWluIl19', 'x-edge-bot-score': '87', 'x-edge-bot-class': '',
};
const shape = { authority: 'origin.example', path: '/api/orders', query: 'id=7&page=2', facts, created: now, validity: 290, extra: ['Accept', 'application/json'] };
const object = (flat) => { const o = {}; for (let i = 0; i < flat.length; i += 2) o[flat[i].toLowerCase()] = flat[i + 1]; return o; };

const ed = edgeKey('edge-bench', 7);
const req = edgeSigned(ed, shape);
const headerObject = object(req.headers);
const hmac = hmacKey('edge-bench-hmac', Buffer.from('0123456789abcdef0123456789abcdef'));
const hreq = edgeSigned(hmac, shape);
const hheaderObject = object(hreq.headers);

const ours = new Verifier({ keys: ed.spec, replayCapacity: 0 });
const oursWasm = new Verifier({ keys: ed.spec, replayCapacity: 0, ed25519: 'wasm' });
if (ours.ed25519Backend !== 'node:crypto' || oursWasm.ed25519Backend !== 'wasm') throw new Error(`unexpected Ed25519 backends ${ours.ed25519Backend}, ${oursWasm.ed25519Backend}`);
const oursHmac = new Verifier({ keys: hmac.spec, replayCapacity: 0 });
const publicKey = crypto.createPublicKey(ed.privateKey);
const edLookup = { keyLookup: async () => ({ id: 'edge-bench', algs: ['ed25519'], verify: hms.createVerifier(publicKey, 'ed25519') }) };
const hmacLookup = { keyLookup: async () => ({ id: 'edge-bench-hmac', algs: ['hmac-sha256'], verify: hms.createVerifier(hmac.secret, 'hmac-sha256') }) };
const url = `http://origin.example${req.url}`;
const signature = Buffer.from(headerObject.signature.slice(6, -1), 'base64');
const base = Buffer.from(req.base);

const cases = [
  ['edge-origin-sdk verifyParts, Ed25519', () => ours.verifyParts(req.method, req.url, headerObject)],
  ['edge-origin-sdk checkParts (rawHeaders), Ed25519', () => ours.checkParts(req.method, req.url, req.headers)],
  ['edge-origin-sdk verifyParts, Ed25519 forced wasm', () => oursWasm.verifyParts(req.method, req.url, headerObject)],
  ['edge-origin-sdk checkParts, Ed25519 forced wasm', () => oursWasm.checkParts(req.method, req.url, req.headers)],
  ['http-message-signatures verifyMessage, Ed25519', () => hms.httpbis.verifyMessage(edLookup, { method: req.method, url, headers: headerObject })],
  ['node:crypto Ed25519 verify alone (OpenSSL)', () => crypto.verify(null, base, publicKey, signature)],
  ['edge-origin-sdk verifyParts, HMAC-SHA256', () => oursHmac.verifyParts(hreq.method, hreq.url, hheaderObject)],
  ['http-message-signatures verifyMessage, HMAC', () => hms.httpbis.verifyMessage(hmacLookup, { method: hreq.method, url, headers: hheaderObject })],
];

async function round(fn, seconds) {
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(seconds * 1e9));
  let t = start;
  while (t < until) {
    for (let i = 0; i < 20; i++) await fn();
    n += 20;
    t = process.hrtime.bigint();
  }
  return Number(t - start) / 1e3 / n;
}

(async () => {
  for (const v of [ours, oursWasm]) if (!v.checkParts(req.method, req.url, req.headers).ok) throw new Error('package refused the Ed25519 bench request');
  if (!oursHmac.checkParts(hreq.method, hreq.url, hreq.headers).ok) throw new Error('package refused the HMAC bench request');
  for (const [name, fn] of cases) if ((await fn()) === false) throw new Error(`${name} refused the bench request`);
  const rounds = Number(process.env.ROUNDS || 7);
  const best = cases.map(() => Infinity);
  for (const [, fn] of cases) await round(fn, 0.3); // warm-up (JIT, wasm tier-up)
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) best[i] = Math.min(best[i], await round(cases[i][1], 0.4));
  }
  console.log(`node ${process.version}; edge-shaped request (13 covered components); best of ${rounds} interleaved rounds`);
  cases.forEach(([name], i) => console.log(`${name.padEnd(50)} ${best[i].toFixed(1).padStart(8)} µs ${Math.round(1e6 / best[i]).toString().padStart(8)} /s`));
  const at = (prefix) => best[cases.findIndex(([name]) => name.startsWith(prefix))];
  const [edNode, edWasm, edHms] = [at('edge-origin-sdk verifyParts, Ed25519'), at('edge-origin-sdk verifyParts, Ed25519 forced'), at('http-message-signatures verifyMessage, Ed25519')];
  console.log(`ratio http-message-signatures / edge-origin-sdk: Ed25519 ${(edHms / edNode).toFixed(2)}x (forced wasm ${(edHms / edWasm).toFixed(2)}x), `
    + `HMAC ${(at('http-message-signatures verifyMessage, HMAC') / at('edge-origin-sdk verifyParts, HMAC')).toFixed(2)}x`);
  console.log(`forced wasm / node:crypto: ${(edWasm / edNode).toFixed(2)}x`);
})().catch((e) => { console.error(e); process.exit(1); });
