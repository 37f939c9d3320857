// The shell's few JavaScript helpers: each does in one JS↔wasm call what
// workers-rs does in one call per header, per field or per timer (framing:
// edge/src/wire.rs). Behaviour stays in Rust; these only move data.

const str = (v) => (typeof v !== "string" ? "" : v.includes("\n") ? v.replace(/\n/g, " ") : v);
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? String(v) : "");

/** Method, URL, the request.cf fields the core reads, then every header. */
export function request_parts(req) {
  const cf = req.cf ?? {};
  const bm = cf.botManagement;
  const hasBm = bm !== null && typeof bm === "object";
  let out = [
    req.method, req.url, str(cf.country), str(cf.continent), str(cf.region), str(cf.regionCode), str(cf.city),
    num(cf.asn), str(cf.asOrganization), str(cf.colo), str(cf.httpProtocol), str(cf.tlsVersion),
    hasBm ? "1" : "", hasBm ? num(bm.score) : "", hasBm && bm.verifiedBot === true ? "1" : "",
  ].join("\n") + "\n";
  for (const [name, value] of req.headers) out += name + "\n" + value + "\n";
  return out;
}

/** Calls `f(name, value)` for each pair of `name\nvalue\n` lines. */
function eachHeader(headerLines, f) {
  const lines = headerLines.split("\n");
  for (let i = 0; i + 1 < lines.length; i += 2) f(lines[i], lines[i + 1]);
}

/** Why `forward` failed: the Rust side maps these to its outcomes. */
const BAD_HEADER = "bad_header";
const TIMEOUT = "timeout";
const CONNECT = "connect";
const SIGN = "sign";

/**
 * Sends one upstream request: headers from `name\nvalue\n` lines, no redirects
 * followed, aborted (rejecting with "timeout") when no response headers came
 * within `timeoutMs`; the timer is cleared once they do, so a long body
 * still streams (AbortSignal.timeout would cut it). `controller` also lets a
 * body-size limit abort the upload. Rejects with "bad_header" when the
 * runtime refuses a header, "connect" for any other fetch failure.
 *
 * With `seed` (an Ed25519 seed, base64) the request is signed here first:
 * `base` signed by WebCrypto, then `signature-input: sigInput` and
 * `signature: <sigLabel>=:<base64>:` appended, in one call and one promise
 * with the fetch. Rejects with "sign" when WebCrypto cannot sign (the
 * Rust side then signs in wasm and calls again without a seed).
 */
export function forward(url, method, headerLines, body, timeoutMs, controller, seed, base, sigInput, sigLabel) {
  const headers = new Headers();
  try {
    eachHeader(headerLines, (name, value) => headers.append(name, value));
  } catch {
    return Promise.reject(BAD_HEADER);
  }
  const abort = controller ?? new AbortController();
  const init = { method, headers, redirect: "manual", signal: abort.signal };
  if (body !== undefined && body !== null) init.body = body;
  // One promise settled by the fetch, its timer or the signing, whichever
  // decides first (a later settle is a no-op), rather than a chain of
  // promises each adopting the next: every request's promises outlive a few
  // scavenges while it waits on the origin, so each one avoided is
  // old-generation garbage avoided.
  return new Promise((resolve, reject) => {
    if (!seed) return send(url, init, abort, timeoutMs, resolve, reject);
    let signed;
    try {
      signed = signature(seed, base);
    } catch {
      return reject(SIGN);
    }
    signed.then(
      (sig) => {
        try {
          headers.append("signature-input", sigInput);
          headers.append("signature", `${sigLabel}=:${base64(sig)}:`);
        } catch {
          return reject(SIGN);
        }
        send(url, init, abort, timeoutMs, resolve, reject);
      },
      () => reject(SIGN),
    );
  });
}

/** The fetch raced with its timer, settling `resolve`/`reject`. */
function send(url, init, abort, timeoutMs, resolve, reject) {
  const timer = setTimeout(() => {
    abort.abort();
    reject(TIMEOUT);
  }, timeoutMs);
  const failed = () => {
    clearTimeout(timer);
    reject(CONNECT);
  };
  try {
    fetch(url, init).then((response) => {
      clearTimeout(timer);
      resolve(response);
    }, failed);
  } catch {
    failed();
  }
}

/**
 * The Response the client gets: `resp`'s status, body (streamed, not read)
 * and WebSocket with a mutable copy of its headers, `opLines` edits applied
 * (a fetched response's headers are immutable). One call instead of
 * workers-rs' field-by-field conversion there and back.
 */
export function finish(resp, opLines) {
  const status = resp.status;
  const body = status === 101 || status === 204 || status === 304 ? null : resp.body;
  const ws = resp.webSocket;
  // A Response as the init copies status, status text and headers inside
  // the runtime; the WebSocket goes in a dictionary init.
  const out = ws ? new Response(body, { status, statusText: resp.statusText, headers: resp.headers, webSocket: ws }) : new Response(body, resp);
  edit_headers(out.headers, opLines);
  return out;
}

