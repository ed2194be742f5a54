// npm run test:under-load [-- --runs N --project fast|full|browser ...]: the test suites run again
// and again while a busy loop spins on every core, as on a loaded CI machine. A test that depends on
// timing instead of on events fails here; every failure is listed with how often it failed.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "10" }, project: { type: "string", multiple: true, default: ["fast"] } },
});
const runs = Number(values.runs);
const busy = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
const stopBusy = () => busy.forEach((child) => child.kill("SIGKILL"));
process.on("exit", stopBusy);
process.on("SIGINT", () => process.exit(130));

const failures = new Map();
let failedRuns = 0;
for (let run = 1; run <= runs; run++) {
  const started = performance.now();
  const args = ["vitest", "run", ...values.project.flatMap((name) => ["--project", name]), "--reporter=json"];
  const child = spawn("npx", args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk) => (out += chunk));
  const code = await new Promise((resolve) => child.once("close", resolve));
  let report;
  try {
    report = JSON.parse(out.slice(out.indexOf("{")));
  } catch {
    report = { testResults: [] };
  }
  const failed = report.testResults.flatMap((file) =>
    file.assertionResults.filter((test) => test.status === "failed").map((test) => `${file.name.replace(process.cwd() + "/", "")} > ${test.fullName}`),
  );
  if (code !== 0) failedRuns++;
  for (const name of failed) failures.set(name, (failures.get(name) ?? 0) + 1);
  console.log(`run ${run}/${runs}: ${code === 0 ? "passed" : `FAILED (${failed.length || "no test named: see above"})`} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
stopBusy();
console.log(`\n${runs - failedRuns} of ${runs} runs passed with ${busy.length} busy loop(s) on ${availableParallelism()} core(s).`);
for (const [name, count] of [...failures].sort((a, b) => b[1] - a[1])) console.log(`  failed ${count}x: ${name}`);
process.exitCode = failedRuns ? 1 : 0;
