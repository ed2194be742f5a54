// npm run bench:proxy [-- --baseline REV]: what flux-i2i/proxy adds to a call. The same
// client.imageToImage, straight to the bench's server (fal.run's stand-in, in its own process) and
// through createFalProxy mounted with toNodeHandler (in this process); beside them a bare loopback
// hop through a proxy that forwards without any check, so that the proxy's own cost shows apart
// from the extra hop; with --baseline, the proxy of that revision (built in a worktree) mounted the
// same way, in the same run. Interleaved rounds, medians.
//
// Then, in this process with no network: the handler alone (fetch answered at once) without and
// with the Origin and authorize checks at work, to show what they cost a call.
import { existsSync } from "node:fs";
import { fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { createFluxClient, imageToImageExamples } from "../dist/src/index.js";
import { createFalProxy } from "../dist/src/server/proxy.js";
import { baselineArgument, buildBaseline } from "./baseline.mjs";
import { bundleSupport } from "./fake-queue-process.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const perRound = Number(process.env.BENCH_CALLS ?? 100);
const input = imageToImageExamples["seed-example"];
const path = "/fal-ai/flux-1/dev/image-to-image";
const key = "bench-key-id:bench-key-secret";
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const revision = baselineArgument();
const baseline = revision ? await buildBaseline(revision) : undefined;
// A baseline from before the layers were folders has its proxy at src/proxy.js.
const baselineModule = baseline && [join(baseline.dist, "src/server/proxy.js"), join(baseline.dist, "src/proxy.js")].find((path) => existsSync(path));
const baselineProxy = baselineModule ? (await import(pathToFileURL(baselineModule).href)).createFalProxy : undefined;

const server = fork(fileURLToPath(new URL("server.mjs", import.meta.url)), { stdio: "inherit" });
const { port } = await new Promise((resolve) => server.once("message", resolve));
const upstream = `http://127.0.0.1:${port}`;

const scratch = await mkdtemp(join(tmpdir(), "flux-bench-"));
const { serveFetchHandler } = await import(pathToFileURL(await bundleSupport(scratch, "node-adapter")).href);
/** A Fetch-API handler on node:http through toNodeHandler (test/support/node-adapter.ts), connections kept alive. */
async function mount(handler) {
  const served = await serveFetchHandler(handler);
  served.server.keepAliveTimeout = 60_000;
  return served;
}

const proxied = await mount(createFalProxy({ credentials: key, runUrl: upstream, queueUrl: upstream }));
const proxiedBefore = baselineProxy ? await mount(baselineProxy({ credentials: key, runUrl: upstream, queueUrl: upstream })) : undefined;
// The same hop with nothing checked: the request passed on as it came.
const bare = await mount(async (request) => {
  const url = new URL(request.url);
  return fetch(upstream + url.pathname.replace(/^\/api\/fal\/run/, ""), { method: request.method, headers: request.headers, body: await request.arrayBuffer() });
});

const direct = createFluxClient({ baseUrl: upstream, credentials: key });
const viaProxy = createFluxClient({ baseUrl: `${proxied.url}/api/fal/run` });
const viaBareHop = createFluxClient({ baseUrl: `${bare.url}/api/fal/run` });
const viaBefore = proxiedBefore ? createFluxClient({ baseUrl: `${proxiedBefore.url}/api/fal/run` }) : undefined;
const variants = {
  "raw fetch, direct": async () => (await fetch(upstream + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(input) })).json(),
  "client, direct": () => direct.imageToImage(input),
  "client, bare loopback hop": () => viaBareHop.imageToImage(input),
  "client, through flux-i2i/proxy": () => viaProxy.imageToImage(input),
  ...(viaBefore ? { [`client, through the proxy at ${baseline.sha}`]: () => viaBefore.imageToImage(input) } : {}),
};
const names = Object.keys(variants);
for (const name of names) for (let i = 0; i < 200; i++) await variants[name]();
const times = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length];
    const started = performance.now();
    for (let i = 0; i < perRound; i++) await variants[name]();
    times[name].push((performance.now() - started) / perRound);
  }
}
server.kill();
await Promise.all([proxied.close(), bare.close(), proxiedBefore?.close()]);

