// One measurement of bench/scaling.mjs, in a process of its own so that no other client's garbage,
// compiled code or open connections count against it: client `name` runs `level` jobs at once
// against the fake queue at `url` (`jobs` jobs to warm up first, so that the counts are of the
// steady state, not of the pool filling or the JIT), then `jobs` jobs; it reports this process's CPU
// and the wall time.
import { makeClient } from "./scale-clients.mjs";

const { name, url, level, jobs, baselineDist } = JSON.parse(process.argv[2]);

/** Runs `count` jobs, `level` at a time. */
async function runJobs(job, count) {
  let next = 0;
  await Promise.all(
    Array.from({ length: level }, async () => {
      while (next++ < count) await job();
    }),
  );
}

const job = await makeClient(name, url, baselineDist);
// As many jobs as are measured: V8 compiles a function's fast code only once it has run a while,
// and a client with more code to run than bare fetches would otherwise be measured half-compiled.
await runJobs(job, jobs);
process.send({ warm: true });
await new Promise((resolve) => process.once("message", resolve));
const cpu = process.cpuUsage();
const started = performance.now();
await runJobs(job, jobs);
const wall = performance.now() - started;
const used = process.cpuUsage(cpu);
process.send({ wall, cpuMs: (used.user + used.system) / 1000 });
process.disconnect();
