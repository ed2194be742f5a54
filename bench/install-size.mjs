// npm run bench:install-size: what `npm install flux-i2i` puts in a library user's node_modules
// (the command's optional extras, Prism and fast-check, not installed) against `npm install
// @fal-ai/client`, in one run: the bytes and files of node_modules, and the install's wall time
// (median of 5, each into a fresh project). Both install offline from tarballs packed here, this
// package's from its build, each dependency from this repository's node_modules, so that the
// registry's speed is not measured and the versions are the ones the tests run.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const scratch = await mkdtemp(join(tmpdir(), "flux-bench-install-"));

async function closure(names, seen = new Set()) {
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const { dependencies = {} } = JSON.parse(await readFile(join(root, "node_modules", name, "package.json"), "utf8"));
    await closure(Object.keys(dependencies), seen);
  }
  return seen;
}

function pack(dir) {
  const [{ filename }] = JSON.parse(execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch, dir], { encoding: "utf8" }));
  return join(scratch, filename);
}

/** Bytes (file sizes) and files under `dir`. */
async function sizeOf(dir) {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
    files++;
  }
  return { bytes, files };
}

async function measure(name, tarballs) {
  const times = [];
  let size;
  for (let round = 0; round < rounds; round++) {
    const dir = join(scratch, `${name.replace(/\W/g, "_")}-${round}`);
    await mkdir(dir);
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "app", private: true }));
    const started = performance.now();
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs], { cwd: dir, stdio: "pipe" });
    times.push(performance.now() - started);
    size ??= await sizeOf(join(dir, "node_modules"));
  }
  return { ms: times.sort((a, b) => a - b)[Math.floor(rounds / 2)], ...size, packages: tarballs.length };
}

const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
const flux = [pack(root), ...[...(await closure(Object.keys(manifest.dependencies)))].map((name) => pack(join(root, "node_modules", name)))];
const fal = [...(await closure(["@fal-ai/client"]))].map((name) => pack(join(root, "node_modules", name)));
try {
  const results = [["flux-i2i (this build)", await measure("flux", flux)], [`@fal-ai/client ${JSON.parse(await readFile(join(root, "node_modules/@fal-ai/client/package.json"), "utf8")).version}`, await measure("fal", fal)]];
  const [, base] = results[1];
  console.log(`npm install into a new project, offline from packed tarballs (median of ${rounds})`);
  for (const [name, r] of results) {
    console.log(
      `  ${name.padEnd(24)} ${String(r.packages).padStart(2)} packages  ${(r.bytes / 1024).toFixed(0).padStart(6)} kB in ${String(r.files).padStart(4)} files (${(r.bytes / base.bytes).toFixed(2)}x)  ${r.ms.toFixed(0).padStart(5)} ms (${(r.ms / base.ms).toFixed(2)}x)`,
    );
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