/** A Response the edge makes itself: status, `name\nvalue\n` header lines (set in order), body bytes (a view into wasm memory; none when empty). */
export function respond(status, headerLines, body) {
  const headers = new Headers();
  eachHeader(headerLines, (name, value) => {
    try {
      headers.set(name, value);
    } catch {
      // skipped, as before (validation refused malformed ones)
    }
  });
  // Bytes, not a string: a string body would add `content-type: text/plain`.
  return new Response(body.length === 0 ? null : body.slice(), { status, headers });
}

/**
 * Applies `op\nname\nvalue\n` edits (s: set, d: delete, a: set if absent) to
 * `headers` in order; an edit the runtime refuses is skipped (validation
 * already refused malformed names and values).
 */
export function edit_headers(headers, opLines) {
  const lines = opLines.split("\n");
  for (let i = 0; i + 2 < lines.length; i += 3) {
    const [op, name, value] = [lines[i], lines[i + 1], lines[i + 2]];
    try {
      if (op === "s") headers.set(name, value);
      else if (op === "d") headers.delete(name);
      else if (op === "a" && !headers.has(name)) headers.set(name, value);
    } catch {
      // skipped, as the per-op path did
    }
  }
}

/** PKCS #8 wrapping of a 32-byte Ed25519 seed (RFC 8410), before the seed. */
const PKCS8_ED25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/** The isolate's imported signing key, for the seed it was imported from. */
let ed25519 = { seed: "", key: null, pending: null };

/**
 * The Ed25519 signature (an ArrayBuffer) of `base` (bytes) by the key whose
 * seed is `seedB64`, through WebCrypto: the runtime's native Ed25519 signs
 * several times faster than the curve arithmetic compiled to wasm. Rejects
 * when the runtime cannot. The key is imported once per isolate and seed.
 */
function signature(seedB64, base) {
  const data = base.slice(); // `base` is a view into wasm memory
  if (ed25519.seed !== seedB64) {
    const seed = Uint8Array.from(atob(seedB64), (c) => c.charCodeAt(0));
    const pkcs8 = new Uint8Array(PKCS8_ED25519.length + seed.length);
    pkcs8.set(PKCS8_ED25519);
    pkcs8.set(seed, PKCS8_ED25519.length);
    const entry = { seed: seedB64, key: null, pending: crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]) };
    entry.pending.then((key) => (entry.key = key), () => {});
    ed25519 = entry;
  }
  const { key, pending } = ed25519;
  return key ? crypto.subtle.sign("Ed25519", key, data) : pending.then((k) => crypto.subtle.sign("Ed25519", k, data));
}

const base64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)));

/**
 * `stream` through a counter: `counter.seen` counts the bytes passed; past
 * `limit` it aborts `controller` (the upstream fetch) and errors the stream,
 * so the origin sees a broken upload rather than a short one.
 */
export function count_limited(stream, limit, controller, counter) {
  const counted = new TransformStream({
    transform(chunk, out) {
      counter.seen += chunk instanceof Uint8Array ? chunk.byteLength : 0;
      if (counter.seen > limit) {
        controller.abort();
        out.error(new Error("request body too large"));
      } else {
        out.enqueue(chunk);
      }
    },
  });
  // Errors surface on the readable side, where the fetch sees them.
  stream.pipeTo(counted.writable).catch(() => {});
  return counted.readable;
}

// The request executor's half in JavaScript (edge/src/shell/task.rs): the
// client's promise of each task still running, and the reactions that resume
// a task when the promise it awaits settles. `resume`, `poke` and `forget`
// are Rust closures, set once per isolate.
let resume = null;
let poke = null;
let forget = null;
/** Task id to the resolve function of its client's promise. */
const clients = new Map();
/**
 * A task's reactions are reachable only from the promise it awaits; collected
 * unrun (the runtime dropped the request), they tell Rust to drop the task.
 */
const abandoned =
  typeof FinalizationRegistry === "undefined" ? null : new FinalizationRegistry(([task, seq]) => forget(task, seq));

export function set_driver(onSettle, onWake, onLost) {
  resume = onSettle;
  poke = onWake;
  forget = onLost;
}

/** The promise the client's response will come in, for a task still running. */
export function client_promise(task) {
  return new Promise((resolve) => clients.set(task, resolve));
}

/** Resolves task's client promise with `response` (a Response, or a Promise of one). */
export function settle_client(task, response) {
  const resolve = clients.get(task);
  clients.delete(task);
  if (resolve) resolve(response);
}

export function drop_client(task) {
  clients.delete(task);
}

/** Resumes task `task` once `promise` (its promise number `seq`) settles. */
export function resume_on(promise, task, seq) {
  const token = { task, seq };
  abandoned?.register(token, [task, seq], token);
  promise.then(
    (value) => {
      abandoned?.unregister(token);
      resume(token.task, token.seq, true, value);
    },
    (error) => {
      abandoned?.unregister(token);
      resume(token.task, token.seq, false, error);
    },
  );
}

/** Polls task `task` from a microtask (a Rust waker fired). */
export function wake_soon(task) {
  queueMicrotask(() => poke(task));
}
