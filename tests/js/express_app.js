'use strict';
// A real Express app behind the edge, verifying with the npm package as a
// user would install it (the tarball built by origin-sdk/js/build.sh).
// Env: PORT (0 = any), EDGE_VERIFY_KEYS. Prints `listening on PORT`.

const express = require('express');
const { edgeAuth, Verifier } = require('edge-origin-sdk');

const app = express();
app.use(edgeAuth({ keys: process.env.EDGE_VERIFY_KEYS, exempt: ['/express/health'] }));
// Who checks Ed25519 for these keys (node:crypto on Node unless forced to wasm).
const ed25519 = new Verifier({ keys: process.env.EDGE_VERIFY_KEYS }).ed25519Backend;
// Reports what the app can see: the verified facts and the headers left to it.
app.use((req, res) => res.json({ origin: 'express', path: req.path, package: require.resolve('edge-origin-sdk'), ed25519, facts: req.edge, headers: req.headers }));

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
