// Runs the built command (dist/src/bin/flux-i2i.js, made by `npm run build` before vitest) as a
// subprocess, as a user's shell would.
import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach } from "vitest";

export const bin = fileURLToPath(new URL("../../dist/src/bin/flux-i2i.js", import.meta.url));
/** Preloaded into every command run here: nothing reaches beyond 127.0.0.1. */
export const loopbackOnly = `--import=${pathToFileURL(fileURLToPath(new URL("./loopback-only.mjs", import.meta.url))).href}`;

export interface CliRun {
  child: ChildProcess;
  /** What it has printed so far. */
  stdout(): string;
  stderr(): string;
  /** Its exit code, or 128 + the signal's number when a signal ended it; rejects if it tried to leave 127.0.0.1. */
  exited: Promise<number>;
}

const running = new Set<ChildProcess>();
// A test that fails half-way must not leave its command running, nor the Prism it may have started:
// each command leads a process group of its own, killed whole.
afterEach(() => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  running.clear();
});

export function startCli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; bin?: string } = {}): CliRun {
  const env: Record<string, string | undefined> = {
    ...process.env,
    FAL_KEY: undefined,
    FAL_KEY_ID: undefined,
    FAL_KEY_SECRET: undefined,
    NO_COLOR: undefined,
    NODE_OPTIONS: loopbackOnly,
    ...options.env,
  };
  const child = spawn(process.execPath, [options.bin ?? bin, ...args], {
    cwd: options.cwd,
    env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number>((resolve) =>
    child.once("close", (code, signal) => {
      running.delete(child);
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    }),
  ).then((code) => {
    if (stderr.includes("BLOCKED: a test's command tried to reach")) throw new Error(`the command left 127.0.0.1:\n${stderr}`);
    return code;
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs the command to its end. */
export async function runCli(args: string[], options: Parameters<typeof startCli>[1] = {}) {
  const run = startCli(args, options);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
