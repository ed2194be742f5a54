// npm run bench:upload: a local image as the job's input, three ways, in one run: this client
// uploading it to fal storage then submitting its URL, this client sending it inline as a data URI,
// and fal's own client (@fal-ai/client) uploading the same Blob through flux-i2i/proxy. fal's queue
// is the fake queue and fal storage a stand-in (bench/storage-server.mjs), each in a process of its
// own, on this machine; and this client uploading the same image from a file, as the command does.
// For a 4 MB and a 20 MB image: the median wall time from the call to the
// submit's answer, the bytes each sends, and (20 MB) the peak memory of one call: each way once in
// a fresh process of its own (`--memory WAY`), its peak RSS (maxRSS) less the RSS before the call.
import { fork } from "node:child_process";
import { openAsBlob } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { createFalClient, withProxy } from "@fal-ai/client";
import { bundleFakeQueue, startFakeQueueProcess } from "./fake-queue-process.mjs";
import { createFluxClient } from "../dist/src/index.js";
import { createFalProxy, toNodeHandler } from "../dist/src/server/proxy.js";
import { createServer } from "node:http";

const root = fileURLToPath(new URL("..", import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 7);
const key = "bench-key-id:bench-key-secret";

const inChild = Boolean(process.env.FLUX_BENCH_QUEUE);
const scratch = inChild ? undefined : await mkdtemp(join(tmpdir(), "flux-bench-upload-"));
const queue = inChild ? { url: process.env.FLUX_BENCH_QUEUE } : await startFakeQueueProcess(await bundleFakeQueue(scratch), { runMs: 0, runSpreadMs: 1, closeAfterCompletedMs: 0 });
const storageChild = inChild ? undefined : fork(join(root, "bench/storage-server.mjs"));
const storageUrl = inChild ? process.env.FLUX_BENCH_STORAGE : (await new Promise((resolve) => storageChild.once("message", resolve))).url;

// fal's client names fal's real hosts; the proxy hands them to the local stand-ins.
const toLocal = (url, init) => globalThis.fetch(String(url).replace(/^https:\/\/rest\.fal\.ai/, storageUrl).replace(/^https:\/\/(queue\.)?fal\.run/, queue.url), init);
const proxyServer = inChild ? undefined : createServer(toNodeHandler(createFalProxy({ credentials: key, fetch: toLocal, maxBodyBytes: 64 * 1024 * 1024 })));
if (proxyServer) await new Promise((resolve) => proxyServer.listen(0, "127.0.0.1", resolve));
const proxyUrl = inChild ? process.env.FLUX_BENCH_PROXY : `http://127.0.0.1:${proxyServer.address().port}`;

const flux = createFluxClient({ credentials: key, queueUrl: queue.url, storageUrl });
const fal = createFalClient({ requestMiddleware: withProxy({ targetUrl: `${proxyUrl}/api/fal/proxy`, when: "always" }) });
const prompt = "the same scene at dawn";

/** `megabytes` of random bytes behind a PNG signature: what the sniffing takes for an image. */
function image(megabytes) {
  const bytes = new Uint8Array(megabytes * 1_000_000);
  for (let at = 0; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65536, bytes.length)));
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return bytes;
}

const ways = {
  "this client, uploaded": (bytes) => flux.queue.submit({ image_url: new Blob([bytes], { type: "image/png" }), prompt }),
  // What the command does with a local --image: the File reads the disk as fetch sends it.
  "this client, uploaded from disk": async (_, path) => flux.queue.submit({ image_url: new File([await openAsBlob(path)], "image.png"), prompt }),
  "this client, inline data URI": (bytes) => flux.queue.submit({ image_url: `data:image/png;base64,${Buffer.from(bytes).toString("base64")}`, prompt }),
  "fal's client via the proxy": (bytes) => fal.queue.submit("fal-ai/flux-1/dev/image-to-image", { input: { image_url: new Blob([bytes], { type: "image/png" }), prompt } }),
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const memoryWay = process.argv.includes("--memory") ? process.argv[process.argv.indexOf("--memory") + 1] : undefined;
if (memoryWay) {
  // In a process of its own: the image made, a first call to warm up, then the one measured.
  const bytes = image(20);
  const [small, path] = [join(process.env.FLUX_BENCH_SCRATCH, "warm.png"), join(process.env.FLUX_BENCH_SCRATCH, "memory.png")];
  await Promise.all([writeFile(small, image(0.001)), writeFile(path, bytes)]);
  await ways[memoryWay](image(0.001), small);
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  await ways[memoryWay](bytes, path);
  process.send((process.resourceUsage().maxRSS * 1024 - before) / 1024 / 1024);
  process.exit(0);
}

/** One call of `way` with a 20 MB image in a fresh process: the MiB its peak RSS rose above the RSS before the call. */
function peakMiB(way) {
  const child = fork(fileURLToPath(import.meta.url), ["--memory", way], { execArgv: ["--expose-gc"], env: { ...process.env, FLUX_BENCH_QUEUE: queue.url, FLUX_BENCH_STORAGE: storageUrl, FLUX_BENCH_PROXY: proxyUrl, FLUX_BENCH_SCRATCH: scratch } });
  return new Promise((resolve) => child.once("message", resolve));
}

for (const megabytes of [4, 20]) {
  const bytes = image(megabytes);
  const path = join(scratch, `${megabytes}mb.png`);
  await writeFile(path, bytes);
  const inlineBody = JSON.stringify({ image_url: `data:image/png;base64,${Buffer.from(bytes).toString("base64")}`, prompt }).length;
  console.log(`\n${megabytes} MB image (${runs} runs each, median of the call to the submit's answer)`);
  let baseline;
  for (const [name, call] of Object.entries(ways)) {
    await call(bytes, path); // warm up: connections, JIT
    const times = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await call(bytes, path);
      times.push(performance.now() - started);
    }
    const ms = median(times);
    baseline ??= ms;
    const sent = name.includes("inline") ? `${(inlineBody / 1e6).toFixed(1)} MB in the submit` : `${(bytes.length / 1e6).toFixed(1)} MB PUT + a small submit`;
    const memory = megabytes === 20 ? `, one call's peak +${(await peakMiB(name)).toFixed(0)} MiB RSS` : "";
    console.log(`  ${name.padEnd(32)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / baseline).toFixed(2)}x  ${sent}${memory}`);
  }
}
const { putBytes } = await new Promise((resolve) => {
  storageChild.once("message", resolve);
  storageChild.send("report");
});
console.log(`\nstorage received ${(putBytes / 1e6).toFixed(0)} MB of PUTs in all`);
proxyServer.closeAllConnections();
proxyServer.close();
storageChild.disconnect();
queue.stop();
await rm(scratch, { recursive: true, force: true });
