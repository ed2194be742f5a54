// --out DIR: every image of an output written to a file, a data URI decoded, a URL downloaded
// (without the key: fal's image URLs are public), never over an existing file.
import { mkdir, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { backoff, retryPolicy, sleep, type RetryOptions, type RetryPolicy } from "../retry.js";
import type { ImageToImageOutput } from "../types.js";
import { sniffImageType } from "./image-input.js";

export interface SaveOptions {
  /** Names start with it: `cat` gives `cat-SEED-0.jpeg`. */
  stem: string;
  signal?: AbortSignal;
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

/** Writes the output's images to `dir` (made if missing) as `STEM-SEED-INDEX.EXT`; gives their paths in order. */
export async function saveImages(output: ImageToImageOutput, dir: string, options: SaveOptions): Promise<string[]> {
  // Every image is fetched before any is written: a failed download leaves no partial set behind.
  const images = await Promise.all(
    output.images.map(async (image) => ({
      image,
      bytes: image.url.startsWith("data:")
        ? decodeDataUri(image.url)
        : await download(image.url, retryPolicy(options.retry), options.downloadTimeoutMs ?? 60_000, options.signal),
    })),
  );
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [index, { image, bytes }] of images.entries()) {
    const type = sniffImageType(bytes) ?? image.content_type ?? "";
    const extension = extensions[type] ?? ".bin";
    paths.push(await writeNew(dir, `${options.stem}-${output.seed}-${index}`, extension, bytes));
  }
  return paths;
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

function decodeDataUri(uri: string): Buffer {
  const comma = uri.indexOf(",");
  const header = uri.slice(5, comma);
  const data = uri.slice(comma + 1);
  return /;base64$/i.test(header) ? Buffer.from(data, "base64") : Buffer.from(decodeURIComponent(data), "latin1");
}

/** A GET is safe to repeat: a dropped connection, a timeout, a 429 or a 5xx is tried again, with the queue calls' backoff. */
async function download(url: string, policy: RetryPolicy, timeoutMs: number, signal: AbortSignal | undefined): Promise<Buffer> {
  for (let attempt = 0; ; attempt++) {
    let failure: Error;
    let retryable = true;
    try {
      const response = await fetch(url, {
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]),
      });
      if (response.ok) return Buffer.from(await response.arrayBuffer());
      await response.body?.cancel().catch(() => undefined);
      failure = new Error(`downloading ${url} got HTTP ${response.status}`);
      retryable = response.status >= 500 || response.status === 429;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const cause = (error as Error).cause as Error | undefined;
      failure = new Error(`downloading ${url} failed: ${cause?.message ?? (error as Error).message}`);
    }
    if (!retryable || attempt >= policy.maxRetries) throw failure;
    await sleep(backoff(policy, attempt), signal);
  }
}
