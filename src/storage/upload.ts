// An image the caller holds as bytes (a `Blob` or `File`, an `ArrayBuffer` or typed array, a stream)
// uploaded to fal storage the way fal's clients do it (openapi/storage.yaml), so that `image_url`
// carries the file's URL instead of megabytes of base64. The rest of the input is checked first,
// the bytes are read with a bound and their type sniffed, and only then is anything sent: a bad
// input still costs nothing. A failed upload is a FluxUploadError, and nothing is submitted.
import { defaultStorageUrl, storageUpload } from "../../generated/spec.js";
import { validateUploadTarget } from "../../generated/validators.js";
import { FluxError, FluxUploadError, FluxValidationError } from "../core/errors.js";
import { imageTypeNames, sniffImage } from "../core/image-type.js";
import type { ClientSetup } from "../core/client-setup.js";
import { isLoopback, parseBaseUrl } from "../core/credentials.js";
import { retryPolicy, type RetryOptions } from "../core/retry.js";
import { joinBytes } from "../core/read-body.js";
import { offSpecAnswer, parseJson, send, type Transport } from "../core/transport.js";
import type { ImageBytes } from "../core/types.js";
import { issuesOf } from "../core/validation.js";


/** The transport of the calls to fal storage, and its server. */
export interface UploadContext extends Transport {
  /** fal storage's server (`https://rest.fal.ai`), without a trailing slash. */
  storageUrl: string;
}

/**
 * The upload's transport from a client's options: its own server and key header, the client's
 * (already wrapped) fetch and key, retries and time limit. It reads only those options.
 */
export function uploadContext(
  options: { storageUrl?: string; retry?: RetryOptions | false; requestTimeoutMs?: number },
  client: Pick<ClientSetup, "fetch" | "hasKey" | "keyHeaders">,
): UploadContext {
  const storageUrl = (options.storageUrl ?? defaultStorageUrl).replace(/\/+$/, "");
  parseBaseUrl(storageUrl, "storageUrl");
  return {
    storageUrl,
    fetch: client.fetch,
    headers: client.keyHeaders([storageUrl]),
    hasKey: client.hasKey,
    retry: retryPolicy(options.retry),
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
  };
}

/** Stands for the uploaded file's URL while the rest of the input is checked. */
export const placeholderUrl = "https://upload.invalid/image";

/** Whether `value` is an image's bytes (to upload) rather than a URL, a data URI or something the spec refuses. */
export function isImageBytes(value: unknown): value is ImageBytes {
  if (typeof value !== "object" || value === null) return false;
  return (
    (typeof Blob !== "undefined" && value instanceof Blob) ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    (typeof ReadableStream !== "undefined" && value instanceof ReadableStream) ||
    Symbol.asyncIterator in value
  );
}

/** What an upload is told besides its bytes. */
export interface UploadOptions {
  /** Aborts the upload (and the reading of a stream's bytes). */
  signal?: AbortSignal | undefined;
  /**
   * Told the bytes sent so far, as fetch reads them, and the total. In Node the `PUT` streams its
   * body through a counter, with its `Content-Length` set so that the signed URL sees the same request
   * as for a Blob; where a request body cannot be streamed with a known length (a browser), it is
   * told 0 before the `PUT` and the total once it is answered.
   */
  onProgress?: ((sentBytes: number, totalBytes: number) => void) | undefined;
}

/**
 * `input` with its `image_url` uploaded when it is bytes (else `input` itself). `precheck` is given
 * the input with a placeholder URL first and throws what is wrong with the rest of it, so that a bad
 * input is refused before the upload.
 */
export async function withUploadedImage<T>(input: T, ctx: UploadContext, precheck: (input: T) => void, signal?: AbortSignal): Promise<T> {
  const source = input !== null && typeof input === "object" ? (input as { image_url?: unknown }).image_url : undefined;
  if (!isImageBytes(source)) return input;
  precheck({ ...input, image_url: placeholderUrl });
  return { ...input, image_url: await uploadImage(source, ctx, { signal }) };
}

/**
 * Uploads an image's bytes to fal storage and gives the file's URL. The bytes are read with a bound
 * and their type sniffed before anything is sent: an image too large or of no type fal takes is a
 * FluxValidationError (`image_url`); a failure of the upload itself is a FluxUploadError naming the file.
 */
export async function uploadImage(source: ImageBytes, ctx: UploadContext, options: UploadOptions = {}): Promise<string> {
  const named = typeof Blob !== "undefined" && source instanceof Blob && "name" in source && typeof source.name === "string" && source.name ? source.name : undefined;
  // A Blob is sent as it is (fetch streams it, and a retry reads it again): only its first bytes are read, to sniff.
  const bytes = await readBounded(source, storageUpload.maxBytes, named);
  const image = sniffImage(bytes instanceof Blob ? new Uint8Array(await bytes.slice(0, 32).arrayBuffer()) : bytes);
  if (!image) {
    const head = bytes instanceof Blob ? new Uint8Array(await bytes.slice(0, 8).arrayBuffer()) : bytes.subarray(0, 8);
    const start = Array.from(head, (b) => b.toString(16).padStart(2, "0")).join("") || "nothing";
    throw imageIssue("type", `must be a ${imageTypeNames} image${named ? `: ${named}` : ""} starts with ${start}`);
  }
  const file = named ?? `image.${image.extension}`;
  try {
    return await upload(bytes, image.type, file, ctx, options);
  } catch (error) {
    if (options.signal?.aborted && error === options.signal.reason) throw error;
    throw new FluxUploadError(`the upload of ${file} to fal storage failed, so nothing was submitted: ${(error as Error).message}`, file, { cause: error });
  }
}

