// The edge's default export, put in place of worker-build's last line
// (`export default new Proxy(Entrypoint, classProxyHooks);`) by
// scripts/esbuild-shim.sh before worker-build bundles its shim, so the names
// below are the shim's own.
//
// The shim's export is a Proxy of a WorkerEntrypoint class: every request
// constructs the class through the Proxy, gets a second Proxy around the
// instance, a third around its `fetch`, and a fresh copy of twelve traps
// (about 4 % of the edge isolate's CPU under load, docs/benchmarks.md, "Sixth
// pass"). A plain handler object has none of that and keeps the shim's panic
// recovery as its synchronous path had it: reinitialize the module before a
// call if a trap marked it broken, and mark it when a call traps.
const edgeHandlers = {};
for (const name of ["fetch", "queue", "scheduled", "email", "connect"]) {
  const handler = Entrypoint.prototype[name];
  if (typeof handler !== "function") continue;
  edgeHandlers[name] = function (arg, env, ctx) {
    checkReinitialize();
    try {
      return handler.call({ env, ctx }, arg);
    } catch (e) {
      handleMaybeCritical(e);
      throw e;
    }
  };
}
export default edgeHandlers;
