// Stand-in for the Cache API service workerd calls when a worker uses
// `caches.default` outside Cloudflare (`cacheApiOutbound`): PUT stores the
// serialised response, GET answers it with `cf-cache-status: HIT` until its
// max-age runs out, PURGE deletes. Bounded, in memory, for load runs only.
const MAX_ENTRIES = 1000;
const entries = new Map(); // url -> { head: [status, headers], body, until }

export default {
  async fetch(req) {
    const url = req.url;
    if (req.method === "PUT") {
      const stored = parse(new Uint8Array(await req.arrayBuffer()));
      if (!stored) return new Response(null, { status: 413 });
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value);
      entries.set(url, stored);
      return new Response(null, { status: 204 });
    }
    if (req.method === "PURGE") {
      return new Response(null, { status: entries.delete(url) ? 200 : 404 });
    }
    const hit = entries.get(url);
    if (!hit || hit.until < Date.now()) {
      entries.delete(url);
      return new Response(null, { status: 504, headers: { "cf-cache-status": "MISS" } });
    }
    const headers = new Headers(hit.headers);
    headers.set("cf-cache-status", "HIT");
    return new Response(hit.body, { status: hit.status, headers });
  },
};

// "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n<body>", Content-Length framed;
// anything else (chunked, no max-age) is not stored.
function parse(bytes) {
  let end = -1;
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) { end = i; break; }
  }
  if (end < 0) return null;
  const lines = new TextDecoder("latin1").decode(bytes.subarray(0, end)).split("\r\n");
  const status = Number(lines[0].split(" ")[1]);
  const headers = lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]);
  const get = (n) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
  if (get("transfer-encoding") || !(status >= 200 && status < 600)) return null;
  const age = /(?:s-maxage|max-age)=(\d+)/.exec(get("cache-control") ?? "");
  if (!age) return null;
  return { status, headers, body: bytes.slice(end + 4), until: Date.now() + Number(age[1]) * 1000 };
}
