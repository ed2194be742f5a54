// A web app's server hosting flux-i2i/proxy, in a process of its own, so that a test (or
// bench/proxy-attacks.mjs) can attack it and see whether it is still up. Plain JavaScript: the
// child runs without a TypeScript loader.
//
// argv[2]: JSON { dist, adapter, upstream, key }
// - dist: the build whose proxy (src/server/proxy.js; src/proxy.js in builds before the layers
//   were folders) is hosted (this repository's dist/, or a baseline's);
// - adapter: "node" (toNodeHandler on node:http), "express", "express-json" (express.json() first),
//   or "module:PATH", a module whose `mount(handler)` gives a node:http listener;
// - upstream: fal's two servers, played by one local server.
// The app's authorize is steered by the request's x-test-authorize header, as the attacks need.
// Sends { port } once listening.
import { createServer } from "node:http";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const { dist, adapter, upstream, key } = JSON.parse(process.argv[2]);
const proxyModule = [join(dist, "src/server/proxy.js"), join(dist, "src/proxy.js")].find((path) => existsSync(path));
const { createFalProxy, toNodeHandler } = await import(pathToFileURL(proxyModule).href);

/** node-fetch's Response, or another realm's: `instanceof Response` is false for it. */
const foreignResponse = () => ({
  status: 403,
  statusText: "Forbidden",
  headers: new Map([["content-type", "text/plain"]]),
  arrayBuffer: async () => new TextEncoder().encode("denied by the app").buffer,
});

const verdicts = {
  throw: () => {
    throw new Error("the session store is down");
  },
  no: () => "no",
  object: () => ({ allowed: false }),
  foreign: foreignResponse,
  // Status reads cost nothing, so this app lets anyone make them, judging by the path.
  "by-path": (request) => new URL(request.url).pathname.includes("/requests/"),
};
const authorize = (request) => (verdicts[request.headers.get("x-test-authorize")] ?? (() => true))(request);
const proxy = createFalProxy({ credentials: key, runUrl: upstream, queueUrl: upstream, authorize });

let listener;
if (adapter === "node") listener = toNodeHandler(proxy);
else if (adapter === "express" || adapter === "express-json") {
  const { default: express } = await import("express");
  const app = express();
  if (adapter === "express-json") app.use(express.json());
  app.use("/api/fal", toNodeHandler(proxy));
  listener = app;
} else listener = (await import(pathToFileURL(adapter.replace(/^module:/, "")).href)).mount(proxy);

const server = createServer(listener);
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
process.on("disconnect", () => process.exit(0));
