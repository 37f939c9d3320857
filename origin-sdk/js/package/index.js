'use strict';
// Verification of the edge's signature, by origin-sdk compiled to WebAssembly
// (./wasm, built by origin-sdk/js/build.sh). This file only translates JS
// values: verification, stripping and the replay cache are the Rust core's.
// The one exception is the Ed25519 curve operation: on Node it is OpenSSL's
// (node:crypto, a few percent faster than the curve in wasm32), asked only
// "is this signature valid for this key" by the Rust core; see loadNodeEd25519.

const { Core } = require('./wasm/origin_sdk_js.js');

/** A request the edge did not sign, or signed differently: `reason` is the
 * Rust `VerifyError` variant in snake_case (`bad_signature`, `replayed`, ...). */
class VerifyError extends Error {
  constructor(reason, message) {
    super(message);
    this.name = 'VerifyError';
    this.reason = reason;
  }
}

const latin1 = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

function fieldValue(name, v) {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return latin1(v);
  throw new TypeError(`header ${JSON.stringify(String(name))}: value must be a string or Uint8Array, got ${v === null ? 'null' : typeof v}`);
}

/** Header lines as Rust wants them: `[name, value, name, value, ...]`.
 * Accepts a Fetch `Headers`, Node's `rawHeaders` (flat array), an array of
 * `[name, value]` pairs, a `Map`, or an object such as Node's `req.headers`
 * (array values are repeated lines). */
function flatHeaders(headers) {
  const out = [];
  const push = (name, value) => {
    if (typeof name !== 'string') throw new TypeError(`header name must be a string, got ${typeof name}`);
    out.push(name, fieldValue(name, value));
  };
  if (headers === null || typeof headers !== 'object') {
    throw new TypeError(`headers must be a Headers, an array or an object, got ${headers === null ? 'null' : typeof headers}`);
  }
  if (Array.isArray(headers)) {
    if (!headers.length || !Array.isArray(headers[0])) {
      if (headers.length % 2) throw new TypeError('a flat header array must have name/value pairs');
      for (let i = 0; i < headers.length; i += 2) push(headers[i], headers[i + 1]);
    } else {
      for (const pair of headers) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('header pairs must be [name, value]');
        push(pair[0], pair[1]);
      }
    }
  } else if (typeof headers.entries === 'function' && typeof headers.get === 'function') {
    // Headers and Map. Headers joins repeated fields with ", " (RFC 9110), as
    // the signature base does; Set-Cookie stays separate.
    for (const [name, value] of headers.entries()) push(name, value);
  } else {
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value === undefined) continue;
      if (Array.isArray(value)) value.forEach((v) => push(name, v));
      else push(name, value);
    }
  }
  return out;
}

const unixNow = () => Math.floor(Date.now() / 1000);

// SPKI DER header of an Ed25519 public key (RFC 8410); the 32 key bytes follow.
const ED25519_SPKI = '302a300506032b6570032100';
// RFC 8032 §7.1 TEST 1 (empty message): public key and signature.
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_SIGNATURE = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

/** The Rust core's host Ed25519 factory on node:crypto: called once per key,
 * it makes the key's KeyObject and returns its synchronous check. `null`
 * where node:crypto cannot do that (Next.js Edge runtime, browsers, workerd:
 * WebCrypto is asynchronous only) or fails RFC 8032's first test vector. */
function loadNodeEd25519() {
  try {
    const crypto = require('node:crypto');
    if (typeof crypto.verify !== 'function' || typeof crypto.createPublicKey !== 'function' || typeof Buffer !== 'function') return null;
    const keyObject = (publicKey) => crypto.createPublicKey({ key: Buffer.concat([Buffer.from(ED25519_SPKI, 'hex'), publicKey]), format: 'der', type: 'spki' });
    const probe = keyObject(Buffer.from(RFC8032_PUBLIC, 'hex'));
    const signature = Buffer.from(RFC8032_SIGNATURE, 'hex');
    const empty = new Uint8Array(0);
    if (crypto.verify(null, empty, probe, signature) !== true) return null;
    signature[63] ^= 1;
    if (crypto.verify(null, empty, probe, signature) !== false) return null;
    return (publicKey) => {
      const key = keyObject(publicKey);
      return (message, sig) => crypto.verify(null, message, key, sig);
    };
  } catch {
    return null;
  }
}

