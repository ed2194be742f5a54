// npm run bench:queue: how long after a job completes on the queue each client hands its result to
// the caller, how many HTTP requests and connections a job costs. Each client has a fake queue of
// its own (the tests' fake, each in its own process), so that requests and connections are counted
// per client; the clients take turns job by job (A, B, C, D, A, ...), so that all meet the same
// machine at the same moments. Job durations are spread so that completion falls anywhere in a
// polling cycle. Enough jobs for a p99 (BENCH_JOBS, default 200 a client).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFalClient } from "@fal-ai/client";
import { createFluxClient } from "../dist/src/index.js";
import { bundleFakeQueue, startFakeQueueProcess } from "./fake-queue-process.mjs";

const jobsPerClient = Number(process.env.BENCH_JOBS ?? 200);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
const input = { image_url: "https://fal.media/files/koala/Chls9L2ZnvuipUTEwlnJC.png", prompt: "a wizard cat" };
const endpoint = "fal-ai/flux-1/dev/image-to-image";
const now = () => performance.timeOrigin + performance.now();

const scratch = await mkdtemp(join(tmpdir(), "flux-bench-"));
const fakeModule = await bundleFakeQueue(scratch);

const jobIdOf = (output) => /files\/fake\/(.+)\.jpeg$/.exec(output.images[0].url)[1];

/** Each client, pointed at a fake queue of its own. */
const clients = {
  "flux-i2i subscribe (stream)": (url) => {
    const flux = createFluxClient({ credentials: "bench", queueUrl: url });
    return () => flux.subscribe(input);
  },
  "flux-i2i subscribe (poll 500 ms)": (url) => {
    const flux = createFluxClient({ credentials: "bench", queueUrl: url });
    return () => flux.subscribe(input, { mode: "poll" });
  },
  "@fal-ai/client subscribe (polling, default)": (url) => {
    const fal = falClient(url);
    return async () => (await fal.subscribe(endpoint, { input })).data;
  },
  "@fal-ai/client subscribe (streaming)": (url) => {
    const fal = falClient(url);
    return async () => (await fal.subscribe(endpoint, { input, mode: "streaming" })).data;
  },
};
function falClient(url) {
  return createFalClient({
    credentials: "bench",
    requestMiddleware: async (request) => ({ ...request, url: request.url.replace("https://queue.fal.run", url) }),
  });
}

/** Runs the tasks in order, `concurrency` at a time: per client, when each job's result reached the caller, by job id. */
async function run(tasks) {
  const resolvedAt = new Map();
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const { name, subscribe } = tasks[next++];
      const output = await subscribe();
      if (!resolvedAt.has(name)) resolvedAt.set(name, new Map());
      resolvedAt.get(name).set(jobIdOf(output), now());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return resolvedAt;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const ms = (value) => `${value.toFixed(1)} ms`.padStart(10);

async function table(title, closeAfterCompletedMs, names) {
  const servers = Object.fromEntries(
    await Promise.all(names.map(async (name) => [name, await startFakeQueueProcess(fakeModule, { runMs: 50, runSpreadMs: 500, closeAfterCompletedMs })])),
  );
  const subscribes = Object.fromEntries(names.map((name) => [name, clients[name](servers[name].url)]));
  const turns = (count) => Array.from({ length: count }, () => names.map((name) => ({ name, subscribe: subscribes[name] }))).flat();
  try {
    await run(turns(2)); // warm-up: connections, JIT
    const before = Object.fromEntries(await Promise.all(names.map(async (name) => [name, (await servers[name].report()).connections])));
    const resolvedAt = await run(turns(jobsPerClient));
    console.log(`\n${title}`);
    console.log(`${"client".padEnd(46)}${"median".padStart(10)}${"p90".padStart(10)}${"p99".padStart(10)}${"max".padStart(10)}  requests a job  connections a job`);
    for (const name of names) {
      const jobs = await servers[name].report();
      const lags = [...resolvedAt.get(name)].map(([id, at]) => at - jobs.get(id).completedAt).sort((a, b) => a - b);
      const requests = [...resolvedAt.get(name).keys()].map((id) => jobs.get(id).requests);
      const [fewest, most] = [Math.min(...requests), Math.max(...requests)];
      const connections = (jobs.connections - before[name]) / lags.length;
      console.log(
        `${name.padEnd(46)}${ms(quantile(lags, 0.5))}${ms(quantile(lags, 0.9))}${ms(quantile(lags, 0.99))}${ms(lags.at(-1))}` +
          `  ${String(fewest === most ? fewest : `${fewest}-${most}`).padStart(14)}  ${connections.toFixed(2).padStart(17)}`,
      );
    }
  } finally {
    for (const server of Object.values(servers)) server.stop();
  }
}

// A loopback round trip to the same kind of server, for scale.
const probe = await startFakeQueueProcess(fakeModule, { runMs: 50, runSpreadMs: 500, closeAfterCompletedMs: 0 });
const trips = [];
for (let i = 0; i < 200; i++) {
  const start = now();
  await (await fetch(`${probe.url}/fal-ai/flux-1/requests/none/status`)).arrayBuffer();
  trips.push(now() - start);
}
probe.stop();
trips.sort((a, b) => a - b);

console.log(
  `Completion-to-result lag, ${jobsPerClient} jobs a client, clients in turn, ${concurrency} jobs at a time, job durations 50..549 ms (each client's fake queue in its own process)`,
);
console.log(`loopback round trip: median ${quantile(trips, 0.5).toFixed(2)} ms`);

const all = Object.keys(clients);
await table("The server ends the status stream right after COMPLETED:", 0, all);
await table(
  "The server holds the status stream open 1 s after COMPLETED:",
  1_000,
  all.filter((name) => /stream/.test(name)),
);
await rm(scratch, { recursive: true, force: true });
