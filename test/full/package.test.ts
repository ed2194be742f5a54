// What a user gets from `npm run build`: the package imported by name from plain Node, and the
// command (`npm start`) run end to end against its own Prism mock (command.test.ts tests the rest of it).
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { queueExample } from "../support/spec.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");

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
        types: existsSync(manifest.exports["."].import.types) && existsSync(manifest.exports["."].require.types),
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

  it("has an entry per part, each importable by name with its types beside it", async () => {
    const script = `
      import { existsSync } from "node:fs";
      import { createRequire } from "node:module";
      const manifest = createRequire(import.meta.url)("flux-i2i/package.json");
      const entries = {};
      for (const name of ["sync", "queue", "webhook", "proxy", "mock"]) {
        const mod = await import("flux-i2i/" + name);
        const entry = manifest.exports["./" + name];
        entries[name] = { exports: Object.keys(mod).sort(), types: existsSync(entry.import.types) && existsSync(entry.require.types) };
      }
      const queue = (await import("flux-i2i/queue")).createQueueClient({ credentials: "k", fetch: async () => new Response("{}") });
      entries.queueCall = await queue.subscribe({ prompt: "x" }).catch((e) => e.name);
      console.log(JSON.stringify(entries));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: root });
    const entries = JSON.parse(stdout);
    expect(entries.sync).toEqual({ exports: expect.arrayContaining(["createSyncClient"]), types: true });
    expect(entries.queue).toEqual({ exports: expect.arrayContaining(["createQueueClient"]), types: true });
    expect(entries.webhook).toEqual({ exports: expect.arrayContaining(["verifyWebhook", "createJwksCache"]), types: true });
    expect(entries.proxy).toEqual({ exports: expect.arrayContaining(["createFalProxy", "toNodeHandler"]), types: true });
    expect(entries.mock.types).toBe(true);
    expect(entries.queueCall).toBe("FluxValidationError");
  });

  it("npm start runs the seed's example through a Prism mock of the queue: the mock's answer on stdout, exit 0", async () => {
    const env = { ...process.env, FAL_KEY: "", FAL_KEY_ID: "", FAL_KEY_SECRET: "" };
    const { stdout, stderr } = await run(process.execPath, ["dist/src/bin/flux-i2i.js", "--json"], { cwd: root, env });
    const submitted = queueExample("submitImageToImage", 200) as { request_id: string };
    const body = JSON.parse(stdout) as { request_id: string; output: { images: unknown[] } };
    expect(body.request_id).toBe(submitted.request_id);
    // The spec's `inline` result example, which the command asks its mock for (a data URI: --out needs no network).
    expect(body.output.images).toEqual((queueExample("getQueueResult", 200, "application/json", "inline") as { images: unknown[] }).images);
    expect(stderr).toContain("Prism mock");
  });
});
