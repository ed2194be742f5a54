// The spec's CI checks can fail: the linter on a broken example or a missing operationId or
// description, the drift check on a spec changed without regenerating.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const redocly = join(root, "node_modules", "@redocly", "cli", "bin", "cli.js");
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "flux-spec-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A copy of the project's spec-side files with one edit to a document. */
async function copyWith(name: string, file: string, edit: (text: string) => string): Promise<string> {
  const dir = join(scratch, name);
  for (const part of ["openapi", "scripts", "generated", "redocly.yaml", "package.json"]) {
    await cp(join(root, part), join(dir, part), { recursive: true });
  }
  await symlink(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  const target = join(dir, "openapi", file);
  const before = await readFile(target, "utf8");
  const after = edit(before);
  expect(after).not.toBe(before);
  await writeFile(target, after);
  return dir;
}

async function exitCode(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [command, ...args], { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

const lint = (dir: string) => exitCode(redocly, ["lint", "openapi/image-to-image.yaml", "openapi/queue.yaml"], dir);

describe("npm run check:breaking", () => {
  /** A git repository holding the spec as committed (the base), then `file` edited in its working tree. */
  async function repoWith(name: string, file: string, edit: (text: string) => string, changelog?: (text: string) => string) {
    const dir = join(scratch, name);
    for (const part of ["openapi", "scripts", "package.json", "CHANGELOG.md"]) await cp(join(root, part), join(dir, part), { recursive: true });
    await symlink(join(root, "node_modules"), join(dir, "node_modules"), "dir");
    const git = (...args: string[]) => run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: dir });
    await git("init", "-q");
    await git("add", "openapi", "package.json", "CHANGELOG.md");
    await git("commit", "-qm", "base");
    const target = join(dir, "openapi", file);
    const before = await readFile(target, "utf8");
    const after = edit(before);
    expect(after).not.toBe(before);
    await writeFile(target, after);
    if (changelog) await writeFile(join(dir, "CHANGELOG.md"), changelog(await readFile(join(dir, "CHANGELOG.md"), "utf8")));
    return dir;
  }
  const gate = (dir: string) => exitCode(join(dir, "scripts", "check-breaking.mjs"), ["--base", "HEAD"], dir);

  it("passes when nothing breaks (a description changed)", async () => {
    const dir = await repoWith("gate-clean", "components.yaml", (t) => t.replace("The prompt to generate an image from.", "The prompt."));
    const { code, output } = await gate(dir);
    expect([code, output]).toEqual([0, expect.stringContaining("no breaking change")]);
  });

  it.each([
    ["a maximum lowered", "components.yaml", (t: string) => t.replace("maximum: 4\n", "maximum: 3\n"), "num_images"],
    ["a new required property", "components.yaml", (t: string) => t.replace("required: [image_url, prompt]", "required: [image_url, prompt, strength]"), "strength"],
    ["an enum value removed", "components.yaml", (t: string) => t.replace("enum: [jpeg, png]", "enum: [jpeg]"), "output_format"],
    ["a response property made optional", "components.yaml", (t: string) => t.replace("required: [images, timings, seed, has_nsfw_concepts, prompt]", "required: [images, timings, has_nsfw_concepts, prompt]"), "seed"],
    [
      "a webhook header made optional (judged from the receiver's side)",
      "queue.yaml",
      (t: string) => t.replace(/(name: X-Fal-Webhook-Signature\n\s+in: header\n\s+)required: true/, "$1required: false"),
      "X-Fal-Webhook-Signature",
    ],
  ])("fails on %s, naming it with an id", { timeout: 60_000 }, async (name, file, edit, named) => {
    const dir = await repoWith(`gate-${name.replace(/\W+/g, "-")}`, file, edit);
    const { code, output } = await gate(dir);
    expect(code, output).toBe(1);
    expect(output).toContain(named);
    expect(output).toMatch(/\[spec:[0-9a-f]{8}\]/);
  });

  it("a breaking change named by its id in CHANGELOG.md's Unreleased / Breaking list passes; an older entry does not cover it", { timeout: 60_000 }, async () => {
    const lowered = (t: string) => t.replace("maximum: 4\n", "maximum: 3\n");
    // The copied CHANGELOG.md already has entries (issues 10 and 11): they do not cover this change.
    const { code, output } = await gate(await repoWith("gate-unacknowledged", "components.yaml", lowered));
    expect(code).toBe(1);
    const ids = output.match(/spec:[0-9a-f]{8}/g)!;
    const acknowledged = await repoWith("gate-acknowledged", "components.yaml", lowered, (t) =>
      t.replace("### Breaking\n", `### Breaking\n\n- num_images at most 3 [${ids.join("] [")}]\n`),
    );
    expect((await gate(acknowledged)).code).toBe(0);
  });

  it("passes a breaking change when the major version moved", async () => {
    const dir = await repoWith("gate-major", "components.yaml", (t) => t.replace("maximum: 4\n", "maximum: 3\n"));
    const manifest = join(dir, "package.json");
    await writeFile(manifest, (await readFile(manifest, "utf8")).replace(/"version": "0\.\d+\.\d+"/, '"version": "1.0.0"'));
    expect((await gate(dir)).code).toBe(0);
  });
});

describe("npm run lint:spec", () => {
  it("passes on the spec as committed", async () => {
    const dir = await copyWith("clean", "image-to-image.yaml", (t) => t.replace("version: 1.0.0", "version: 1.0.1"));
    expect((await lint(dir)).code).toBe(0);
  });

  it.concurrent.each([
    ["an example that breaks its schema", "image-to-image.yaml", (t: string) => t.replace("num_images: 1\n", "num_images: 9\n"), "no-invalid-media-type-examples"],
    ["an operation with no operationId", "image-to-image.yaml", (t: string) => t.replace(/ +operationId: imageToImage\n/, ""), "operation-operationId"],
    ["an operation with no description", "image-to-image.yaml", (t: string) => t.replace(/      description: \|\n        Runs FLUX[\s\S]*?\n      parameters:\n/, "      parameters:\n"), "operation-description"],
    ["a response example that breaks the shared schema", "components.yaml", (t: string) => t.replace("type: less_than_equal\n", "type: 7\n"), "no-invalid-media-type-examples"],
    ["a queue status example that is no status", "queue.yaml", (t: string) => t.replace("status: COMPLETED\n", "status: FAILED\n"), "no-invalid-media-type-examples"],
    ["a queue operation with no operationId", "queue.yaml", (t: string) => t.replace(/ +operationId: cancelQueueRequest\n/, ""), "operation-operationId"],
  ])("fails on %s", async (name, file, edit, rule) => {
    const dir = await copyWith(name.replace(/\W+/g, "-"), file, edit);
    const { code, output } = await lint(dir);
    expect(code).not.toBe(0);
    expect(output).toContain(rule);
  });
});

describe("npm run check:generated", () => {
  it("fails when a bound of the spec changed and generated/ was not regenerated", async () => {
    const dir = await copyWith("drift", "components.yaml", (t) => t.replace("maximum: 4\n", "maximum: 8\n"));
    const stale = await exitCode("scripts/generate.mjs", ["--check"], dir);
    expect(stale.code).toBe(1);
    expect(stale.output).toContain("generated/validators.ts is stale");
    expect(stale.output).toContain("generated/spec.ts is stale");
    await exitCode("scripts/generate.mjs", [], dir);
    expect((await exitCode("scripts/generate.mjs", ["--check"], dir)).code).toBe(0);
    expect(await readFile(join(dir, "generated", "validators.ts"), "utf8")).toContain(`comparison: "<=", limit: 8`);
  });

  it("a parameter added to the input is a flag of the generated table, with its schema; one no flag can carry is refused by name", async () => {
    const added = "        lora_scale:\n          type: number\n          description: How much the LoRA weighs.\n        acceleration:\n";
    const dir = await copyWith("new-flag", "components.yaml", (t) => t.replace("        acceleration:\n", added));
    expect((await exitCode("scripts/generate.mjs", [], dir)).code).toBe(0);
    const data = await readFile(join(dir, "generated", "endpoint-data.ts"), "utf8");
    expect(data).toMatch(/"flag": "lora-scale",\s+"parameter": "lora_scale",\s+"type": "number",\s+"nullable": false,\s+"required": false,\s+"schema": {\s+"type": "number",\s+"description": "How much the LoRA weighs."\s+}/);
    const nested = await copyWith("object-flag", "components.yaml", (t) => t.replace("        acceleration:\n", added.replace("type: number", "type: object")));
    const refused = await exitCode("scripts/generate.mjs", [], nested);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain("the input parameter lora_scale is of type object: a flag takes a boolean, an integer, a number or a string");
  });

  it("fails when the queue document changed and generated/ was not regenerated", async () => {
    const dir = await copyWith("queue-drift", "queue.yaml", (t) => t.replace("x-timestamp-tolerance-seconds: 300", "x-timestamp-tolerance-seconds: 600"));
    const stale = await exitCode("scripts/generate.mjs", ["--check"], dir);
    expect(stale.code).toBe(1);
    expect(stale.output).toContain("generated/spec.ts is stale");
  });
});
