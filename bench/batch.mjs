// npm run bench:batch: a batch of 200 jobs at concurrency 8 against a local fake of fal's queue (its
// own process) with 200 ms of work per job, against the ideal of 200 / 8 x 200 ms. Measured: the
// whole `flux-i2i --batch` command (process start, journal and results fsync'd per job, to exit),
// the same with `--out` (each job's image downloaded from the fake, written and fsync'd), and, as a
// baseline in the same run, the same jobs through client.subscribe in this process.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFluxClient } from "../dist/src/index.js";
import { bundleFakeQueue, startFakeQueueProcess } from "./fake-queue-process.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const jobs = Number(process.env.BENCH_JOBS ?? 200);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const workMs = Number(process.env.BENCH_WORK_MS ?? 200);
const ideal = Math.ceil(jobs / concurrency) * workMs;
const input = (i) => ({ image_url: "https://fal.media/files/koala/Chls9L2ZnvuipUTEwlnJC.png", prompt: `job ${i}` });

const scratch = await mkdtemp(join(tmpdir(), "flux-bench-batch-"));
const fakeModule = await bundleFakeQueue(scratch);
// images: "self": the fake serves each output image, on its own origin (where --out may use http).
const startServer = () => startFakeQueueProcess(fakeModule, { runMs: workMs, runSpreadMs: 1, closeAfterCompletedMs: 0, images: "self" });

async function cli(url, out) {
  const file = join(scratch, `batch-${Date.now()}.jsonl`);
  await writeFile(file, Array.from({ length: jobs }, (_, i) => JSON.stringify(input(i))).join("\n") + "\n");
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [join(root, "dist/src/bin/flux-i2i.js"), "--live", "--queue-url", url, "--batch", file, "--concurrency", String(concurrency), "--json", ...(out ? ["--out", out] : [])],
    { env: { ...process.env, FAL_KEY: "bench-id:bench-secret" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.once("close", resolve));
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`flux-i2i exited ${code}\n${stderr.slice(-2000)}`);
  const summary = JSON.parse(stdout);
  const results = (await readFile(summary.results, "utf8")).trim().split("\n").length;
  if (summary.done !== jobs || results !== jobs) throw new Error(`expected ${jobs} results, got ${summary.done} (${results} records)`);
  if (out && (await readdir(out)).length !== jobs) throw new Error(`expected ${jobs} images in ${out}, got ${(await readdir(out)).length}`);
  return { ms, inside: summary.elapsedMs };
}

/** `run` against a fresh fake, with the connections it opened to it. */
async function measured(run) {
  const server = await startServer();
  try {
    const result = await run(server.url);
    return { ...result, connections: (await server.report()).connections };
  } finally {
    server.stop();
  }
}

async function library(url) {
  const client = createFluxClient({ credentials: "bench-id:bench-secret", queueUrl: url });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs) await client.subscribe(input(next++));
    }),
  );
  return performance.now() - started;
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const fmt = (ms) => `${ms.toFixed(0).padStart(6)} ms  ${(ms / ideal).toFixed(3)}x ideal`;
console.log(`${jobs} jobs, concurrency ${concurrency}, ${workMs} ms of work each: ideal ${ideal} ms (${jobs} / ${concurrency} x ${workMs} ms)`);
try {
  for (let round = 1; round <= rounds; round++) {
    // A fresh fake per measurement, so that neither inherits the other's jobs.
    const server = await startServer();
    const base = await library(server.url).finally(server.stop);
    const batch = await measured((url) => cli(url));
    const withOut = await measured(async (url) => cli(url, await mkdtemp(join(scratch, "out-"))));
    console.log(`round ${round}`);
    console.log(`  client.subscribe, ${concurrency} at a time, in-process (baseline)  ${fmt(base)}`);
    console.log(`  flux-i2i --batch, the whole command                    ${fmt(batch.ms)}  ${(batch.ms / base).toFixed(3)}x baseline  ${(batch.connections / jobs).toFixed(2)} connections a job`);
    console.log(`  flux-i2i --batch, batch file read to last result       ${fmt(batch.inside)}`);
    console.log(`  flux-i2i --batch --out, the whole command              ${fmt(withOut.ms)}  ${(withOut.ms / base).toFixed(3)}x baseline  ${(withOut.connections / jobs).toFixed(2)} connections a job`);
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