const base = median(times["client, direct"]);
console.log(`Time per call, ${rounds} interleaved rounds of ${perRound}, everything on 127.0.0.1`);
for (const name of names) console.log(`${name.padEnd(44)}${median(times[name]).toFixed(3).padStart(8)} ms${(median(times[name]) / base).toFixed(2).padStart(8)}x the direct client call`);
const hop = median(times["client, bare loopback hop"]) - base;
const proxyCost = median(times["client, through flux-i2i/proxy"]) - base;
console.log(`the proxy adds ${proxyCost.toFixed(3)} ms; a bare loopback hop adds ${hop.toFixed(3)} ms; its checks cost ${(proxyCost - hop).toFixed(3)} ms (${(((proxyCost - hop) / base) * 100).toFixed(0)}% of a direct call)`);
if (viaBefore) {
  const beforeCost = median(times[`client, through the proxy at ${baseline.sha}`]) - base;
  console.log(`at ${baseline.sha} the proxy added ${beforeCost.toFixed(3)} ms: this build ${(proxyCost - beforeCost >= 0 ? "+" : "")}${(proxyCost - beforeCost).toFixed(3)} ms a call`);
}

// The checks alone: the handler in this process, fal answering at once, no network.
const answerAtOnce = async () => new Response('{"images":[]}', { headers: { "Content-Type": "application/json", "Content-Length": "13" } });
const plain = createFalProxy({ credentials: key, runUrl: "https://fal.run", fetch: answerAtOnce });
const checked = createFalProxy({ credentials: key, runUrl: "https://fal.run", fetch: answerAtOnce, allowedOrigins: ["https://app.example.com"], authorize: (request, target) => target.operationId === "imageToImage" && request.headers.has("cookie") });
const body = JSON.stringify(input);
const call = (handler, headers) => async () => {
  const response = await handler(new Request(`http://127.0.0.1/api/fal/run${path}`, { method: "POST", body, headers: { "Content-Type": "application/json", cookie: "session=1", ...headers } }));
  await response.arrayBuffer();
};
const inProcess = {
  ...(baselineProxy ? { [`at ${baseline.sha}: no Origin, no authorize`]: call(baselineProxy({ credentials: key, runUrl: "https://fal.run", fetch: answerAtOnce }), {}) } : {}),
  "no Origin, no authorize": call(plain, {}),
  "same-host Origin, authorize": call(checked, { Origin: "http://127.0.0.1" }),
  "allowed cross-origin, CORS, authorize": call(checked, { Origin: "https://app.example.com" }),
};
const handlerTimes = Object.fromEntries(Object.keys(inProcess).map((n) => [n, []]));
const calls = 2_000;
for (const run of Object.values(inProcess)) for (let i = 0; i < 2_000; i++) await run();
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(inProcess)) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) await run();
    handlerTimes[name].push(((performance.now() - started) / calls) * 1000);
  }
}
const plainUs = median(handlerTimes["no Origin, no authorize"]);
console.log(`\nThe handler alone, fal answering at once (${rounds} interleaved rounds of ${calls}, medians)`);
for (const [name, us] of Object.entries(handlerTimes)) {
  const extra = median(us) - plainUs;
  const note = name === "no Origin, no authorize" ? "" : name.startsWith("at ") ? `  this build ${(-extra / 1000).toFixed(4)} ms a call against it` : `  the checks add ${(extra / 1000).toFixed(4)} ms`;
  console.log(`${name.padEnd(44)}${median(us).toFixed(1).padStart(8)} µs${note}`);
}
await rm(scratch, { recursive: true, force: true });
await baseline?.remove();
