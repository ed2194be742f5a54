// npm run bench:queue: how long after a job completes on the queue each client hands its result to
// the caller, and how many HTTP requests a job costs, against a local fake of fal's queue running in
// its own process. Durations are spread so that completion falls anywhere in a polling cycle.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFalClient } from "@fal-ai/client";
import { createFluxClient } from "../dist/src/index.js";
import { bundleFakeQueue, startFakeQueueProcess } from "./fake-queue-process.mjs";

const jobsPerClient = Number(process.env.BENCH_JOBS ?? 40);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
const input = { image_url: "https://fal.media/files/koala/Chls9L2ZnvuipUTEwlnJC.png", prompt: "a wizard cat" };
const endpoint = "fal-ai/flux-1/dev/image-to-image";
const now = () => performance.timeOrigin + performance.now();

const scratch = await mkdtemp(join(tmpdir(), "flux-bench-"));
const fakeModule = await bundleFakeQueue(scratch);
/** A fake queue in its own process; `closeAfterCompletedMs` is how long it holds a stream open after COMPLETED. */
const startServer = (closeAfterCompletedMs) =>
  startFakeQueueProcess(fakeModule, { runMs: 50, runSpreadMs: 500, closeAfterCompletedMs });

const jobIdOf = (output) => /files\/fake\/(.+)\.jpeg$/.exec(output.images[0].url)[1];

function clientsOf(url) {
  const flux = createFluxClient({ credentials: "bench", queueUrl: url });
  const fal = createFalClient({
    credentials: "bench",
    requestMiddleware: async (request) => ({ ...request, url: request.url.replace("https://queue.fal.run", url) }),
  });
  return {
    "flux-i2i subscribe (stream)": () => flux.subscribe(input),
    "flux-i2i subscribe (poll 500 ms)": () => flux.subscribe(input, { mode: "poll" }),
    "@fal-ai/client subscribe (polling, default)": async () => (await fal.subscribe(endpoint, { input })).data,
    "@fal-ai/client subscribe (streaming)": async () => (await fal.subscribe(endpoint, { input, mode: "streaming" })).data,
  };
}

/** Runs `count` jobs, `concurrency` at a time; the time each result reached the caller, by job id. */
async function run(subscribe, count) {
  const resolvedAt = new Map();
  let started = 0;
  const worker = async () => {
    while (started++ < count) {
      const output = await subscribe();
      resolvedAt.set(jobIdOf(output), now());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return resolvedAt;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (value) => `${value.toFixed(1)} ms`.padStart(10);

const closing = await startServer(0);
const holding = await startServer(1_000);

// A loopback round trip to the same kind of server, for scale.
const trips = [];
for (let i = 0; i < 200; i++) {
  const start = now();
  await (await fetch(`${closing.url}/fal-ai/flux-1/requests/none/status`)).arrayBuffer();
  trips.push(now() - start);
}
trips.sort((a, b) => a - b);

console.log(
  `Completion-to-result lag, ${jobsPerClient} jobs a client, ${concurrency} at a time, job durations 50..549 ms (fake queue in its own process)`,
);
console.log(`loopback round trip: median ${quantile(trips, 0.5).toFixed(2)} ms`);

async function table(title, server, names) {
  console.log(`\n${title}`);
  console.log(`${"client".padEnd(46)}${"median".padStart(10)}${"p90".padStart(10)}${"max".padStart(10)}   requests a job`);
  const clients = clientsOf(server.url);
  for (const name of names) {
    await run(clients[name], 2); // warm-up: connections, JIT
    const resolvedAt = await run(clients[name], jobsPerClient);
    const jobs = await server.report();
    const lags = [...resolvedAt].map(([id, at]) => at - jobs.get(id).completedAt).sort((a, b) => a - b);
    const requests = [...resolvedAt.keys()].map((id) => jobs.get(id).requests);
    const [fewest, most] = [Math.min(...requests), Math.max(...requests)];
    console.log(
      `${name.padEnd(46)}${ms(quantile(lags, 0.5))}${ms(quantile(lags, 0.9))}${ms(lags.at(-1))}   ${fewest === most ? fewest : `${fewest}-${most}`}`,
    );
  }
}

const all = Object.keys(clientsOf(closing.url));
await table("The server ends the status stream right after COMPLETED:", closing, all);
await table(
  "The server holds the status stream open 1 s after COMPLETED:",
  holding,
  all.filter((name) => /stream/.test(name)),
);

closing.stop();
holding.stop();
await rm(scratch, { recursive: true, force: true });
