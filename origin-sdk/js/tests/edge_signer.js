'use strict';
// An independent, test-only signer of edge-shaped requests (RFC 9421 by hand
// with node:crypto), so the package is checked against something other than
// the Rust signer it shares code with.

const crypto = require('node:crypto');

const TRUST = ['x-edge-client-ip', 'x-edge-country', 'x-edge-asn', 'x-edge-colo', 'x-edge-request-id',
  'x-edge-user', 'x-edge-claims', 'x-edge-bot-score', 'x-edge-bot-class'];

/** An Ed25519 key pair from a 32-byte seed, with its `kid:BASE64` spec entry. */
function edgeKey(keyid, seedByte) {
  const seed = Buffer.alloc(32, seedByte);
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const privateKey = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const x = crypto.createPublicKey(privateKey).export({ format: 'jwk' }).x;
  const publicB64 = Buffer.from(x, 'base64url').toString('base64');
  return { keyid, privateKey, spec: `${keyid}:${publicB64}` };
}

/** An HMAC-SHA256 key (`kid:hmac:BASE64` spec entry). */
function hmacKey(keyid, secret) {
  return { keyid, secret, alg: 'hmac-sha256', spec: `${keyid}:hmac:${secret.toString('base64')}` };
}

/** `{ method, url, headers }` (headers as Node `rawHeaders`) signed like the
 * edge signs: method, authority, path, query and every trust header. */
function edgeSigned(key, { method = 'GET', authority = 'origin.example', path = '/orders', query = 'id=7',
  facts = {}, created, validity = 60, nonce = crypto.randomUUID(), extra = [] } = {}) {
  const components = ['@method', '@authority', '@path', '@query', ...TRUST];
  const derived = { '@method': method, '@authority': authority, '@path': path, '@query': `?${query}` };
  const value = (c) => (c.startsWith('@') ? derived[c] : facts[c] ?? '');
  const params = `(${components.map((c) => `"${c}"`).join(' ')});created=${created};expires=${created + validity};`
    + `keyid="${key.keyid}";nonce="${nonce}";alg="${key.alg || 'ed25519'}";tag="edge-trust"`;
  const base = `${components.map((c) => `"${c}": ${value(c)}`).join('\n')}\n"@signature-params": ${params}`;
  const signature = (key.secret
    ? crypto.createHmac('sha256', key.secret).update(base).digest()
    : crypto.sign(null, Buffer.from(base), key.privateKey)).toString('base64');
  const headers = ['Host', authority];
  for (const h of TRUST) headers.push(h, facts[h] ?? '');
  headers.push('Signature-Input', `edge=${params}`, 'Signature', `edge=:${signature}:`, ...extra);
  return { method, url: `${path}?${query}`, headers, base };
}

module.exports = { edgeKey, hmacKey, edgeSigned, TRUST };
