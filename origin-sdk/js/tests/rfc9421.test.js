'use strict';
// RFC 9421 Appendix B vectors (B.2.5 HMAC, B.2.6 Ed25519, B.4 transformations)
// through the npm package, from the repository's vendored copy; Ed25519 both
// by node:crypto (the default on Node) and by the wasm module.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Verifier, VerifyError } = require('../package');

const CORPUS = path.join(__dirname, '../../../tests/corpora/rfc9421');
const read = (rel) => fs.readFileSync(path.join(CORPUS, rel), 'utf8');
const vectors = JSON.parse(read('rfc9421_vectors.json'));
const vector = (id) => vectors.find((v) => v.id === id);

/** `{ method, target, headers: [[name, value], ...] }` of an HTTP/1.1 message text. */
function parseHttp(text) {
  const [head] = text.split(/\r?\n\r?\n/);
  const [start, ...lines] = head.split(/\r?\n/);
  const [method, target] = start.split(' ');
  return { method, target, headers: lines.map((l) => { const i = l.indexOf(':'); return [l.slice(0, i), l.slice(i + 1).trim()]; }) };
}

/** Label and covered components of a one-member Signature-Input. */
function member(input) {
  const label = input.slice(0, input.indexOf('='));
  const list = input.slice(input.indexOf('(') + 1, input.indexOf(')'));
  return { label, components: [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]) };
}

function rfcVerifier(keys, input, ed25519) {
  const { label, components } = member(input);
  return new Verifier({ keys, label, requiredTag: null, requireNonce: false, requireExpires: false,
    requiredComponents: components, replayCapacity: 0, ed25519 });
}

const CREATED = 1618884473;
const ed25519Jwk = JSON.parse(read('keys/test-key-ed25519.jwk.json'));
const hmacSpec = `test-shared-secret:hmac:${read('keys/test-shared-secret.b64').trim()}`;

for (const ed25519 of ['node', 'wasm']) {
  for (const [id, keys] of [['B.2.5', hmacSpec], ['B.2.6', [ed25519Jwk]]]) {
    test(`${id} (Ed25519 by ${ed25519}) verifies, and fails once a covered field changes`, () => {
      const v = vector(id);
      const msg = parseHttp(read(v.message));
      const headers = [...msg.headers, ['Signature-Input', v.signature_input], ['Signature', v.signature]];
      const verifier = rfcVerifier(keys, v.signature_input, ed25519);
      assert.equal(verifier.ed25519Backend, id === 'B.2.6' && ed25519 === 'node' ? 'node:crypto' : 'wasm');
      const facts = verifier.verifyParts(msg.method, msg.target, headers, CREATED + 5);
      assert.equal(facts.keyid, v.keyid);
      assert.equal(facts.created, CREATED);
      // The same as a Fetch Request (absolute URL, Headers).
      const req = new Request(`https://example.com${msg.target}`, { method: msg.method, headers: headers.filter(([n]) => n.toLowerCase() !== 'content-length') });
      if (!v.signature_input.includes('content-length')) assert.equal(verifier.verify(req, CREATED + 5).keyid, v.keyid);
      const tampered = headers.map(([n, val]) => [n, n.toLowerCase() === 'content-type' ? 'text/plain' : val]);
      assert.throws(() => verifier.verifyParts(msg.method, msg.target, tampered, CREATED), (e) => e instanceof VerifyError && e.reason === 'bad_signature');
      assert.throws(() => verifier.verifyParts(msg.method, msg.target, headers, CREATED + 3600), (e) => e.reason === 'expired');
    });
  }

  test(`B.4 transformations (Ed25519 by ${ed25519}): allowed ones verify, covered changes fail`, () => {
    const cases = vectors.filter((v) => v.id.startsWith('B.4'));
    assert.equal(cases.length, 6);
    for (const v of cases) {
      const msg = parseHttp(v.message);
      const input = msg.headers.find(([n]) => n === 'Signature-Input')[1];
      const out = rfcVerifier([ed25519Jwk], input, ed25519).checkParts(msg.method, msg.target, msg.headers, CREATED);
      if (v.expect_verify) assert.ok(out.ok, `${v.id}: ${out.ok || out.error.message}`);
      else assert.equal(out.ok ? 'ok' : out.error.reason, 'bad_signature', v.id);
    }
  });
}
