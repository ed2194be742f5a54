// What a user gets from `npm run build`: the package imported by name from plain Node, and the
// main job (`npm start`) run end to end against its own Prism mock.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { firstExample, queueExample } from "./support/spec.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");

describe("the built package", () => {
  it("is importable by name from plain Node, with its types beside it", async () => {
    const script = `
      import * as pkg from "flux-i2i";
      import { existsSync } from "node:fs";
      import { createRequire } from "node:module";
      const manifest = createRequire(import.meta.url)("flux-i2i/package.json");
      const client = pkg.createFluxClient({ credentials: "k", fetch: async () => new Response("{}") });
      const error = await client.imageToImage({ prompt: "x" }).catch((e) => e);
      console.log(JSON.stringify({
        exports: Object.keys(pkg).sort(),
        types: existsSync(manifest.exports["."].types),
        error: error.name,
      }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: root });
    const result = JSON.parse(stdout);
    expect(result.exports).toEqual(
      expect.arrayContaining(["createFluxClient", "FluxApiError", "FluxValidationError", "FluxNetworkError", "FluxResponseError"]),
    );
    expect(result.types).toBe(true);
    expect(result.error).toBe("FluxValidationError");
  });

  it("npm start's job prints the mock's answer to the seed's example and exits 0", async () => {
    const { stdout, stderr } = await run(process.execPath, ["dist/src/bin/flux-i2i.js"], {
      cwd: root,
      env: { ...process.env, FAL_KEY: "" },
    });
    const expected = firstExample(200) as { images: { url: string }[]; seed: number };
    expect(stdout).toContain(`image 1: ${expected.images[0]!.url}`);
    expect(stdout).toContain(`seed: ${expected.seed}`);
    expect(stdout).toMatch(/timings: inference [\d.]+ s/);
    expect(stderr).toContain("Prism mock");
  });

  it("--json prints the body; a bad flag exits 2", async () => {
    const { stdout } = await run(process.execPath, ["dist/src/bin/flux-i2i.js", "--json"], { cwd: root });
    expect(JSON.parse(stdout)).toEqual(firstExample(200));
    const bad = await run(process.execPath, ["dist/src/bin/flux-i2i.js", "--nope"], { cwd: root }).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Usage: flux-i2i");
  });

  it("--queue runs the example through a Prism mock of the queue: statuses on stderr, the output on stdout", async () => {
    const { stdout, stderr } = await run(process.execPath, ["dist/src/bin/flux-i2i.js", "--queue", "--json"], { cwd: root });
    const expected = queueExample("getQueueResult", 200) as { images: { url: string }[] };
    const submitted = queueExample("submitImageToImage", 200) as { request_id: string };
    expect(JSON.parse(stdout).images).toEqual(expected.images);
    // The mock's seed, every digit of it (Prism itself already rounded the spec's 15860307465884635512).
    expect(stdout).toMatch(/"seed": \d{20}/);
    expect(stderr).toContain(`request id: ${submitted.request_id}`);
    expect(stderr).toMatch(/status: IN_QUEUE[\s\S]*status: COMPLETED/);
  });

  it("--live without a key exits 2 without calling anything", async () => {
    const env = { ...process.env, FAL_KEY: "", FAL_KEY_ID: "", FAL_KEY_SECRET: "" };
    const result = await run(process.execPath, ["dist/src/bin/flux-i2i.js", "--live"], { cwd: root, env }).catch((e) => e);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("FAL_KEY");
  });
});
