'use strict';
// The Next.js example middleware (examples/next/middleware.mjs), as shipped,
// run under Node with Fetch Requests. `next/server` is a stand-in that
// records what `NextResponse.next` was given (a real `next build` does not
// fit CI time); everything else is the example and the package.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { edgeKey, edgeSigned } = require('./edge_signer');
const { forwardedFacts } = require('../package/fetch');

const KEY = edgeKey('edge-2026', 3);

function loadExample() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'next-example-'));
  const next = path.join(dir, 'node_modules/next');
  fs.mkdirSync(next, { recursive: true });
  fs.writeFileSync(path.join(next, 'package.json'), '{"name":"next","version":"0.0.0-stand-in","exports":{"./server":"./server.js"}}');
  fs.writeFileSync(path.join(next, 'server.js'), 'exports.NextResponse = { next: (init) => ({ kind: "next", init }) };');
  fs.symlinkSync(path.join(__dirname, '../package'), path.join(dir, 'node_modules/edge-origin-sdk'), 'dir');
  fs.copyFileSync(path.join(__dirname, '../examples/next/middleware.mjs'), path.join(dir, 'middleware.mjs'));
  process.env.EDGE_VERIFY_KEYS = KEY.spec;
  return import(pathToFileURL(path.join(dir, 'middleware.mjs')).href);
}

function fetchRequest(r) {
  const pairs = [];
  for (let i = 0; i < r.headers.length; i += 2) pairs.push([r.headers[i], r.headers[i + 1]]);
  return new Request(`http://origin.example${r.url}`, { method: r.method, headers: pairs });
}

test('example middleware: forwards facts, strips forgeries, refuses unsigned and replayed', async () => {
  const { middleware, config } = await loadExample();
  assert.equal(config.runtime, 'nodejs');
  const r = edgeSigned(KEY, { created: Math.floor(Date.now() / 1000), facts: { 'x-edge-user': 'alice', 'x-edge-country': 'NL' },
    extra: ['x-edge-verified-facts', '{"user":"root"}', 'x-edge-injected', '1'] });
  const passed = middleware(fetchRequest(r));
  assert.equal(passed.kind, 'next');
  const headers = passed.init.request.headers;
  assert.deepEqual([forwardedFacts(headers).user, forwardedFacts(headers).country], ['alice', 'NL']);
  assert.equal(headers.get('x-edge-injected'), null);

  const replayed = middleware(fetchRequest(r));
  assert.ok(replayed instanceof Response);
  assert.equal(replayed.status, 401);
  assert.deepEqual(await replayed.json(), { error: 'edge_signature_rejected', reason: 'replayed' });

  const unsigned = middleware(new Request('http://origin.example/orders', { headers: { 'x-edge-user': 'admin' } }));
  assert.equal(unsigned.status, 401);
  assert.equal((await unsigned.json()).reason, 'missing_signature');
});
