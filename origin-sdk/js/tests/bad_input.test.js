'use strict';
// The binding boundary never crashes the host process: hostile header bytes,
// huge headers, duplicate Signature-Input, wrong JS types, random mutations.
// Request problems come back as VerifyError; wrong argument types as TypeError.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Verifier, VerifyError } = require('../package');
const { edgeKey, edgeSigned } = require('./edge_signer');

const NOW = 1_700_000_000;
const KEY = edgeKey('edge-2026', 1);
const verifier = new Verifier({ keys: KEY.spec, replayCapacity: 0 });
const signed = edgeSigned(KEY, { created: NOW });

const reasonOf = (headers, method = 'GET', url = signed.url) => {
  const out = verifier.checkParts(method, url, headers, NOW);
  return out.ok ? 'ok' : out.error.reason;
};

test('non-UTF-8 and non-byte header values', () => {
  // Raw bytes (latin-1, as Node hands them over) are field bytes, not text.
  assert.equal(reasonOf([...signed.headers, 'x-junk', Buffer.from([0xff, 0xfe, 0x80])]), 'ok');
  assert.equal(reasonOf([...signed.headers, 'x-junk', '\xff\xfe']), 'ok');
  // Characters above U+00FF, NUL and CR/LF cannot be field bytes: refused.
  for (const bad of ['\u20ac', 'a\u0000b', 'a\r\nx-edge-user: admin', '\ud800']) {
    assert.equal(reasonOf([...signed.headers, 'x-junk', bad]), 'malformed', JSON.stringify(bad));
  }
  assert.equal(reasonOf([...signed.headers, 'bad name', 'v']), 'malformed');
  assert.equal(reasonOf(signed.headers, 'G ET'), 'malformed');
  assert.equal(reasonOf(signed.headers, 'GET', 'http://[::1'), 'malformed');
});

test('huge headers are refused or verified, never fatal', () => {
  const big = 'a'.repeat(1 << 20);
  assert.notEqual(reasonOf(['Signature-Input', `edge=(${'"x" '.repeat(100000)})`, 'Signature', `edge=:${big}:`]), 'ok');
  assert.equal(reasonOf([...signed.headers, 'x-big', big]), 'ok');
  const many = [];
  for (let i = 0; i < 20000; i++) many.push(`x-h${i}`, 'v');
  assert.equal(reasonOf([...signed.headers, ...many]), 'ok');
});

test('duplicate Signature-Input lines are a duplicate label, not a choice', () => {
  const i = signed.headers.indexOf('Signature-Input');
  const dup = [...signed.headers, 'Signature-Input', signed.headers[i + 1]];
  assert.equal(reasonOf(dup), 'duplicate_label');
  const other = edgeSigned(KEY, { created: NOW });
  const j = other.headers.indexOf('Signature-Input');
  assert.equal(reasonOf([...signed.headers, 'signature-input', other.headers[j + 1]]), 'duplicate_label');
});

test('wrong JS types throw TypeError, never crash', () => {
  const wrong = [
    () => verifier.checkParts(1, '/', []),
    () => verifier.checkParts('GET', null, []),
    () => verifier.checkParts('GET', '/', null),
    () => verifier.checkParts('GET', '/', 42),
    () => verifier.checkParts('GET', '/', ['a']),
    () => verifier.checkParts('GET', '/', [['a']]),
    () => verifier.checkParts('GET', '/', [['a', 5]]),
    () => verifier.checkParts('GET', '/', { a: { b: 1 } }),
    () => verifier.checkParts('GET', '/', { a: [1] }),
    () => verifier.checkParts('GET', '/', [Symbol('x'), 'v']),
    () => verifier.checkParts('GET', '/', [], 'now'),
    () => verifier.verify({}),
    () => verifier.verify(null),
    () => new Verifier(),
    () => new Verifier({ keys: 5 }),
    () => new Verifier({ keys: KEY.spec, maxSkew: 'ten' }),
    () => new Verifier({ keys: KEY.spec, replayCapacity: -1 }),
    () => new Verifier({ keys: 'k:not-base64!' }),
    () => new Verifier({ keys: KEY.spec, clock: 5 }),
    () => new Verifier({ keys: KEY.spec, nonsense: true }),
  ];
  for (const fn of wrong) assert.throws(fn, TypeError, fn.toString());
  for (const now of [NaN, -1, Infinity]) assert.equal(verifier.checkParts('GET', '/', [], now).error.reason, 'malformed');
  assert.throws(() => new Verifier({ keys: KEY.spec, maxSkew: 'ten' }), /maxSkew/);
});

test('random mutations of a signed request: an outcome every time, and the verifier still works', () => {
  let seed = 7;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const alphabet = '=();:"@ ,.*?-+/\\abcdefxyz0129\t\x7f\x80\xff';
  const i = signed.headers.indexOf('Signature-Input');
  let refused = 0;
  for (let n = 0; n < 3000; n++) {
    const h = signed.headers.slice();
    const k = rand(2) ? i + 1 : i + 3; // Signature-Input or Signature
    let s = h[k];
    for (let m = 0; m <= rand(4); m++) {
      const at = rand(s.length + 1);
      s = rand(2) ? s.slice(0, at) + alphabet[rand(alphabet.length)] + s.slice(at) : s.slice(0, at) + s.slice(at + 1);
    }
    h[k] = s;
    const out = verifier.checkParts('GET', signed.url, h, NOW);
    assert.equal(typeof out.ok, 'boolean');
    if (!out.ok) { assert.ok(out.error instanceof VerifyError && out.error.reason.length > 0); refused++; }
  }
  assert.ok(refused > 2900, `${refused} of 3000 mutations refused`);
  assert.ok(verifier.checkParts(signed.method, signed.url, signed.headers, NOW).ok);
});
