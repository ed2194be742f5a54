// --image: a URL is passed on; a local file, its type sniffed from its bytes (not its name), is
// given as a File the client uploads to fal storage, or (--inline) sent as a data URI, which fal
// accepts in place of a URL.
import { createHash } from "node:crypto";
import { createReadStream, openAsBlob } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, extname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { storageUpload } from "../../generated/spec.js";
import { sniffImage } from "../core/image-type.js";
import { UsageError } from "./usage-error.js";

/**
 * The largest local image sent inline (`--inline`, for `--image` and a batch line's file). fal sets no documented
 * limit on data URIs but warns that large ones slow the request; 10 MiB (13.4 MiB as base64) keeps
 * a submit on a 10 Mbit/s uplink under 15 s. An uploaded image may be as large as one upload to
 * fal storage takes (`storageUpload.maxBytes`, fal-js's single-upload bound, 90 MiB).
 */
export const maxImageBytes = 10 * 1024 * 1024;

/** The MIME type of an image fal accepts, from its first bytes; undefined for anything else. */
export function sniffImageType(bytes: Buffer): string | undefined {
  return sniffImage(bytes)?.type;
}

export interface ImageInput {
  /** What goes in `image_url`: the URL as given, the file as a data URI, or (to upload) the file itself. */
  imageUrl: string | File;
  /** A name for the outputs: the file's or URL's base name without its extension. */
  stem: string;
}

/** Whether an `image_url` value names a local file (read and sent inline) rather than a URL or data URI. */
export function isLocalImage(value: string): boolean {
  return !/^(https?:\/\/|data:)/i.test(value);
}

/**
 * `value` of `--image` (or a batch line's `image_url`): relative paths are taken from `baseDir`. A
 * file is read through a stream that stops past its limit whatever `stat` says (a file such as
 * `/proc/self/pagemap` claims size 0 and never ends), and that `signal` (Ctrl-C) aborts. With
 * `upload`, the file is given as a `File` (the client uploads it to fal storage), up to
 * `storageUpload.maxBytes`; else as a data URI, up to `maxImageBytes`.
 */
export async function resolveImage(value: string, baseDir: string, flag = "--image", signal?: AbortSignal, upload = false): Promise<ImageInput> {
  if (!isLocalImage(value)) return { imageUrl: value, stem: stemOfImage(value) };
  const limit = upload ? storageUpload.maxBytes : maxImageBytes;
  const path = resolve(baseDir, /^file:/i.test(value) ? fileURLToPath(value) : value);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`${flag}: ${value} is neither an http(s) URL nor a file that exists`);
  if (!info.isFile()) throw new UsageError(`${flag}: ${value} is not a file`);
  const tooLarge = (size: string) =>
    new UsageError(
      upload
        ? `${flag}: ${value} is ${size}, over the ${megabytes(limit)} one upload to fal storage takes (fal-js's single-upload bound)`
        : `${flag}: ${value} is ${size}, over the ${megabytes(limit)} sent inline; leave out --inline to upload it, or pass a URL`,
    );
  if (info.size > limit) throw tooLarge(megabytes(info.size));
  if (upload) return { imageUrl: await openImageFile(path, value, flag), stem: stemOf(basename(path)) };
  const bytes = await readAtMost(path, limit, signal);
  if (!bytes) throw tooLarge(`more than ${megabytes(limit)}`);
  return { imageUrl: `data:${imageTypeOf(bytes, value, flag)};base64,${bytes.toString("base64")}`, stem: stemOf(basename(path)) };
}

/** The image's MIME type from its first bytes, or a UsageError naming the file. */
function imageTypeOf(head: Buffer, value: string, flag: string): string {
  const sniffed = sniffImageType(head);
  if (sniffed) return sniffed;
  throw new UsageError(`${flag}: ${value} is not a jpeg, png, webp, gif or avif image (it starts with ${head.subarray(0, 8).toString("hex") || "nothing"})`);
}

/**
 * The file as a `File` read from disk as it is sent (`fs.openAsBlob`): a 90 MiB photo is never held
 * in memory. Its size is fixed when it is opened (a file that claims 0 bytes, as /proc's do, is
 * empty; one changed meanwhile fails the upload's read), and its type sniffed from its first bytes.
 */
async function openImageFile(path: string, value: string, flag: string): Promise<File> {
  const blob = await openAsBlob(path);
  const head = Buffer.from(await blob.slice(0, 32).arrayBuffer());
  return new File([blob], basename(path), { type: imageTypeOf(head, value, flag) });
}

/** The file's bytes, or undefined when it holds more than `limit`; reading stops there. */
async function readAtMost(path: string, limit: number, signal: AbortSignal | undefined): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Whole chunks, no `end`: some files (/proc's) refuse reads of odd lengths. Leaving the loop closes the file.
  for await (const chunk of createReadStream(path, { signal })) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A name for the outputs of an `image_url` value (URL, data URI or path), without reading anything. */
export function stemOfImage(value: string): string {
  if (/^data:/i.test(value)) return "image";
  if (/^(https?|file):/i.test(value)) {
    try {
      return stemOf(decodeURIComponent(basename(new URL(value).pathname)));
    } catch {
      return "image";
    }
  }
  return stemOf(basename(value));
}

/** The longest stem of an output's name: with the seed, index and extension, far below a file system's 255 bytes. */
const maxStemLength = 64;

/**
 * A file name stem from a name a server or a caller chose: word characters, `.` and `-` only,
 * never hidden (`.`) or like an option (`-`), at most `maxStemLength` characters (a longer one is
 * cut and ends with a short hash of the whole, so that two long names stay apart).
 */
export function stemOf(name: string): string {
  const stem = name.slice(0, name.length - extname(name).length).replace(/[^\w.-]+/g, "_").replace(/^[.-]+/, "_");
  if (!stem || stem === "_") return "image";
  if (stem.length <= maxStemLength) return stem;
  const hash = createHash("sha256").update(stem).digest("hex").slice(0, 8);
  return `${stem.slice(0, maxStemLength - 9)}~${hash}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
