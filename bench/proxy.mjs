// npm run bench:proxy: what flux-i2i/proxy adds to a call. The same client.imageToImage, straight to
// the bench's server (fal.run's stand-in, in its own process) and through createFalProxy mounted
// with the README's node:http adapter (in this process); with raw fetch to the server and a bare
// loopback hop through a proxy that forwards without any check, so that the proxy's own cost shows
// apart from the extra hop. Interleaved rounds, medians.
import { fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { createFluxClient, imageToImageExamples } from "../dist/src/index.js";
import { createFalProxy } from "../dist/src/proxy.js";
import { bundleSupport } from "./fake-queue-process.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const perRound = Number(process.env.BENCH_CALLS ?? 100);
const input = imageToImageExamples["seed-example"];
const path = "/fal-ai/flux-1/dev/image-to-image";

const server = fork(fileURLToPath(new URL("server.mjs", import.meta.url)), { stdio: "inherit" });
const { port } = await new Promise((resolve) => server.once("message", resolve));
const upstream = `http://127.0.0.1:${port}`;

const scratch = await mkdtemp(join(tmpdir(), "flux-bench-"));
const { serveFetchHandler } = await import(pathToFileURL(await bundleSupport(scratch, "node-adapter")).href);
/** The README's node:http adapter around a Fetch-API handler (test/support/node-adapter.ts). */
async function mount(handler) {
  const served = await serveFetchHandler(handler);
  served.server.keepAliveTimeout = 60_000;
  return served;
}

const proxied = await mount(createFalProxy({ credentials: "bench-key-id:bench-key-secret", runUrl: upstream, queueUrl: upstream }));
// The same hop with nothing checked: the request passed on as it came.
const bare = await mount(async (request) => {
  const url = new URL(request.url);
  return fetch(upstream + url.pathname.replace(/^\/api\/fal\/run/, ""), { method: request.method, headers: request.headers, body: await request.arrayBuffer() });
});

const direct = createFluxClient({ baseUrl: upstream, credentials: "bench-key-id:bench-key-secret" });
const viaProxy = createFluxClient({ baseUrl: `${proxied.url}/api/fal/run` });
const viaBareHop = createFluxClient({ baseUrl: `${bare.url}/api/fal/run` });
const variants = {
  "raw fetch, direct": async () => (await fetch(upstream + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(input) })).json(),
  "client, direct": () => direct.imageToImage(input),
  "client, bare loopback hop": () => viaBareHop.imageToImage(input),
  "client, through flux-i2i/proxy": () => viaProxy.imageToImage(input),
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
await Promise.all([proxied.close(), bare.close(), rm(scratch, { recursive: true, force: true })]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times["client, direct"]);
console.log(`Time per call, ${rounds} interleaved rounds of ${perRound}, everything on 127.0.0.1`);
for (const name of names) console.log(`${name.padEnd(34)}${median(times[name]).toFixed(3).padStart(8)} ms${(median(times[name]) / base).toFixed(2).padStart(8)}x the direct client call`);
const hop = median(times["client, bare loopback hop"]) - base;
const proxyCost = median(times["client, through flux-i2i/proxy"]) - base;
console.log(`the proxy adds ${proxyCost.toFixed(3)} ms; a bare loopback hop adds ${hop.toFixed(3)} ms; its checks cost ${(proxyCost - hop).toFixed(3)} ms (${((proxyCost - hop) / base * 100).toFixed(0)}% of a direct call)`);