function imageIssue(rule: string, message: string): FluxValidationError {
  return new FluxValidationError([{ field: "image_url", rule, message, params: {} }]);
}

/** The bytes (a Blob as it is), at most `maxBytes` of them: a larger image is refused as soon as it is known to be one. */
async function readBounded(source: ImageBytes, maxBytes: number, name: string | undefined): Promise<Uint8Array<ArrayBuffer> | Blob> {
  const tooLarge = (size: string) =>
    imageIssue("maxBytes", `is ${size}${name ? ` (${name})` : ""}, more than the ${(maxBytes / 1024 / 1024).toFixed(0)} MiB one upload to fal storage takes`);
  if (typeof Blob !== "undefined" && source instanceof Blob) {
    if (source.size > maxBytes) throw tooLarge(`${source.size} bytes`);
    return source;
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const view = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    if (view.byteLength > maxBytes) throw tooLarge(`${view.byteLength} bytes`);
    return new Uint8Array(view); // a copy: the caller's buffer may change while it uploads
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const stream = typeof ReadableStream !== "undefined" && source instanceof ReadableStream ? streamChunks(source) : (source as AsyncIterable<Uint8Array>);
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge(`more than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  // A copy even of one chunk: the caller's buffer may change while it uploads.
  return chunks.length === 1 ? new Uint8Array(chunks[0]!) : joinBytes(chunks, size);
}

/** A web stream's chunks; leaving early cancels it. */
async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) yield read.value;
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/**
 * The initiate call (with the key; safe to retry, as nothing is stored or billed until the bytes
 * come), then the PUT of the bytes to the signed URL it answered (without the key; safe to retry,
 * a PUT of the same bytes stores the same file). Gives the file's URL.
 */
async function upload(bytes: Uint8Array<ArrayBuffer> | Blob, type: string, file: string, ctx: UploadContext, options: UploadOptions): Promise<string> {
  const { signal, onProgress } = options;
  const target = await send(ctx, {
    method: "POST",
    url: `${ctx.storageUrl}${storageUpload.initiatePath}?storage_type=${storageUpload.storageType}`,
    headers: { ...ctx.headers, "Content-Type": "application/json" },
    body: JSON.stringify({ content_type: type, file_name: file }),
    retryableByStatus: storageUpload.retryableByStatus,
    signal,
    parse: (text) => {
      const body = parseJson(text, "the upload's initiate call", undefined);
      if (!validateUploadTarget(body)) throw offSpecAnswer("the upload's initiate call", body, issuesOf(validateUploadTarget, body), undefined);
      return body;
    },
  });
  // The user's photo goes over https, or plain http on this machine only (a local fake).
  const put = new URL(target.upload_url);
  if (put.protocol !== "https:" && !(put.protocol === "http:" && isLoopback(put.hostname))) {
    throw new FluxError(`fal storage answered an upload URL that is not https (${put.origin}); the image was not sent there`);
  }
  const total = bytes instanceof Blob ? bytes.size : bytes.byteLength;
  const counted = onProgress && canStreamWithLength();
  onProgress?.(0, total);
  await send(ctx, {
    method: storageUpload.put.method,
    url: put.href,
    // No key: the URL is signed (fal-js sends none either).
    headers: counted ? { "Content-Type": type, "Content-Length": String(total) } : { "Content-Type": type },
    body: counted ? () => countedStream(bytes, (sent) => onProgress(sent, total)) : bytes,
    // The signed URL's answers are not fal's documented ones: retried as the initiate call's are (an inference).
    retryableByStatus: storageUpload.retryableByStatus,
    signal,
    parse: () => undefined,
  });
  onProgress?.(total, total);
  return target.file_url;
}

/**
 * Whether a request body may be a stream sent with a `Content-Length` of its own: in Node (undici)
 * yes; a browser forbids the header and streams a body only over HTTP/2, in chunks a signed URL
 * may refuse.
 */
function canStreamWithLength(): boolean {
  const runtime = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof runtime?.versions?.node === "string" && typeof (globalThis as { window?: unknown }).window === "undefined";
}

/** The bytes as a stream that tells `sent` the running count as fetch pulls each chunk; made anew for each attempt. */
function countedStream(bytes: Uint8Array<ArrayBuffer> | Blob, sent: (count: number) => void): ReadableStream<Uint8Array> {
  const chunkBytes = 256 * 1024;
  let count = 0;
  let offset = 0;
  const source: ReadableStream<Uint8Array> =
    bytes instanceof Blob
      ? bytes.stream()
      : new ReadableStream({
          // Views of the one copy, never another copy of the image (and not a byte stream, which
          // would transfer the buffer away from the next attempt).
          pull(controller) {
            if (offset >= bytes.byteLength) return controller.close();
            controller.enqueue(bytes.subarray(offset, (offset += chunkBytes)));
          },
        });
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        count += chunk.byteLength;
        controller.enqueue(chunk);
        sent(count);
      },
    }),
  );
}
