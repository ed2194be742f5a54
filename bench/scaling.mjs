// npm run bench:scale: many jobs at once. At 1, 8, 64 and 256 concurrent jobs, each client runs its
// jobs against a fake queue of its own (the tests' fake, in its own process) whose jobs take
// BENCH_WORK_MS (200) each and whose status stream closes 20 ms after COMPLETED. Printed per client
// and level, after a warm-up round: the time against the ideal (jobs / concurrency x work), this
// process's CPU a job, and the connections a job opened, with bare fetches (submit, stream to
// COMPLETED, result) as the baseline of what any client must do. With `-- --baseline REV`, the
// commit REV built in a worktree (bench/baseline.mjs) runs beside this build.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFalClient } from "@fal-ai/client";
import { createFluxClient } from "../dist/src/index.js";
import { bundleFakeQueue, startFakeQueueProcess } from "./fake-queue-process.mjs";
import { baselineArgument, buildBaseline } from "./baseline.mjs";

const levels = (process.env.BENCH_LEVELS ?? "1,8,64,256").split(",").map(Number);
const workMs = Number(process.env.BENCH_WORK_MS ?? 200);
const input = { image_url: "https://fal.media/files/koala/Chls9L2ZnvuipUTEwlnJC.png", prompt: "a wizard cat" };
const path = "/fal-ai/flux-1/dev/image-to-image";

const scratch = await mkdtemp(join(tmpdir(), "flux-bench-"));
const fakeModule = await bundleFakeQueue(scratch);

/** What any client must do for a job, and no more: submit, the stream up to COMPLETED (then read to its end, unwaited), the result. */
function bareFetches(url) {
  const headers = { Authorization: "Key bench", "Content-Type": "application/json" };
  return async () => {
    const job = await (await fetch(url + path, { method: "POST", headers, body: JSON.stringify(input) })).json();
    const stream = await fetch(`${job.status_url}/stream`, { headers: { Authorization: headers.Authorization, Accept: "text/event-stream" } });
    const reader = stream.body.getReader();
    const decoder = new TextDecoder();
    for (let text = ""; !text.includes('"COMPLETED"'); ) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    void (async () => {
      while (!(await reader.read()).done);
    })().catch(() => undefined);
    return (await fetch(job.response_url, { headers: { Authorization: headers.Authorization } })).json();
  };
}

const baselineRev = baselineArgument();
const baseline = baselineRev ? await buildBaseline(baselineRev) : undefined;
const baselineClient = baseline ? (await import(`file://${baseline.dist}/src/index.js`)).createFluxClient : undefined;

const clients = {
  "bare fetches (baseline)": bareFetches,
  "flux-i2i subscribe": (url) => {
    const flux = createFluxClient({ credentials: "bench", queueUrl: url });
    return () => flux.subscribe(input);
  },
  ...(baselineClient
    ? {
        [`flux-i2i subscribe at ${baseline.sha}`]: (url) => {
          const flux = baselineClient({ credentials: "bench", queueUrl: url });
          return () => flux.subscribe(input);
        },
      }
    : {}),
  "@fal-ai/client subscribe (streaming)": (url) => {
    const fal = createFalClient({
      credentials: "bench",
      requestMiddleware: async (request) => ({ ...request, url: request.url.replace("https://queue.fal.run", url) }),
    });
    return async () => (await fal.subscribe("fal-ai/flux-1/dev/image-to-image", { input, mode: "streaming" })).data;
  },
};

/** Runs `jobs` jobs, `level` at a time. */
async function runJobs(subscribe, level, jobs) {
  let next = 0;
  await Promise.all(
    Array.from({ length: level }, async () => {
      while (next++ < jobs) await subscribe();
    }),
  );
}

/**
 * `jobs` jobs, `level` at a time, after a warm-up round of `level` jobs on the same fake (so that
 * the counts are of the steady state, not of the pool filling): wall time, this process's CPU,
 * the connections opened.
 */
async function measure(makeClient, level, jobs) {
  const server = await startFakeQueueProcess(fakeModule, { runMs: workMs, runSpreadMs: 1, closeAfterCompletedMs: 20 });
  try {
    const subscribe = makeClient(server.url);
    await runJobs(subscribe, level, level);
    const before = (await server.report()).connections;
    const cpu = process.cpuUsage();
    const started = performance.now();
    await runJobs(subscribe, level, jobs);
    const wall = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const { connections } = await server.report();
    return { wall, cpuMs: (used.user + used.system) / 1000, connections: connections - before };
  } finally {
    server.stop();
  }
}

/** Rounds per level, the clients' order rotated each round: whichever runs first warms Node up for the rest. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`Jobs of ${workMs} ms at 1 to 256 at a time, each client against its own fake queue (own process), streams closed 20 ms after COMPLETED`);
console.log(`${rounds} rounds a level, the clients' order rotated each round; medians, then CPU a job against bare fetches' in the same round (min-max)`);
console.log(`${"concurrent jobs".padEnd(18)}${"client".padEnd(40)}${"jobs".padStart(6)}${"x ideal".padStart(10)}${"CPU a job".padStart(12)}${"conns a job".padStart(13)}${"x bare CPU".padStart(18)}`);
try {
  const names = Object.keys(clients);
  for (const level of levels) {
    const jobs = Math.max(16, level * 4);
    const ideal = Math.ceil(jobs / level) * workMs;
    const runs = Object.fromEntries(names.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length];
        runs[name].push(await measure(clients[name], level, jobs));
      }
    }
    const bare = runs[names[0]];
    for (const name of names) {
      const ratios = runs[name].map((run, i) => run.cpuMs / bare[i].cpuMs);
      console.log(
        `${String(level).padEnd(18)}${name.padEnd(40)}${String(jobs).padStart(6)}${(median(runs[name].map((r) => r.wall)) / ideal).toFixed(3).padStart(9)}x` +
          `${`${(median(runs[name].map((r) => r.cpuMs)) / jobs).toFixed(2)} ms`.padStart(12)}${(median(runs[name].map((r) => r.connections)) / jobs).toFixed(2).padStart(13)}` +
          `${`${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`.padStart(18)}`,
      );
    }
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
  await baseline?.remove();
}
