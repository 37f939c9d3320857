'use strict';
// Verifications per second from Node: this package (origin-sdk in wasm)
// against http-message-signatures, a pure-JS RFC 9421 implementation
// (its Ed25519 check is node:crypto's, i.e. OpenSSL), on the same edge-shaped
// request as origin-sdk/benches/verify.rs. One process, one core; run:
//   node origin-sdk/js/bench/verify.js
// (after origin-sdk/js/build.sh and `npm ci --prefix tests/js`).

const path = require('node:path');
const crypto = require('node:crypto');
const { Verifier } = require('../package');
const { edgeKey, edgeSigned } = require('../tests/edge_signer');

const ROOT = path.join(__dirname, '../../..');
const hms = require(require.resolve('http-message-signatures', { paths: [path.join(ROOT, 'tests/js')] }));

const key = edgeKey('edge-bench', 7);
const now = Math.floor(Date.now() / 1000);
const facts = {
  'x-edge-client-ip': '203.0.113.7', 'x-edge-country': 'DE', 'x-edge-asn': '3320', 'x-edge-colo': 'FRA',
  'x-edge-request-id': '5f0c6e1e-2f4b-4c2e-9a53-0d6f3f1b2a77', 'x-edge-user': 'alice',
  'x-edge-claims': 'eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbImFkbWluIl19', 'x-edge-bot-score': '87', 'x-edge-bot-class': '',
};
const req = edgeSigned(key, { authority: 'origin.example', path: '/api/orders', query: 'id=7&page=2', facts, created: now, extra: ['Accept', 'application/json'] });
const headerObject = {};
for (let i = 0; i < req.headers.length; i += 2) headerObject[req.headers[i].toLowerCase()] = req.headers[i + 1];

const ours = new Verifier({ keys: key.spec, replayCapacity: 0 });
const publicKey = crypto.createPublicKey(key.privateKey);
const lookup = { keyLookup: async () => ({ id: 'edge-bench', algs: ['ed25519'], verify: hms.createVerifier(publicKey, 'ed25519') }) };
const theirs = () => hms.httpbis.verifyMessage(lookup, { method: req.method, url: `http://origin.example${req.url}`, headers: headerObject });
const signature = Buffer.from(headerObject.signature.slice(6, -1), 'base64');

async function measure(name, fn, seconds = 2) {
  for (let i = 0; i < 200; i++) await fn(); // warm-up (JIT, wasm tier-up)
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(seconds * 1e9);
  let t = start;
  while (t < until) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
    t = process.hrtime.bigint();
  }
  const us = Number(t - start) / 1e3 / n;
  console.log(`${name.padEnd(44)} ${us.toFixed(1).padStart(8)} µs  ${Math.round(1e6 / us).toString().padStart(7)} /s`);
  return us;
}

(async () => {
  if (!ours.checkParts(req.method, req.url, req.headers).ok) throw new Error('package refused the bench request');
  if ((await theirs()) !== true) throw new Error('http-message-signatures refused the bench request');
  console.log(`node ${process.version}, edge-shaped Ed25519 request (13 covered components)`);
  const a = await measure('edge-origin-sdk checkParts (rawHeaders)', () => ours.checkParts(req.method, req.url, req.headers));
  const b = await measure('edge-origin-sdk verifyParts (req.headers)', () => ours.verifyParts(req.method, req.url, headerObject));
  const c = await measure('http-message-signatures verifyMessage', theirs);
  const d = await measure('node:crypto Ed25519 verify alone (OpenSSL)', () => crypto.verify(null, Buffer.from(req.base), publicKey, signature));
  console.log(`ratio http-message-signatures / edge-origin-sdk: ${(c / a).toFixed(2)}x (rawHeaders), ${(c / b).toFixed(2)}x (req.headers); OpenSSL verify alone ${d.toFixed(1)} µs`);
})().catch((e) => { console.error(e); process.exit(1); });
