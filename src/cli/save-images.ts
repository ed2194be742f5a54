// --out DIR: every image of an output written to a file, a data URI decoded, a URL downloaded
// (without the key: fal's image URLs are public), never over an existing file.
import { mkdir, open, stat, statfs, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { BodyReadError, readBytes } from "../core/read-body.js";
import { backoff, retryPolicy, sleep, type RetryOptions, type RetryPolicy } from "../core/retry.js";
import type { CommandOutput } from "./command-endpoint.js";
import { sniffImageType } from "./image-input.js";

export interface SaveOptions {
  /** Names start with it: `cat` gives `cat-SEED-0.jpeg`. */
  stem: string;
  signal?: AbortSignal;
  /**
   * An origin plain http may be downloaded from besides https URLs: the queue's own (a local mock
   * or proxy). A URL a server names is otherwise fetched only over https.
   */
  httpOrigin?: string;
  /** The largest image downloaded. Default 32 MiB: a 2048x2048 PNG is at most about 12.6 MB. */
  maxDownloadBytes?: number;
  /** Each download's time limit. Default 60 000 ms. */
  downloadTimeoutMs?: number;
  /** How a failed download is tried again. Default: as the queue's calls (3 retries from 500 ms). */
  retry?: RetryOptions;
}

const extensions: Record<string, string> = {
  "image/jpeg": ".jpeg",
  "image/png": ".png",
  "image/webp": ".webp",
  "image/gif": ".gif",
  "image/avif": ".avif",
};

/**
 * Writes the output's images to `dir` (made if missing) as `STEM-SEED-INDEX.EXT`; gives their paths
 * in order. Only images are written (jpeg, png, webp, gif, avif, by their bytes): whatever else a
 * server names is refused, as is a download over plain http or larger than `maxDownloadBytes`.
 */
export async function saveImages(output: CommandOutput, dir: string, options: SaveOptions): Promise<string[]> {
  const limits = { maxBytes: options.maxDownloadBytes ?? 32 * 1024 * 1024, timeoutMs: options.downloadTimeoutMs ?? 60_000 };
  // Every image is fetched before any is written: a failed download leaves no partial set behind.
  const images = await Promise.all(
    output.images.map(async (image, index) => {
      const bytes = image.url.startsWith("data:")
        ? decodeDataUri(image.url)
        : await download(downloadable(image.url, options.httpOrigin), retryPolicy(options.retry), limits, options.signal);
      const type = sniffImageType(bytes);
      if (!type) throw new Error(`image ${index} is not a jpeg, png, webp, gif or avif image (it starts with ${bytes.subarray(0, 8).toString("hex") || "nothing"}): not saved`);
      return { bytes, extension: extensions[type]! };
    }),
  );
  await prepareOutDir(dir);
  const paths: string[] = [];
  for (const [index, { bytes, extension }] of images.entries()) {
    paths.push(await writeNew(dir, `${options.stem}-${output.seed}-${index}`, extension, bytes));
  }
  return paths;
}

/** Linux's pseudo file systems (statfs's f_type, linux/magic.h): no image can be saved there. */
const pseudoFileSystems = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x1cd1, "devpts"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x73636673, "securityfs"],
  [0xcafe4a11, "bpf"],
  [0x6165676c, "pstore"],
  [0x62656570, "configfs"],
  [0x65735543, "fusectl"],
  [0xde5e81e4, "efivarfs"],
  [0x42494e4d, "binfmt_misc"],
]);

/** The most folders --out makes below the deepest one that exists. */
const maxNewFolders = 32;

/**
 * Makes `dir` if it is missing, one folder at a time, and gives its absolute path. Refused with a
 * clear error: a path under a pseudo file system (/proc, /sys: Node's own recursive mkdir loops
 * there for ever), a path through a file, more than 32 new folders. The command calls it before
 * sending anything, so that a bad --out costs no job.
 */
