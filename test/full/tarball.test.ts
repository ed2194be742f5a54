// The package as npm would publish it: `npm pack`, then new projects that install the tarball
// (offline, its dependencies packed from this repository's node_modules: nothing leaves this
// machine) and use it as users do. An ESM TypeScript
// project (NodeNext, --strict, the package's own declarations checked) and a CommonJS one each make
// one call against flux-i2i/mock and run the command; a browser bundle of flux-i2i/sync is built by
// esbuild and run against a Prism mock; in that last project neither Prism nor fast-check is
// installed, and the command paths that need them exit 2 naming the install line.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { specPath, startPrismMock, type PrismMock } from "../../src/testing/mock.js";
import { loopbackOnly } from "../support/cli.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  files: string[];
};
let scratch: string;
let tarball: string;
/** The package's runtime dependencies, each packed from this repository's node_modules: a project installs them with no registry. */
let dependencies: string[];
let syncMock: PrismMock;

/** The runtime dependencies of `name` (this package: its package.json's), and theirs, as installed here. */
function dependencyClosure(names: string[], seen = new Set<string>()): Set<string> {
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const { dependencies = {} } = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    dependencyClosure(Object.keys(dependencies), seen);
  }
  return seen;
}

function pack(dir: string): string {
  const packed = JSON.parse(execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch, dir], { cwd: root, encoding: "utf8" })) as { filename: string }[];
  return join(scratch, packed[0]!.filename);
}

/** A new project with the tarball installed; `extras`: this repository's Prism and fast-check linked in. */
function project(name: string, type: "module" | "commonjs", extras: boolean): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type }));
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", tarball, ...dependencies], { cwd: dir, stdio: "pipe" });
  // Only the library's own dependencies: neither the command's extras nor anything of this repository's.
  expect(readdirSync(join(dir, "node_modules")).filter((entry) => !entry.startsWith(".")).sort()).toEqual(["flux-i2i", ...dependencyClosure(Object.keys(manifest.dependencies))].sort());
  if (extras) for (const extra of ["@stoplight", "fast-check"]) symlinkSync(join(root, "node_modules", extra), join(dir, "node_modules", extra));
  return dir;
}

