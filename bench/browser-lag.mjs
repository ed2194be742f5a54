// npm run bench:browser: in Chromium, how long after a job completes on the queue each client hands
// its result to the page, every call going through flux-i2i/proxy (in this process) to the fake
// queue (in its own process). This client's subscribe and fal's own client with proxyUrl run in the
// same page, job by job in turn, so that both meet the same machine at the same moment.
//
// The page's clock and Node's are both the system clock, read as timeOrigin + now; what separates
// them is measured (the page asks this process the time, and the fastest of those round trips is
// used) and taken off.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright";
import { createFalProxy } from "../dist/src/server/proxy.js";
import { bundleFakeQueue, bundleSupport, startFakeQueueProcess } from "./fake-queue-process.mjs";

const jobsPerClient = Number(process.env.BENCH_JOBS ?? 60);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
const root = fileURLToPath(new URL("..", import.meta.url));
const now = () => performance.timeOrigin + performance.now();

const scratch = await mkdtemp(join(tmpdir(), "flux-bench-"));
const [fakeModule, adapterModule] = await Promise.all([bundleFakeQueue(scratch), bundleSupport(scratch, "node-adapter")]);
const { serveFetchHandler } = await import(pathToFileURL(adapterModule).href);

// The page: both clients, pointed at the proxy on the page's own origin. No key anywhere in it.
const page = await esbuild.build({
  stdin: {
    resolveDir: root,
    loader: "ts",
    contents: `
      import { createFalClient } from "@fal-ai/client";
      import { createFluxClient } from "./src/index.ts";
      const input = { image_url: "https://fal.media/files/koala/Chls9L2ZnvuipUTEwlnJC.png", prompt: "a wizard cat" };
      const flux = createFluxClient({ baseUrl: location.origin + "/api/fal/run", queueUrl: location.origin + "/api/fal/queue" });
      const fal = createFalClient({ proxyUrl: location.origin + "/api/fal/proxy" });
      const endpoint = "fal-ai/flux-1/dev/image-to-image";
      const clients = {
        "flux-i2i subscribe (stream)": () => flux.subscribe(input),
        "@fal-ai/client subscribe (polling, default)": async () => (await fal.subscribe(endpoint, { input })).data,
        "@fal-ai/client subscribe (streaming)": async () => (await fal.subscribe(endpoint, { input, mode: "streaming" })).data,
      };
      const now = () => performance.timeOrigin + performance.now();
      /** Runs the named jobs in order, concurrency at a time: [client, job id, when the page had the output]. */
      window.runJobs = async (names, concurrency) => {
        const done = [];
        let next = 0;
        const worker = async () => {
          while (next < names.length) {
            const name = names[next++];
            const output = await clients[name]();
            done.push([name, /files\\/fake\\/(.+)\\.jpeg$/.exec(output.images[0].url)[1], now()]);
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        return done;
      };
      /** The page's clock minus this process's, from the fastest of 50 round trips. */
      window.clockOffset = async () => {
        let best = { trip: Infinity, offset: 0 };
        for (let i = 0; i < 50; i++) {
          const sent = now();
          const server = Number(await (await fetch("/clock")).text());
          const back = now();
          if (back - sent < best.trip) best = { trip: back - sent, offset: (sent + back) / 2 - server };
        }
        return best;
      };
      window.clientNames = Object.keys(clients);
    `,
  },
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  logLevel: "silent",
});
const pageScript = page.outputFiles[0].text;

async function measure(closeAfterCompletedMs) {
  const fake = await startFakeQueueProcess(fakeModule, { runMs: 50, runSpreadMs: 500, closeAfterCompletedMs });
  // fal's URLs, as fal's own client names them in x-fal-target-url, handed to the fake.
  const toFake = (url, init) => fetch(String(url).replace(/^https:\/\/(queue\.)?fal\.run/, fake.url), init);
  const proxy = createFalProxy({ credentials: "bench-key-id:bench-key-secret", fetch: toFake });
  const site = await serveFetchHandler(async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/") return new Response('<!doctype html><script type="module" src="/page.js"></script>', { headers: { "content-type": "text/html" } });
    if (pathname === "/page.js") return new Response(pageScript, { headers: { "content-type": "text/javascript" } });
    if (pathname === "/clock") return new Response(String(now()));
    return proxy(request);
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(site.url);
    await tab.waitForFunction(() => Array.isArray(window.clientNames));
    const names = await tab.evaluate(() => window.clientNames);
    await tab.evaluate(([all, n]) => window.runJobs(all.flatMap((name) => Array(2).fill(name)), n), [names, concurrency]); // warm-up
    // Job by job in turn: client A, B, C, A, B, C, ...
    const order = Array.from({ length: jobsPerClient }, () => names).flat();
    const done = await tab.evaluate(([all, n]) => window.runJobs(all, n), [order, concurrency]);
    const { trip, offset } = await tab.evaluate(() => window.clockOffset());
    const jobs = await fake.report();
    const lags = Object.fromEntries(names.map((name) => [name, []]));
    for (const [name, id, at] of done) lags[name].push(at - offset - jobs.get(id).completedAt);
    return { lags, trip };
  } finally {
    await browser.close();
    await site.close();
    fake.stop();
  }
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (value) => `${value.toFixed(1)} ms`.padStart(10);

function table(title, { lags, trip }) {
  console.log(`\n${title} (page to this process and back: ${trip.toFixed(2)} ms at best)`);
  console.log(`${"client, in Chromium, through flux-i2i/proxy".padEnd(46)}${"median".padStart(10)}${"p90".padStart(10)}${"max".padStart(10)}`);
  for (const [name, values] of Object.entries(lags)) {
    const sorted = values.sort((a, b) => a - b);
    console.log(`${name.padEnd(46)}${ms(quantile(sorted, 0.5))}${ms(quantile(sorted, 0.9))}${ms(sorted.at(-1))}`);
  }
}

console.log(`Completion-to-result lag in the browser, ${jobsPerClient} jobs a client, ${concurrency} at a time, clients in turn, job durations 50..549 ms`);
table("The server ends the status stream right after COMPLETED:", await measure(0));
table("The server holds the status stream open 1 s after COMPLETED:", await measure(1_000));
await rm(scratch, { recursive: true, force: true });
