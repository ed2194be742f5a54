// The fake queue of the tests (test/support/fake-queue.ts), bundled for plain Node and run in a
// process of its own (bench/queue-server.mjs), so that it does not share an event loop with the
// client being measured.
import { fork } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Bundles the fake into `dir`; gives the module's path. */
export const bundleFakeQueue = (dir) => bundleSupport(dir, "fake-queue");

/** Bundles test/support/`name`.ts (a fake, the node:http adapter) for plain Node into `dir`; gives the module's path. */
export async function bundleSupport(dir, name) {
  const outfile = join(dir, `${name}.mjs`);
  await esbuild.build({
    entryPoints: [join(root, `test/support/${name}.ts`)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    logLevel: "silent",
  });
  return outfile;
}

/**
 * Starts the bundled fake in its own process. Options: `runMs` (+ `n * 53 mod runSpreadMs` for job n),
 * `closeAfterCompletedMs`, `images`. `report()` gives each job's completion time and request count
 * by id (a Map), with `connections`: how many the fake has accepted so far.
 */
export async function startFakeQueueProcess(fakeModule, options) {
  const child = fork(join(root, "bench/queue-server.mjs"), [pathToFileURL(fakeModule).href, JSON.stringify(options)]);
  const { url } = await new Promise((resolve) => child.once("message", resolve));
  const report = () =>
    new Promise((resolve) => {
      child.once("message", (message) => resolve(Object.assign(new Map(message.jobs.map((job) => [job.id, job])), { connections: message.connections })));
      child.send("report");
    });
  return { url, report, stop: () => child.disconnect() };
}
