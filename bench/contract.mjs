// npm run bench:contract [-- --baseline REV]: what a `flux-i2i contract` run costs and what it finds.
// 1. The wall time of a whole run (runContract, as the command calls it) against the package's Prism
//    mocks and against a local honest server (test/support/contract-server.ts), at --examples 1, 25
//    and 1000, and the requests the coverage phase sends per operation.
// 2. The detection table of the hidden-bug suite: each of the server's bugs switched on alone, run
//    at each size over several seeds; a cell says for how many seeds the run caught it. The honest
//    server's row says how many checks failed on it (false alarms), which must be 0.
// With --baseline REV, the same table for the contract run of that revision (built in a worktree),
// beside this build's, in the same run. BENCH_SEEDS sets the seeds per size (default 5; 1 at 1000).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { baselineArgument, buildBaseline } from "./baseline.mjs";
import { bundleSupport } from "./fake-queue-process.mjs";
import { runContract } from "../dist/src/cli/contract/run.js";
import { startPrismMock, specPath } from "../dist/src/testing/mock.js";

const sizes = [1, 25, 1000];
const seedsPer = (size) => (size >= 1000 ? 1 : Number(process.env.BENCH_SEEDS ?? 5));
const revision = baselineArgument();
const baseline = revision ? await buildBaseline(revision) : undefined;
const baselineRun = baseline ? (await import(pathToFileURL(join(baseline.dist, "src/cli/contract/run.js")).href)).runContract : undefined;

const scratch = await mkdtemp(join(tmpdir(), "flux-bench-contract-"));
const { startContractServer, contractBugs } = await import(pathToFileURL(await bundleSupport(scratch, "contract-server")).href);
const key = "contract-test";
const failuresOf = (report) =>
  Object.values(report.results).reduce((sum, byCheck) => sum + Object.values(byCheck ?? {}).reduce((n, tally) => n + (tally?.failed ?? 0), 0), 0);

// 1. Whole runs, one at a time, nothing else running.
const mocks = await Promise.all([startPrismMock(), startPrismMock({ spec: specPath("queue.yaml") })]);
const honest = await startContractServer();
console.log("A whole contract run (wall time; failures found, which must be 0):");
console.log(`${"--examples".padEnd(11)} ${"Prism mocks".padStart(14)} ${"honest server".padStart(16)}`);
let coverage;
for (const examples of sizes) {
  const timed = async (syncUrl, queueUrl) => {
    const started = performance.now();
    const report = await runContract({ syncUrl, queueUrl, key, examples, seed: 1 });
    coverage ??= report.coverage;
    return `${((performance.now() - started) / 1000).toFixed(1)} s (${failuresOf(report)})`;
  };
  const againstMocks = await timed(mocks[0].url, mocks[1].url);
  const againstHonest = await timed(honest.syncUrl, honest.queueUrl);
  console.log(`${String(examples).padEnd(11)} ${againstMocks.padStart(14)} ${againstHonest.padStart(16)}`);
}
await Promise.all([...mocks.map((mock) => mock.stop()), honest.close()]);
console.log(`\nThe coverage phase's requests per operation (the same at any --examples): ${Object.entries(coverage).map(([operation, n]) => `${operation} ${n}`).join(", ")}`);

// 2. The detection table, four runs at once, each against a server of its own. A bug counts as
// caught when its run fails some check on some operation more often than the honest server's run
// of the same build, size and seed: a build that raises false alarms on the honest server (the
// control row) cannot claim a bug by them.
const failedCounts = (report) =>
  new Map(Object.entries(report.results).flatMap(([operation, byCheck]) => Object.entries(byCheck ?? {}).map(([check, tally]) => [`${check} ${operation}`, tally?.failed ?? 0])));

async function runOnce(run, options, examples, seed) {
  const server = await startContractServer(options);
  try {
    // A 5 s time limit per request for both builds: a stream that never ends costs that, not 30 s.
    return failedCounts(await run({ syncUrl: server.syncUrl, queueUrl: server.queueUrl, key, examples, seed, timeoutMs: 5_000 }));
  } finally {
    await server.close();
  }
}

const builds = [...(baselineRun ? [[baseline.sha, baselineRun]] : []), ["this build", runContract]];
const columns = builds.flatMap(([name, run]) => sizes.map((examples) => ({ name: `${name} @${examples}`, run, examples })));
const seedsOf = (column) => Array.from({ length: seedsPer(column.examples) }, (_, i) => i + 1);
const atOnce = async (tasks) => {
  const results = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < tasks.length) {
      const at = next++;
      results[at] = await tasks[at]();
    }
  }));
  return results;
};
const started = performance.now();
const controls = new Map();
await atOnce(columns.flatMap((column) => seedsOf(column).map((seed) => async () => controls.set(`${column.name}|${seed}`, await runOnce(column.run, {}, column.examples, seed)))));
const bugs = Object.keys(contractBugs);
const cells = new Map();
await atOnce(
  bugs.flatMap((bug) =>
    columns.map((column) => async () => {
      let caught = 0;
      for (const seed of seedsOf(column)) {
        const control = controls.get(`${column.name}|${seed}`);
        const counts = await runOnce(column.run, { bug }, column.examples, seed);
        if ([...counts].some(([key, failed]) => failed > (control.get(key) ?? 0))) caught++;
      }
      cells.set(`${bug}|${column.name}`, `${caught}/${seedsOf(column).length}`);
    }),
  ),
);
for (const column of columns) {
  const falseAlarms = seedsOf(column).map((seed) => [...controls.get(`${column.name}|${seed}`)].filter(([, failed]) => failed > 0).length);
  cells.set(`honest (checks failed)|${column.name}`, String(Math.max(...falseAlarms)));
}
console.log(`\nRuns that caught each bug, by build @--examples (seeds per cell: ${seedsPer(1)} at 1 and 25, ${seedsPer(1000)} at 1000; ${((performance.now() - started) / 1000).toFixed(0)} s):`);
const rows = ["honest (checks failed)", ...bugs];
const width = Math.max(...rows.map((row) => row.length));
const cell = (text, column) => text.padStart(column.name.length + 2);
console.log(`${"bug".padEnd(width)}${columns.map((c) => cell(c.name, c)).join("")}`);
for (const row of rows) console.log(`${row.padEnd(width)}${columns.map((c) => cell(cells.get(`${row}|${c.name}`), c)).join("")}`);
for (const column of columns) {
  const always = bugs.filter((bug) => {
    const [caught, of] = cells.get(`${bug}|${column.name}`).split("/");
    return caught === of;
  }).length;
  console.log(`${column.name}: ${always} of ${bugs.length} bugs caught by every seed; the honest server failed ${cells.get(`honest (checks failed)|${column.name}`)} check(s)`);
}
await baseline?.remove();
await rm(scratch, { recursive: true, force: true });
