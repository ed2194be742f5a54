import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { documentFiles } from "../../generated/spec.js";
import { ExtraMissingError, isMissing } from "./extras.js";

export { ExtraMissingError } from "./extras.js";

/** A running Prism mock of a spec of this package. */
export interface PrismMock {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly pid: number;
  /** Stops Prism and waits for it to exit. */
  stop(): Promise<void>;
}

export interface PrismMockOptions {
  /** Default: this package's endpoint document (`openapi/image-to-image.yaml`). */
  spec?: string;
  /** Default 0: a free port picked by the OS. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Give up on a Prism that has not started after this many ms. Default 30 000 (a busy CI machine). */
  startTimeoutMs?: number;
}

/** The path of a document in this package's `openapi/` folder, from src/ or dist/src/ alike. */
export function specPath(name: string = documentFiles.sync): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, "openapi", name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`openapi/${name} not found above ${fileURLToPath(import.meta.url)}`);
}

/** `node -e` code: exit when stdin ends (the parent is gone), then run Prism's CLI, whose arguments follow. */
const prismUnderWatchdog = [
  "process.stdin.on('end', () => process.exit(0)).on('error', () => process.exit(0)).resume();",
  "require(process.argv[1]);",
].join("");

/** Prism's CLI, or an ExtraMissingError: Prism is an optional peer, installed by who runs mocks. */
function prismBin(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve("@stoplight/prism-cli/package.json");
  } catch (error) {
    if (isMissing(error, "@stoplight/prism-cli")) throw new ExtraMissingError("@stoplight/prism-cli", "the mock");
    throw error;
  }
  const { bin } = JSON.parse(readFileSync(manifest, "utf8")) as { bin: { prism: string } };
  return join(dirname(manifest), bin.prism);
}

/**
 * Starts `prism mock` on the spec and resolves once it listens. Prism validates each request
 * against the spec (a bad body gets 422 with the reasons in `sl-violations`, no credential gets 401)
 * and answers with the spec's examples; `Prefer: code=503` picks a declared status.
 */
export async function startPrismMock(options: PrismMockOptions = {}): Promise<PrismMock> {
  // async: a Prism that is not installed, or a document not found, is a rejection like any other failure.
  const { spec = specPath(), port = 0, host = "127.0.0.1", startTimeoutMs = 30_000 } = options;
  const bin = prismBin();
  // Prism runs under a watchdog that ends it when its stdin closes, which happens when this
  // process ends in any way, SIGKILL and SIGHUP included: it can never be left listening.
  const child = spawn(process.execPath, ["-e", prismUnderWatchdog, bin, "mock", "-h", host, "-p", String(port), spec], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  // A test runner or CLI that dies must not leave Prism behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    }
  };

  return new Promise<PrismMock>((resolve, reject) => {
    let log = "";
    const fail = (reason: string) => {
      void stop();
      reject(new Error(`Prism did not start: ${reason}\n${log.slice(-2_000)}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${startTimeoutMs} ms`), startTimeoutMs);
    const onOutput = (chunk: Buffer) => {
      if (log.length < 20_000) log += chunk.toString();
      const match = /Prism is listening on (http:\/\/\S+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        child.off("exit", onEarlyExit);
        log = "";
        // Keep draining Prism's request log so its pipe never fills.
        child.stdout!.removeListener("data", onOutput).resume();
        child.stderr!.removeListener("data", onOutput).resume();
        resolve({ url: match[1]!.replace(/\/$/, ""), pid: child.pid!, stop });
      }
    };
    const onEarlyExit = (code: number | null) => {
      clearTimeout(timer);
      fail(`exited with code ${code}`);
    };
    child.stdout!.on("data", onOutput);
    child.stderr!.on("data", onOutput);
    child.once("exit", onEarlyExit);
    child.once("error", (error: Error) => fail(error.message));
  });
}

