// The JavaScript baseline of scripts/load.sh: what a user might write instead
// of the edge for its core job, in plain Workers JavaScript. It strips the
// client's trust, signature, hop-by-hop and underscore headers, sets the trust
// headers from request.cf, signs them with Ed25519 through WebCrypto (the same
// RFC 9421 components and parameters as the edge, so the example origin
// verifies it), and forwards with a timeout. No rules, WAF, bot score or limits.
const TRUST = [
  "x-edge-client-ip", "x-edge-country", "x-edge-asn", "x-edge-colo", "x-edge-request-id",
  "x-edge-user", "x-edge-claims", "x-edge-bot-score", "x-edge-bot-class",
];
const STRIPPED = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
  "transfer-encoding", "host", "mf-cf-blob", "x-forwarded-host", "x-forwarded-proto", "forwarded",
  "signature", "signature-input",
]);
const COVERED = ["@method", "@authority", "@path", "@query", ...TRUST].map((c) => `"${c}"`).join(" ");

const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const b64url = (u8) => btoa(String.fromCharCode(...u8)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

let signer; // one imported key per isolate
function key(env) {
  signer ??= (async () => {
    const [keyid, , seed] = env.EDGE_SIGNING_KEY.split(":");
    const publicKey = env.EDGE_VERIFY_KEYS.split(",")[0].split(":")[1];
    const jwk = { kty: "OKP", crv: "Ed25519", d: b64url(bytes(seed)), x: b64url(bytes(publicKey)) };
    return { keyid, key: await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["sign"]) };
  })();
  return signer;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const target = new URL(url.pathname + url.search, env.ORIGIN);
    const headers = new Headers();
    for (const [name, value] of request.headers) {
      if (!name.startsWith("x-edge-") && !STRIPPED.has(name) && !name.includes("_")) headers.append(name, value);
    }
    headers.set("x-forwarded-host", url.hostname);
    headers.set("x-forwarded-proto", url.protocol.slice(0, -1));
    const cf = request.cf ?? {};
    const id = crypto.randomUUID();
    const facts = {
      "x-edge-client-ip": request.headers.get("cf-connecting-ip") ?? "",
      "x-edge-country": cf.country ?? "",
      "x-edge-asn": cf.asn == null ? "" : String(cf.asn),
      "x-edge-colo": cf.colo ?? "",
      "x-edge-request-id": id,
    };
    let base = `"@method": ${request.method}\n"@authority": ${target.host}\n"@path": ${target.pathname}\n"@query": ${target.search || "?"}\n`;
    for (const name of TRUST) {
      const value = facts[name] ?? "";
      headers.set(name, value);
      base += `"${name}": ${value}\n`;
    }
    const { keyid, key: k } = await key(env);
    const created = Math.floor(Date.now() / 1000);
    const params = `(${COVERED});created=${created};expires=${created + 60};keyid="${keyid}";nonce="${id}";alg="ed25519";tag="edge-trust"`;
    base += `"@signature-params": ${params}`;
    const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", k, new TextEncoder().encode(base)));
    headers.set("signature-input", `edge=${params}`);
    headers.set("signature", `edge=:${btoa(String.fromCharCode(...signature))}:`);
    try {
      return await fetch(target, { method: request.method, headers, body: request.body, redirect: "manual", signal: AbortSignal.timeout(10_000) });
    } catch {
      return new Response("origin unavailable", { status: 502 });
    }
  },
};
