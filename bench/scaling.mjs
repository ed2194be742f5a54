// npm run bench:scale: many jobs at once. At 1, 8, 64 and 256 concurrent jobs, each client runs its
// jobs against a fake queue of its own (the tests' fake, in its own process) whose jobs take
// BENCH_WORK_MS (200) each and whose status stream closes 20 ms after COMPLETED. Printed per client
// and level, after a warm-up round: the time against the ideal (jobs / concurrency x work), the
// measuring process's CPU a job, and the connections a job opened, with bare fetches (submit, stream to
// COMPLETED, result) as the baseline of what any client must do. Each measurement runs in a fresh
// process (bench/scale-client.mjs): run in one, a client paid for the garbage and warmed the JIT
// of the ones before it. With `-- --baseline REV`, the commit REV built in a worktree
// (bench/baseline.mjs) runs beside this build.
import { fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleFakeQueue, startFakeQueueProcess } from "./fake-queue-process.mjs";
import { baselineArgument, buildBaseline } from "./baseline.mjs";
import { clientNames } from "./scale-clients.mjs";

const levels = (process.env.BENCH_LEVELS ?? "1,8,64,256").split(",").map(Number);
const workMs = Number(process.env.BENCH_WORK_MS ?? 200);

const scratch = await mkdtemp(join(tmpdir(), "flux-bench-"));
const fakeModule = await bundleFakeQueue(scratch);

const baselineRev = baselineArgument();
const baseline = baselineRev ? await buildBaseline(baselineRev) : undefined;

/** The child's next message; a child that exits first (a client that threw) fails the run instead of hanging it. */
function nextMessage(child) {
  return new Promise((resolve, reject) => {
    const exited = (code) => reject(new Error(`bench/scale-client.mjs exited (${code}) before reporting`));
    child.once("exit", exited);
    child.once("message", (message) => {
      child.off("exit", exited);
      resolve(message);
    });
  });
}

/**
 * `jobs` jobs of client `name`, `level` at a time, in a process of its own (bench/scale-client.mjs)
 * against a fake queue of its own: wall time, that process's CPU, the connections opened after
 * its warm-up round.
 */
async function measure(name, level, jobs) {
  const server = await startFakeQueueProcess(fakeModule, { runMs: workMs, runSpreadMs: 1, closeAfterCompletedMs: 20 });
  const child = fork(new URL("./scale-client.mjs", import.meta.url), [JSON.stringify({ name, url: server.url, level, jobs, baselineDist: baseline?.dist })]);
  try {
    await nextMessage(child);
    const before = (await server.report()).connections;
    child.send("go");
    const { wall, cpuMs } = await nextMessage(child);
    const { connections } = await server.report();
    return { wall, cpuMs, connections: connections - before };
  } finally {
    child.kill();
    server.stop();
  }
}

/** Rounds per level, the clients' order rotated each round, so that a drift of the machine's load falls on each in turn. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`Jobs of ${workMs} ms at 1 to 256 at a time, each client in a fresh process against its own fake queue (own process), streams closed 20 ms after COMPLETED`);
console.log(`${rounds} rounds a level, the clients' order rotated each round; medians, then CPU a job against bare fetches' in the same round (min-max)`);
console.log(`${"concurrent jobs".padEnd(18)}${"client".padEnd(40)}${"jobs".padStart(6)}${"x ideal".padStart(10)}${"CPU a job".padStart(12)}${"conns a job".padStart(13)}${"x bare CPU".padStart(18)}`);
try {
  const names = clientNames(baseline?.sha);
  for (const level of levels) {
    const jobs = Math.max(16, level * 4);
    const ideal = Math.ceil(jobs / level) * workMs;
    const runs = Object.fromEntries(names.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length];
        runs[name].push(await measure(name, level, jobs));
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
