// Baseline for the Cache API path in scripts/load.sh: answers every GET from
// `caches.default` under its own URL, filling it on a miss from the origin's
// unsigned `/health`, and does nothing else. What workerd's cache plumbing
// costs (in memory too) without the edge.
export default {
  async fetch(req, env) {
    const key = env.ORIGIN + new URL(req.url).pathname;
    const hit = await caches.default.match(key);
    if (hit) return hit;
    const fetched = await fetch(env.ORIGIN + "/health");
    const resp = new Response(fetched.body, fetched);
    resp.headers.set("cache-control", "max-age=600");
    await caches.default.put(key, resp.clone());
    return resp;
  },
};
