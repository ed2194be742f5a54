// npm run bench [-- --baseline REV]: time per call of the client against raw fetch, openapi-fetch
// and @fal-ai/client, interleaved in one run against a local server in its own process; then the
// shipped size of each for one call (esbuild for the browser, minified, gzip -9). With --baseline,
// the commit REV is built in a worktree (bench/baseline.mjs) and measured in the same run: its
// call beside this build's, and each of the package's entries at both, with the ratio.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import createClient from "openapi-fetch";
import { createFalClient } from "@fal-ai/client";
import { createFluxClient, imageToImageExamples } from "../dist/src/index.js";
import { baselineArgument, buildBaseline } from "./baseline.mjs";
import { gzipBytes, oneCallBundle } from "./one-call.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const path = "/fal-ai/flux-1/dev/image-to-image";
const input = imageToImageExamples["seed-example"];
const key = "bench-key";
const rounds = Number(process.env.BENCH_ROUNDS ?? 60);
const perRound = Number(process.env.BENCH_CALLS ?? 100);

const baselineRev = baselineArgument();
const baseline = baselineRev ? await buildBaseline(baselineRev) : undefined;

const server = fork(fileURLToPath(new URL("server.mjs", import.meta.url)), { stdio: "inherit" });
const { port } = await new Promise((resolve) => server.once("message", resolve));
const baseUrl = `http://127.0.0.1:${port}`;

/** A fetch stand-in like the one imageToImage uses, to show what the Request copy costs. */
class PreparedRequest {
  constructor(url, init) {
    this.url = url;
    this.init = init;
    this.method = init.method;
  }
}

const openapiFetch = createClient({ baseUrl, headers: { Authorization: `Key ${key}` } });
const openapiFetchPrepared = createClient({
  baseUrl,
  headers: { Authorization: `Key ${key}` },
  Request: PreparedRequest,
  fetch: (request) => fetch(request.url, request.init),
});
const flux = createFluxClient({ baseUrl, credentials: key });
const fluxUnchecked = createFluxClient({ baseUrl, credentials: key, validateResponse: false });
const fluxBaseline = baseline ? (await import(new URL(`file://${baseline.dist}/src/index.js`).href)).createFluxClient({ baseUrl, credentials: key }) : undefined;
const fal = createFalClient({
  credentials: key,
  requestMiddleware: async (request) => ({ ...request, url: request.url.replace("https://fal.run", baseUrl) }),
});

