// The shell's few JavaScript helpers: each does in one JS↔wasm call what
// workers-rs does in one call per header, per field or per timer (framing:
// edge/src/wire.rs). Behaviour stays in Rust; these only move data.

const str = (v) => (typeof v === "string" ? v.replace(/\n/g, " ") : "");
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

/** Why `forward` failed: the Rust side maps these to its outcomes. */
const BAD_HEADER = "bad_header";
const TIMEOUT = "timeout";
const CONNECT = "connect";

/**
 * Sends one upstream request: headers from `name\nvalue\n` lines, no redirects
 * followed, aborted (rejecting with "timeout") when no response headers came
 * within `timeoutMs`; the timer is cleared once they do, so a long body
 * still streams (AbortSignal.timeout would cut it). `controller` also lets a
 * body-size limit abort the upload. Rejects with "bad_header" when the
 * runtime refuses a header, "connect" for any other fetch failure.
 */
export function forward(url, method, headerLines, body, timeoutMs, controller) {
  const headers = new Headers();
  const lines = headerLines.split("\n");
  try {
    for (let i = 0; i + 1 < lines.length; i += 2) headers.append(lines[i], lines[i + 1]);
  } catch {
    return Promise.reject(BAD_HEADER);
  }
  const abort = controller ?? new AbortController();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(TIMEOUT);
    }, timeoutMs);
  });
  const init = { method, headers, redirect: "manual", signal: abort.signal };
  if (body !== undefined && body !== null) init.body = body;
  const sent = fetch(url, init).catch(() => Promise.reject(CONNECT));
  return Promise.race([sent, timeout]).finally(() => clearTimeout(timer));
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
