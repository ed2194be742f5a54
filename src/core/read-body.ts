// An answer's body read with a bound: a server that sends without end cannot fill memory, and a body
// cut short still gives what arrived (a submit's answer may name its job in its first half).

/**
 * The most an answer may hold, in bytes. A result (or a sync call's output) may carry up to four
 * images inline as data URIs (`sync_mode`): four 2048x2048 PNGs are at most about 67 MB in base64,
 * hence 128 MiB. Status, submit and cancel answers are small JSON; a status with every log line of
 * a long job stays far below 8 MiB.
 */
export const maxAnswerBytes = { output: 128 * 1024 * 1024, small: 8 * 1024 * 1024 } as const;

/** Chunks as one array of `size` bytes; a single chunk (the usual small answer) as it came, no copy. */
export function joinBytes(chunks: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1 && chunks[0]!.buffer instanceof ArrayBuffer) return chunks[0] as Uint8Array<ArrayBuffer>;
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}

/** A body that could not be read whole: cut short (`cause` is the transport's error) or over its cap. */
export class BodyReadError extends Error {
  constructor(
    message: string,
    /** The bytes that arrived before it stopped. */
    readonly partialBytes: Uint8Array,
    /** Over the cap (a server's fault), not cut short. */
    readonly tooLarge: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** What arrived, as text. */
  get partial(): string {
    return new TextDecoder().decode(this.partialBytes);
  }
}

/**
 * The body's bytes (an answer's, or a request's), at most `maxBytes`, counted as they are read:
 * after fetch has inflated a compressed answer, whose Content-Length is the compressed size, and
 * whatever a Content-Length says (a runtime may not hold a body to it). A larger body is refused as
 * soon as it passes the cap, or at once when an uncompressed one's Content-Length says it will.
 */
export async function readBytes(response: Pick<Response, "headers" | "body">, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  const compressed = !/^(identity)?$/i.test(response.headers.get("content-encoding")?.trim() ?? "");
  if (declared > maxBytes && !compressed) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyReadError(`the answer is ${declared} bytes, more than the ${maxBytes} bytes this call reads`, new Uint8Array(), true);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const joined = () => joinBytes(chunks, size);
  const reader = response.body?.getReader();
  try {
    for (let read = await reader?.read(); read && !read.done; read = await reader!.read()) {
      if (size + read.value.byteLength > maxBytes) {
        reader!.cancel().catch(() => undefined);
        throw new BodyReadError(`the answer is more than the ${maxBytes} bytes this call reads`, joined(), true);
      }
      size += read.value.byteLength;
      chunks.push(read.value);
    }
  } catch (error) {
    if (error instanceof BodyReadError) throw error;
    throw new BodyReadError("the answer was cut short", joined(), false, { cause: error });
  }
  return joined();
}

/** The body as text, with {@link readBytes}'s bound. */
export async function readBody(response: Response, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(await readBytes(response, maxBytes));
}