const variants = {
  "raw fetch": async () => {
    const response = await fetch(baseUrl + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Key ${key}` },
      body: JSON.stringify(input),
    });
    return response.json();
  },
  "openapi-fetch alone": async () => (await openapiFetch.POST(path, { body: input })).data,
  "openapi-fetch, no Request copy": async () => (await openapiFetchPrepared.POST(path, { body: input })).data,
  "client.imageToImage": () => flux.imageToImage(input),
  "  (response not validated)": () => fluxUnchecked.imageToImage(input),
  ...(fluxBaseline ? { [`client.imageToImage at ${baseline.sha}`]: () => fluxBaseline.imageToImage(input) } : {}),
  "@fal-ai/client run": async () => (await fal.run("fal-ai/flux-1/dev/image-to-image", { input })).data,
};
const names = Object.keys(variants);

for (const name of names) {
  const data = await variants[name]();
  if (data?.images?.[0]?.url === undefined) throw new Error(`${name} did not return the output: ${JSON.stringify(data)}`);
  for (let i = 0; i < 300; i++) await variants[name]();
}

const perCall = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < rounds; round++) {
  // Rotate the order each round so no variant always runs first or last.
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length];
    const start = performance.now();
    for (let i = 0; i < perRound; i++) await variants[name]();
    perCall[name].push((performance.now() - start) / perRound);
  }
}
server.disconnect();
server.kill();

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
};
console.log(`Time per call, ${rounds} interleaved rounds of ${perRound} calls each, server on 127.0.0.1 in its own process`);
console.log(`${"".padEnd(32)}${"median ms".padStart(10)}${"x raw fetch".padStart(13)}${"(p25-p75)".padStart(14)}`);
for (const name of names) {
  const ratios = perCall[name].map((t, i) => t / perCall["raw fetch"][i]);
  console.log(
    `${name.padEnd(32)}${quantile(perCall[name], 0.5).toFixed(3).padStart(10)}${quantile(ratios, 0.5).toFixed(2).padStart(12)}x` +
      `${`(${quantile(ratios, 0.25).toFixed(2)}-${quantile(ratios, 0.75).toFixed(2)})`.padStart(14)}`,
  );
}

// The package's own entries by their public names (the package's exports, resolved from each tree's
// own package.json and dist/), so that a baseline with another layout is measured the same way.
const fluxEntries = {
  "flux-i2i client.imageToImage": `import { createFluxClient } from "flux-i2i";
    createFluxClient({ credentials: "k" }).imageToImage({ image_url: "https://x/y.png", prompt: "p" }).then(console.log);`,
  "flux-i2i client.subscribe": `import { createFluxClient } from "flux-i2i";
    createFluxClient({ credentials: "k" }).subscribe({ image_url: "https://x/y.png", prompt: "p" }).then(console.log);`,
  "flux-i2i verifyWebhook": `import { verifyWebhook } from "flux-i2i";
    verifyWebhook("{}", {}, { jwks: { keys: [] } }).then(console.log);`,
  "flux-i2i/sync imageToImage": `import { createSyncClient } from "flux-i2i/sync";
    createSyncClient({ credentials: "k" }).imageToImage({ image_url: "https://x/y.png", prompt: "p" }).then(console.log);`,
  "flux-i2i/queue subscribe": `import { createQueueClient } from "flux-i2i/queue";
    createQueueClient({ credentials: "k" }).subscribe({ image_url: "https://x/y.png", prompt: "p" }).then(console.log);`,
  "flux-i2i/webhook verifyWebhook": `import { verifyWebhook } from "flux-i2i/webhook";
    verifyWebhook("{}", {}, { jwks: { keys: [] } }).then(console.log);`,
  "flux-i2i/proxy createFalProxy": `import { createFalProxy } from "flux-i2i/proxy";
    console.log(createFalProxy({ credentials: "k" }));`,
};
const otherEntries = {
  "openapi-fetch alone": `import createClient from "openapi-fetch";
    createClient({ baseUrl: "https://fal.run" }).POST("${path}", { body: { image_url: "https://x/y.png", prompt: "p" } }).then(console.log);`,
  "@fal-ai/client run": `import { fal } from "@fal-ai/client";
    fal.run("fal-ai/flux-1/dev/image-to-image", { input: { image_url: "https://x/y.png", prompt: "p" } }).then(console.log);`,
  "@fal-ai/client subscribe": `import { fal } from "@fal-ai/client";
    fal.subscribe("fal-ai/flux-1/dev/image-to-image", { input: { image_url: "https://x/y.png", prompt: "p" } }).then(console.log);`,
};

/** One call's bundle from `dir` (a tree whose package.json is flux-i2i's): minified and gzip -9 bytes. */
async function shipped(contents, dir) {
  const code = await oneCallBundle(contents, dir);
  return { min: code.length, gzip: gzipBytes(code) };
}

console.log(`\nShipped size for one call (esbuild, browser, minified; gzip -9)${baseline ? `; this build, then ${baseline.sha}'s, and their ratio` : ""}`);
const row = (name, size) => `${name.padEnd(32)}${String(size.min).padStart(8)} B min${String(size.gzip).padStart(8)} B gzip`;
for (const [name, contents] of Object.entries(fluxEntries)) {
  const now = await shipped(contents, root);
  if (!baseline) {
    console.log(row(name, now));
    continue;
  }
  const before = await shipped(contents, join(baseline.dist, ".."));
  console.log(`${row(name, now)}${String(before.gzip).padStart(8)} B gzip at ${baseline.sha}${(now.gzip / before.gzip).toFixed(3).padStart(8)}x`);
}
for (const [name, contents] of Object.entries(otherEntries)) console.log(row(name, await shipped(contents, root)));
await baseline?.remove();
