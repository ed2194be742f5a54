// npm run bench:proxy-attacks -- --baseline REV: every attack of issue 18 (test/support/
// proxy-attacks.ts) against flux-i2i/proxy as hosted by a web app, for a baseline build (REV, built
// in a worktree, mounted with the adapter its README showed) and for this build (dist/, mounted
// with toNodeHandler), side by side. A host that an attack takes down is started again for the
// next one, and the table says so.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { baselineArgument, buildBaseline } from "./baseline.mjs";
import { bundleSupport } from "./fake-queue-process.mjs";

const key = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f:0123456789abcdef0123456789abcdef";
const revision = baselineArgument();
if (!revision) {
  console.error("usage: npm run bench:proxy-attacks -- --baseline REV (the commit to compare with, e.g. the one before issue 18)");
  process.exit(2);
}
const scratch = await mkdtemp(join(tmpdir(), "flux-bench-"));
const [{ attacks, startProxyHost }, { startHostileUpstream }] = await Promise.all(
  ["proxy-attacks", "hostile-upstream"].map(async (name) => import(pathToFileURL(await bundleSupport(scratch, name)).href)),
);
const hostScript = fileURLToPath(new URL("../test/support/proxy-host.mjs", import.meta.url));
const baseline = await buildBaseline(revision);
const upstream = await startHostileUpstream(key);

/** Each attack's outcome against one build: "held", what went wrong, and whether the host survived. */
async function runAll(options) {
  const outcomes = [];
  let host = await startProxyHost({ ...options, upstream: upstream.url, key, hostScript });
  for (const attack of attacks) {
    const failure = await attack.run({ host, upstream, key }).catch((error) => `the attack failed: ${error.message}`);
    const alive = await host.alive();
    outcomes.push(`${failure ?? "held"}${alive ? "" : "; the host died"}`);
    if (!alive) {
      await host.stop();
      host = await startProxyHost({ ...options, upstream: upstream.url, key, hostScript });
    }
  }
  await host.stop();
  return outcomes;
}

try {
  const before = await runAll({ dist: baseline.dist, adapter: `module:${fileURLToPath(new URL("readme-adapter.mjs", import.meta.url))}` });
  const after = await runAll({ dist: fileURLToPath(new URL("../dist", import.meta.url)), adapter: "node" });
  console.log(`| attack | before (${baseline.sha}, the README's adapter) | after (this build, toNodeHandler) |\n|---|---|---|`);
  attacks.forEach((attack, i) => console.log(`| ${attack.finding} | ${before[i]} | ${after[i]} |`));
} finally {
  await upstream.close();
  await baseline.remove();
  await rm(scratch, { recursive: true, force: true });
}