/** Runs `file` (or the command, `bin`) with Node in `dir`, kept to 127.0.0.1. */
function node(dir: string, args: string[]) {
  const run = spawnSync(process.execPath, args, { cwd: dir, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: loopbackOnly, FAL_KEY: "" }, timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const bin = (dir: string) => join(dir, "node_modules", "flux-i2i", "dist", "src", "bin", "flux-i2i.js");

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "flux-i2i-tarball-"));
  // The build is the test run's own (npm run build came first); prepack would only make it again.
  tarball = pack(root);
  dependencies = [...dependencyClosure(Object.keys(manifest.dependencies))].map((name) => pack(join(root, "node_modules", name)));
  syncMock = await startPrismMock({ spec: specPath("image-to-image.yaml") });
}, 120_000);
afterAll(async () => {
  await syncMock?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("the packed tarball", () => {
  it("builds on prepack, never on a consumer's install, and ships what its files list says: no source map without its source", () => {
    // From a clean dist/: files of an earlier build (a module since moved) are never published.
    expect(manifest.scripts.prepack).toMatch(/rmSync\('dist'.*&& npm run build$/);
    for (const script of ["prepare", "preinstall", "install", "postinstall"]) expect(manifest.scripts[script], script).toBeUndefined();
    const listed = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(listed.every((path) => manifest.files.some((entry) => path === `package/${entry}` || path.startsWith(`package/${entry}/`)) || path === "package/package.json")).toBe(true);
    // The build ships no source map: one would point at src/, which is not shipped.
    expect(listed.filter((path) => path.endsWith(".map"))).toEqual([]);
    expect(listed.filter((path) => /\/(src|test)\/.*\.ts$/.test(path) && !path.endsWith(".d.ts"))).toEqual([]);
  });

  it("passes publint (strict) and Are the Types Wrong (every entry, ESM and CJS, node16 and bundler)", () => {
    const tool = (name: string) => join(root, "node_modules", ".bin", name);
    const publint = spawnSync(tool("publint"), ["--strict"], { cwd: root, encoding: "utf8" });
    expect(publint.status, publint.stdout + publint.stderr).toBe(0);
    const attw = spawnSync(tool("attw"), [tarball, "--profile", "node16", "--format", "json"], { cwd: root, encoding: "utf8" });
    expect(attw.status, attw.stdout.slice(0, 2_000) + attw.stderr).toBe(0);
    const report = JSON.parse(attw.stdout) as { analysis: { entrypoints: Record<string, unknown> } };
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual([".", "./mock", "./package.json", "./proxy", "./queue", "./sync", "./webhook"]);
  });

  describe("an ESM TypeScript project (NodeNext, --strict)", () => {
    let dir: string;
    beforeAll(() => {
      dir = project("esm-ts", "module", true);
      symlinkSync(join(root, "node_modules", "@types"), join(dir, "node_modules", "@types"));
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, skipLibCheck: false, outDir: "out", types: ["node"] } }),
      );
      writeFileSync(
        join(dir, "index.ts"),
        `import { createFluxClient, FluxValidationError, type ImageToImageOutput } from "flux-i2i";
const client = createFluxClient({ credentials: "key-id:key-secret", baseUrl: process.argv[2] });
const output: ImageToImageOutput = await client.imageToImage({ image_url: "https://example.com/cat.png", prompt: "a cat" });
const refused = await client.imageToImage({ image_url: "https://example.com/cat.png", prompt: "a cat", num_images: 9 }).catch((e: unknown) => e);
console.log(JSON.stringify({ images: output.images.length, refused: refused instanceof FluxValidationError }));
`,
      );
      // The README's TypeScript, as a user would paste it.
      readmeSnippets().forEach((code, i) => writeFileSync(join(dir, `readme-${i}.ts`), code));
    });
    const readmeSnippets = () => [...readFileSync(join(root, "README.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);

    it("typechecks against the shipped declarations, the README's examples included", () => {
      expect(readmeSnippets().length).toBeGreaterThanOrEqual(2);
      const tsc = node(dir, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "."]);
      expect(tsc.stdout + tsc.stderr).toBe("");
    });

    it("runs: a sync call and a refused input; the README's example, subscribe against flux-i2i/mock", () => {
      const run = node(dir, ["out/index.js", syncMock.url]);
      expect(run.stderr).toBe("");
      expect(JSON.parse(run.stdout)).toEqual({ images: 1, refused: true });
      const readme = node(dir, [`out/readme-${readmeSnippets().findIndex((code) => code.includes("startPrismMock"))}.js`]);
      expect(readme.code, readme.stderr).toBe(0);
    });

    it("runs the command: --help, and a job against its mock", () => {
      expect(node(dir, [bin(dir), "--help"]).code).toBe(0);
      const job = node(dir, [bin(dir), "--image-url", "https://example.com/cat.png", "--prompt", "p", "--json"]);
      expect(job.code, job.stderr).toBe(0);
      expect(JSON.parse(job.stdout).request_id).toEqual(expect.any(String));
    });
  });

  it("a CommonJS project: require() of the package and its mock, one call, the same error classes from every entry", () => {
    const dir = project("cjs", "commonjs", true);
    writeFileSync(
      join(dir, "index.js"),
      `const { createFluxClient, FluxValidationError } = require("flux-i2i");
const { createSyncClient } = require("flux-i2i/sync");
const { startPrismMock, specPath } = require("flux-i2i/mock");
(async () => {
  const mock = await startPrismMock({ spec: specPath("queue.yaml") });
  try {
    const job = await createFluxClient({ credentials: "key-id:key-secret", queueUrl: mock.url }).queue.submit({ image_url: "https://example.com/cat.png", prompt: "a cat" });
    const refused = await createSyncClient({ credentials: "k" }).imageToImage({ prompt: "a cat" }).catch((e) => e);
    console.log(JSON.stringify({ job: typeof job.request_id, sameClass: refused instanceof FluxValidationError }));
  } finally {
    await mock.stop();
  }
})();
`,
    );
    const run = node(dir, ["index.js"]);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ job: "string", sameClass: true });
    expect(node(dir, [bin(dir), "--help"]).code).toBe(0);
  });

  it("a browser bundle of flux-i2i/sync, without Prism or fast-check installed: builds with no Node module, calls a mock; the command names what to install", async () => {
    const dir = project("bundle", "module", false);
    expect(readdirSync(join(dir, "node_modules"))).not.toContain("fast-check");
    writeFileSync(
      join(dir, "app.js"),
      `import { createSyncClient } from "flux-i2i/sync";
export async function run(baseUrl) {
  const output = await createSyncClient({ credentials: "key-id:key-secret", baseUrl }).imageToImage({ image_url: "https://example.com/cat.png", prompt: "a cat" });
  return output.images.length;
}
`,
    );
    const built = await esbuild.build({ entryPoints: [join(dir, "app.js")], bundle: true, platform: "browser", format: "esm", outfile: join(dir, "out", "app.js"), logLevel: "silent", metafile: true, absWorkingDir: dir });
    const inputs = Object.keys(built.metafile.inputs);
    expect(inputs.some((path) => path.startsWith("node_modules/flux-i2i/dist/src/"))).toBe(true);
    expect(inputs.filter((path) => path.startsWith("node:") || path.includes("fast-check") || path.includes("prism"))).toEqual([]);
    writeFileSync(join(dir, "call.mjs"), `import { run } from "./out/app.js"; console.log(await run(process.argv[2]));`);
    const call = node(dir, ["call.mjs", syncMock.url]);
    expect(call.stderr).toBe("");
    expect(Number(call.stdout)).toBeGreaterThan(0);

    expect(node(dir, [bin(dir), "--help"]).code).toBe(0);
    const prism = `npm install --save-dev @stoplight/prism-cli@${manifest.peerDependencies["@stoplight/prism-cli"]}`;
    const job = node(dir, [bin(dir), "--image-url", "https://example.com/cat.png", "--prompt", "p"]);
    expect(job.code, job.stderr).toBe(2);
    expect(job.stderr).toContain(prism);
    const contract = node(dir, [bin(dir), "contract", "--target", "http://127.0.0.1:1"]);
    expect(contract.code, contract.stderr).toBe(2);
    expect(contract.stderr).toContain(`npm install --save-dev fast-check@${manifest.peerDependencies["fast-check"]}`);
  });
});
