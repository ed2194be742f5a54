// The breaking-change gate gates where CI runs it: in a fresh clone of this repository, three
// breaking changes committed on main (a lowered maximum, an output field made optional, a changed
// default) fail `npm test`, each named; with their CHANGELOG entries they pass; each entry covers
// its own change only; a pull-request checkout (detached HEAD, no tags, no main) is judged against
// the same release. The base is the snapshot in spec-release/, so no history or tag is needed.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
let scratch: string;
let clone: string;

const git = (...args: string[]) => run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: clone });

async function exitOf(command: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: clone, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}
const npmTest = () => exitOf("npm", ["test"]);
const gate = () => exitOf(process.execPath, ["scripts/check-breaking.mjs"]);

/** Edits a file of the clone, checking the edit took. */
async function edit(file: string, change: (text: string) => string) {
  const path = join(clone, file);
  const before = await readFile(path, "utf8");
  const after = change(before);
  expect(after, file).not.toBe(before);
  await writeFile(path, after);
}

/** The planted changes, each committed on main with generated/ regenerated, and the words the gate's report names it by. */
const planted = [
  { what: "a lowered maximum", named: "guidance_scale", change: (t: string) => t.replace(/(guidance_scale:\n(?:\s+\S.*\n)*?\s+)maximum: 20\n/, "$1maximum: 15\n") },
  { what: "an output field made optional", named: "no longer required: `prompt`", change: (t: string) => t.replace("required: [images, timings, seed, has_nsfw_concepts, prompt]", "required: [images, timings, seed, has_nsfw_concepts]") },
  { what: "a changed default", named: "default changed from 0.95 to 0.8", change: (t: string) => t.replace("default: 0.95", "default: 0.8") },
];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "flux-gate-"));
  clone = join(scratch, "repo");
  // A clone of the commit under test, then the working tree's own files on top (the same in CI,
  // where the checkout is clean), committed: this clone's main is the code under test.
  await run("git", ["clone", "-q", "--no-hardlinks", root, clone]);
  const { stdout } = await run("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: root });
  // node_modules is linked below (a checkout may hold it as a symlink, which .gitignore's `node_modules/` does not match).
  for (const file of stdout.split("\0").filter((name) => name && name !== "node_modules")) {
    await mkdir(dirname(join(clone, file)), { recursive: true });
    await cp(join(root, file), join(clone, file)).catch(() => undefined); // a file deleted in the working tree
  }
  await symlink(join(root, "node_modules"), join(clone, "node_modules"), "dir");
  await git("checkout", "-q", "-B", "main");
  await git("add", "-A");
  await git("commit", "-q", "--allow-empty", "-m", "the code under test");
  for (const { what, change } of planted) {
    await edit("openapi/components.yaml", change);
    await run(process.execPath, ["scripts/generate.mjs"], { cwd: clone });
    await git("commit", "-qam", `plant ${what}`);
  }
  // No tag reaches a clone, and the gate needs none.
  expect((await git("tag")).stdout).toBe("");
}, 120_000);
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("the breaking-change gate in a fresh clone of main", () => {
  let ids: string[] = [];
  /** The gate's line for each change it found (id, document, place, message). */
  let reported: string[] = [];

  it("npm test fails, the gate its only failing stage, naming each planted change against the release snapshot", { timeout: 240_000 }, async () => {
    const { code, output } = await npmTest();
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/check:breaking\s+\S+ s\s+FAILED/);
    for (const stage of ["lint:spec", "check:generated", "check:imports", "typecheck", "test:fast"]) expect(output).toMatch(new RegExp(`${stage}\\s+\\S+ s\\s+ok`));
    expect(output).toContain("since release 0.1.0 (spec-release/)");
    for (const { named } of planted) expect(output).toContain(named);
    reported = output.split("\n").filter((line) => /^\s+\[spec:[0-9a-f]{8}\]/.test(line));
    ids = [...new Set(reported.map((line) => /\[spec:[0-9a-f]{8}\]/.exec(line)![0]))];
    // Each change in both documents (the sync call and the submit or result share the schemas).
    expect(ids.length).toBeGreaterThanOrEqual(planted.length);
  });

  it("with a CHANGELOG entry per change, npm test passes", { timeout: 240_000 }, async () => {
    expect(ids.length).toBeGreaterThan(0);
    await edit("CHANGELOG.md", (t) => t.replace("### Breaking\n", `### Breaking\n\n- The planted changes. ${ids.join(" ")}\n`));
    await git("commit", "-qam", "CHANGELOG: the planted changes");
    const { code, output } = await npmTest();
    expect(code, output).toBe(0);
    expect(output).toContain("each acknowledged");
  });

  it("each entry covers its own change only: with one change's ids left out, the gate fails on that change alone", { timeout: 120_000 }, async () => {
    const entry = await readFile(join(clone, "CHANGELOG.md"), "utf8");
    try {
      for (const { named } of planted) {
        const mine = reported.filter((line) => line.includes(named)).map((line) => /\[spec:[0-9a-f]{8}\]/.exec(line)![0]);
        expect(mine.length, named).toBeGreaterThan(0);
        await writeFile(join(clone, "CHANGELOG.md"), mine.reduce((text, id) => text.replace(` ${id}`, ""), entry));
        const { code, output } = await gate();
        expect(code, named).toBe(1);
        const open = output.split("\n").filter((line) => /^\s+\[spec:[0-9a-f]{8}\]/.test(line));
        expect(open.map((line) => line.includes(named))).toEqual(mine.map(() => true));
      }
    } finally {
      await writeFile(join(clone, "CHANGELOG.md"), entry);
    }
  });

  it("a pull-request checkout (detached HEAD, before the entries) is judged against the same release and fails", { timeout: 60_000 }, async () => {
    await git("checkout", "-q", "--detach", "HEAD~1");
    await git("branch", "-D", "main");
    const { code, output } = await gate();
    expect(code).toBe(1);
    expect(output).toContain("since release 0.1.0 (spec-release/) not acknowledged");
  });

  it("with no release snapshot the gate fails: no base is an error, not a pass", async () => {
    await rm(join(clone, "spec-release"), { recursive: true });
    const { code, output } = await gate();
    expect(code).toBe(1);
    expect(output).toContain("no base to compare with");
  });
});