export async function prepareOutDir(dir: string): Promise<string> {
  const target = resolve(dir);
  const missing: string[] = [];
  let deepest = target;
  for (;;) {
    const info = await stat(deepest).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
      throw new Error(`${deepest}: ${error.code ?? error.message}`);
    });
    if (info?.isDirectory()) break;
    if (info) throw new Error(`${deepest} is a file, not a folder`);
    if (missing.length === maxNewFolders) throw new Error(`${target}: more than ${maxNewFolders} folders to make`);
    missing.unshift(deepest);
    deepest = dirname(deepest);
  }
  // statfs is Linux's f_type (unsigned); elsewhere its numbers match none of these, or it fails.
  const type = await statfs(deepest).then((info) => info.type >>> 0, () => undefined);
  const pseudo = type === undefined ? undefined : pseudoFileSystems.get(type);
  if (pseudo) throw new Error(`${target} is on ${pseudo}, a pseudo file system: no image can be saved there`);
  for (const folder of missing) {
    await mkdir(folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw new Error(`cannot make ${folder}: ${error.code ?? error.message}`);
    });
  }
  return target;
}

/** The URL, if it may be downloaded: https, or plain http on `httpOrigin` alone. */
function downloadable(url: string, httpOrigin: string | undefined): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // refused below
  }
  if (parsed?.protocol === "https:" || (parsed?.protocol === "http:" && parsed.origin === httpOrigin)) return url;
  throw new Error(`not downloaded: an image URL must be https (got ${parsed ? parsed.protocol : "no URL"})`);
}

/** Creates a file that did not exist (`wx`): `name.ext`, else `name~2.ext`, `name~3.ext`, ... */
async function writeNew(dir: string, name: string, extension: string, bytes: Buffer): Promise<string> {
  for (let n = 1; ; n++) {
    const path = join(dir, `${name}${n === 1 ? "" : `~${n}`}${extension}`);
    const handle = await open(path, "wx").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") return undefined;
      throw error;
    });
    if (!handle) continue;
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(path).catch(() => undefined);
      throw error;
    }
    await handle.close();
    return path;
  }
}

class TooLargeError extends Error {}

function decodeDataUri(uri: string): Buffer {
  const comma = uri.indexOf(",");
  const header = uri.slice(5, comma);
  const data = uri.slice(comma + 1);
  return /;base64$/i.test(header) ? Buffer.from(data, "base64") : Buffer.from(decodeURIComponent(data), "latin1");
}

/** A GET is safe to repeat: a dropped connection, a timeout, a 429 or a 5xx is tried again, with the queue calls' backoff. */
async function download(
  url: string,
  policy: RetryPolicy,
  limits: { maxBytes: number; timeoutMs: number },
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  for (let attempt = 0; ; attempt++) {
    let failure: Error;
    let retryable = true;
    try {
      const response = await fetch(url, {
        signal: AbortSignal.any([AbortSignal.timeout(limits.timeoutMs), ...(signal ? [signal] : [])]),
        // A redirect could lead anywhere, plain http included: an image of fal's CDN needs none.
        redirect: "error",
      });
      if (response.ok) {
        return Buffer.from(
          await readBytes(response, limits.maxBytes).catch((error: unknown) => {
            if (error instanceof BodyReadError && error.tooLarge) throw new TooLargeError(`downloading ${url}: more than ${limits.maxBytes} bytes, not an image fal made`);
            throw (error as BodyReadError).cause ?? error;
          }),
        );
      }
      await response.body?.cancel().catch(() => undefined);
      failure = new Error(`downloading ${url} got HTTP ${response.status}`);
      retryable = response.status >= 500 || response.status === 429;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof TooLargeError) throw error;
      const cause = (error as Error).cause as Error | undefined;
      failure = new Error(`downloading ${url} failed: ${cause?.message ?? (error as Error).message}`);
    }
    if (!retryable || attempt >= policy.maxRetries) throw failure;
    await sleep(backoff(policy, attempt), signal);
  }
}
