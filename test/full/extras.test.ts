// The package as a library user has it: without the command's extras (Prism, fast-check), which are
// optional peers. The built package is copied beside a node_modules that holds everything this
// repository installed except them; the library works, and each command path that needs one exits 2
// naming the install line package.json pins.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { execFileSync } from "node:child_process";

const root = fileURLToPath(new URL("../..", import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { peerDependencies: Record<string, string> };
const extras = ["@stoplight", "fast-check"];

let app: string;
let bin: string;
beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), "flux-i2i-no-extras-"));
  const pkg = join(app, "node_modules", "flux-i2i");
  mkdirSync(pkg, { recursive: true });
  // Copies, not links: Node resolves a module from its real path, which would find this repository's Prism.
  for (const entry of ["dist", "openapi", "package.json"]) cpSync(join(root, entry), join(pkg, entry), { recursive: true });
  for (const entry of readdirSync(join(root, "node_modules"))) {
    if (!extras.includes(entry) && !entry.startsWith(".")) symlinkSync(join(root, "node_modules", entry), join(app, "node_modules", entry));
  }
  bin = join(pkg, "dist", "src", "bin", "flux-i2i.js");
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

describe("without the command's extras installed", () => {
  it("the library loads and calls (a fake fetch stands in for fal)", () => {
    writeFileSync(
      join(app, "call.mjs"),
      `import { createFluxClient } from "flux-i2i";
const fetch = async () => new Response(JSON.stringify({ request_id: "job-1" }), { headers: { "Content-Type": "application/json" } });
const job = await createFluxClient({ credentials: "k", fetch }).queue.submit({ image_url: "https://example.com/a.png", prompt: "p" });
console.log(job.request_id);`,
    );
    expect(execFileSync(process.execPath, [join(app, "call.mjs")], { cwd: app, encoding: "utf8" }).trim()).toBe("job-1");
  });

  it("a job against the mock, and flux-i2i mock: exit 2 with Prism's install line", async () => {
    const prism = `npm install --save-dev @stoplight/prism-cli@${manifest.peerDependencies["@stoplight/prism-cli"]}`;
    const job = await runCli(["--image-url", "https://example.com/a.png", "--prompt", "p"], { bin, cwd: app });
    expect(job.code, job.stderr).toBe(2);
    expect(job.stderr).toContain(prism);
    const mock = await runCli(["mock", "--port", "0"], { bin, cwd: app });
    expect(mock.code, mock.stderr).toBe(2);
    expect(mock.stderr).toContain(prism);
  });

  it("flux-i2i contract: exit 2 with fast-check's install line", async () => {
    const contract = await runCli(["contract", "--target", "http://127.0.0.1:1"], { bin, cwd: app });
    expect(contract.code, contract.stderr).toBe(2);
    expect(contract.stderr).toContain(`flux-i2i contract needs fast-check, which is not installed (an optional peer of flux-i2i): npm install --save-dev fast-check@${manifest.peerDependencies["fast-check"]}`);
  });
});