let nodeEd25519;
/** The node:crypto factory, probed on first use. */
function nodeEd25519Factory() {
  if (nodeEd25519 === undefined) nodeEd25519 = loadNodeEd25519();
  return nodeEd25519;
}

/** The factory the Rust core gets for `ed25519` option `mode`, and the name reported. */
function ed25519Host(mode) {
  if (typeof mode === 'function') return [mode, 'custom'];
  if (mode === undefined || mode === 'auto') return [nodeEd25519Factory(), 'node:crypto'];
  if (mode === 'node') {
    const f = nodeEd25519Factory();
    if (!f) throw new TypeError('edge-origin-sdk: ed25519: "node" but node:crypto cannot verify Ed25519 synchronously here');
    return [f, 'node:crypto'];
  }
  if (mode === 'wasm') return [null, 'wasm'];
  throw new TypeError('ed25519 must be "auto", "node", "wasm" or a key => check factory');
}

/**
 * Checks edge signatures; build once per process and share. Holds the bounded
 * nonce replay cache, like the Rust `EdgeAuthLayer`.
 */
class Verifier {
  /** @param {import('./index').VerifierOptions} options */
  constructor(options) {
    if (options === null || typeof options !== 'object') throw new TypeError('Verifier options must be an object, e.g. { keys: process.env.EDGE_VERIFY_KEYS }');
    const { clock, ed25519, ...rest } = options;
    if (clock !== undefined && typeof clock !== 'function') throw new TypeError('clock must be a function returning Unix seconds');
    this._clock = clock || unixNow;
    const [host, hostName] = ed25519Host(ed25519);
    try {
      this._core = new Core(JSON.stringify(rest), host || undefined);
    } catch (e) {
      throw new TypeError(`edge-origin-sdk: ${e && e.message ? e.message : e}`);
    }
    /** What checks Ed25519 signatures: `node:crypto`, `custom`, or `wasm`
     * (curve25519-dalek in the module; also when no key is Ed25519). */
    this.ed25519Backend = this._core.hostKeys() > 0 ? hostName : 'wasm';
  }

  /** The outcome for one request given as parts; never throws for bad
   * requests (only for wrong argument types). */
  checkParts(method, url, headers, now) {
    if (typeof method !== 'string') throw new TypeError(`method must be a string, got ${typeof method}`);
    if (typeof url !== 'string') throw new TypeError(`url must be a string, got ${typeof url}`);
    const t = now === undefined ? this._clock() : now;
    if (typeof t !== 'number') throw new TypeError('now must be a number of Unix seconds');
    const out = JSON.parse(this._core.check(method, url, flatHeaders(headers), t));
    if (out.ok) return { ok: true, facts: Object.freeze(out.facts), strip: out.strip };
    return { ok: false, error: new VerifyError(out.reason, out.message), strip: out.strip };
  }

  /** The outcome for a Fetch `Request`, with `headers`: a copy of the
   * request's headers without the ones in `strip` (ready to forward, e.g.
   * `NextResponse.next({ request: { headers } })`). */
  check(request, now) {
    if (request === null || typeof request !== 'object' || typeof request.method !== 'string' || typeof request.url !== 'string' || !request.headers) {
      throw new TypeError('check(request) needs a Fetch Request (method, url, headers)');
    }
    const out = this.checkParts(request.method, request.url, request.headers, now);
    const headers = new Headers(request.headers);
    for (const name of out.strip) headers.delete(name);
    out.headers = headers;
    return out;
  }

  /** Facts of a Fetch `Request`; throws `VerifyError`. */
  verify(request, now) {
    const out = this.check(request, now);
    if (!out.ok) throw out.error;
    return out.facts;
  }

  /** Facts of a request given as method, URL (absolute, or origin-form with
   * a `Host` header) and headers; throws `VerifyError`. */
  verifyParts(method, url, headers, now) {
    const out = this.checkParts(method, url, headers, now);
    if (!out.ok) throw out.error;
    return out.facts;
  }
}

module.exports = { Verifier, VerifyError, flatHeaders };
module.exports.edgeAuth = (...args) => require('./express.js').edgeAuth(...args);
