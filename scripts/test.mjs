#!/usr/bin/env node
// npm test (the fast tier) and npm run test:full (the fast tier, then the full one). Each stage is
// a script of package.json; the stages that do not depend on one another run at once, each one's
// output printed whole when it ends, and the wall time of every stage and of the tier is printed
// at the end. Every stage runs even when another fails, so one run shows every failure.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const full = process.argv.includes("--full");
/** @type {Record<string, string>} */
const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;

/** Stages that need nothing but node_modules: all started at once. */
const fastStages = ["lint:spec", "check:breaking", "check:generated", "check:imports", "check:lengths", "typecheck", "test:fast"];

/**
 * @typedef {{ stage: string; ok: boolean; ms: number; output: string }} Outcome
 * @param {string} stage a script of package.json
 * @returns {Promise<Outcome>}
 */
function run(stage) {
  const started = performance.now();
  return new Promise((resolve) => {
    // The script's command run as npm would run it (node_modules/.bin first on PATH), without
    // npm's own start-up, which costs a core a third of a second per stage.
    const child = spawn("sh", ["-c", scripts[stage]], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PATH: `${join(root, "node_modules", ".bin")}${delimiter}${process.env.PATH}`,
        // Colour as on a terminal when this script's output is one: the stages' output is piped to it.
        ...(process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: "1" } : {}),
      },
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", (error) => (output += `${error.message}\n`));
    child.on("close", (code, signal) => {
      /** @type {Outcome} */
      const outcome = { stage, ok: code === 0, ms: performance.now() - started, output };
      if (signal) outcome.output += `\n(ended by ${signal})\n`;
      report(outcome);
      resolve(outcome);
    });
  });
}

/** @param {Outcome} outcome */
function report({ stage, ok, ms, output }) {
  const text = output.trimEnd();
  console.log(`\n── ${stage}: ${ok ? "ok" : "FAILED"} in ${seconds(ms)}${text ? ` ──\n${text}` : ""}`);
}

/** @param {number} ms */
function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The test files of the tiers `npm test` does not run (test/full/, test/browser/), named: nothing is skipped silently. */
function fullTierFiles() {
  return ["full", "browser"].flatMap((folder) =>
    readdirSync(join(root, "test", folder), { recursive: true, withFileTypes: true })
      // Files only: vitest's browser mode keeps failure screenshots in a folder named after the test file.
      .filter((entry) => entry.isFile() && entry.name.endsWith(".test.ts"))
      .map((entry) => relative(join(root, "test", folder), join(entry.parentPath ?? entry.path, entry.name)))
      .sort()
      .map((name) => `${folder}/${name}`),
  );
}

const started = performance.now();
const first = full ? [...fastStages, "build"] : fastStages;
console.log(`${full ? "npm run test:full" : "npm test"}: ${first.join(", ")} at once${full ? "; then test:full-tier" : ""}`);
const outcomes = await Promise.all(first.map(run));
// The full tier runs the built command (dist/); it starts once the fast tier is done, so that
// its subprocesses do not share two cores with it.
if (full && outcomes.find((o) => o.stage === "build")?.ok) outcomes.push(await run("test:full-tier"));
const wall = performance.now() - started;

console.log(`\n${"stage".padEnd(18)} ${"wall".padStart(7)}  result`);
for (const { stage, ok, ms } of outcomes) console.log(`${stage.padEnd(18)} ${seconds(ms).padStart(7)}  ${ok ? "ok" : "FAILED"}`);
console.log(`${(full ? "fast + full tiers" : "fast tier").padEnd(18)} ${seconds(wall).padStart(7)}  ${outcomes.every((o) => o.ok) ? "ok" : "FAILED"}`);
if (!full) {
  const files = fullTierFiles();
  console.log(`\nnot run here: the full and browser tiers, ${files.length} files (${files.join(", ")}): npm run test:full`);
}
process.exitCode = outcomes.every((o) => o.ok) ? 0 : 1;
