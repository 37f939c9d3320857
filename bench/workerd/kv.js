// Stand-in for a Workers KV namespace outside Cloudflare (workerd's
// `kvNamespace` binding calls a service): read-only, the one key `rules`
// holds the document of the load run (the `DOC` binding).
export default {
  async fetch(req, env) {
    const key = decodeURIComponent(new URL(req.url).pathname.slice(1));
    if (req.method === "GET" && key === "rules") return new Response(env.DOC);
    return new Response(null, { status: 404 });
  },
};
