// npm run bench:batch-kill -- --baseline REV: how many lines a SIGKILL leaves uncertain (their
// submit recorded as going out, no request id recorded) in a batch under way, at --concurrency 8 and
// 32, for this build and, in the same run, the build of REV. The fake queue (its own process) runs
// each job 100-150 ms, so submits go out all the time; each run is killed after KILL_AFTER_MS (1.5 s,
// in the steady state), then its journal is read. "reached fal" counts the submits the fake took
// whose id the journal lacks: the lines --resend-uncertain would bill twice.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { baselineArgument, buildBaseline } from "./baseline.mjs";
import { bundleFakeQueue, startFakeQueueProcess } from "./fake-queue-process.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const lines = 2_000;
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const killAfterMs = Number(process.env.KILL_AFTER_MS ?? 1_500);
const workMs = Number(process.env.BENCH_WORK_MS ?? 0);
const scratch = await mkdtemp(join(tmpdir(), "flux-bench-kill-"));
const fakeModule = await bundleFakeQueue(scratch);
const baselineRev = baselineArgument();
const baseline = baselineRev ? await buildBaseline(baselineRev) : undefined;
const builds = [["this build", join(root, "dist")], ...(baseline ? [[`baseline ${baseline.sha}`, baseline.dist]] : [])];

/** One batch killed in its steady state: lines uncertain, and those of them fal took. */
async function killedRun(dist, concurrency, round) {
  const fake = await startFakeQueueProcess(fakeModule, { runMs: workMs, runSpreadMs: workMs / 2 + 1, closeAfterCompletedMs: 0 });
  const file = join(scratch, `batch-${concurrency}-${round}-${Math.random().toString(36).slice(2)}.jsonl`);
  await writeFile(file, Array.from({ length: lines }, (_, i) => JSON.stringify({ image_url: "https://example.com/a.png", prompt: `line ${i + 1}` })).join("\n") + "\n");
  const child = spawn(process.execPath, [join(dist, "src/bin/flux-i2i.js"), "--live", "--queue-url", fake.url, "--batch", file, "--concurrency", String(concurrency)], {
    env: { ...process.env, FAL_KEY: "bench-id:bench-secret" },
    stdio: "ignore",
  });
  const exited = new Promise((resolve) => child.once("close", resolve));
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  child.kill("SIGKILL");
  await exited;
  const last = new Map();
  let submitted = 0;
  for (const text of (await readFile(file.replace(/\.jsonl$/, ".results.jsonl.journal"), "utf8")).split("\n")) {
    try {
      const record = JSON.parse(text);
      last.set(record.line, record.event);
      if (record.event === "submitted") submitted++;
    } catch {
      // torn by the kill
    }
  }
  const taken = (await fake.report()).size;
  fake.stop();
  return { uncertain: [...last.values()].filter((event) => event === "submitting").length, reachedFal: taken - submitted };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`${lines}-line batches killed after ${killAfterMs} ms, ${rounds} rounds each; median (and worst) lines left uncertain`);
try {
  for (const concurrency of [8, 32]) {
    const medians = [];
    for (const [name, dist] of builds) {
      const runs = [];
      for (let round = 0; round < rounds; round++) runs.push(await killedRun(dist, concurrency, round));
      const uncertain = runs.map((run) => run.uncertain);
      const reached = runs.map((run) => run.reachedFal);
      medians.push(median(uncertain));
      const ratio = medians.length > 1 && medians[0] ? `  baseline/this ${(median(uncertain) / medians[0]).toFixed(1)}x` : "";
      console.log(`  --concurrency ${String(concurrency).padEnd(3)} ${name.padEnd(18)} uncertain ${String(median(uncertain)).padStart(3)} (worst ${Math.max(...uncertain)}), of which reached fal ${median(reached)} (worst ${Math.max(...reached)})${ratio}`);
    }
  }
} finally {
  await baseline?.remove();
  await rm(scratch, { recursive: true, force: true });
}
