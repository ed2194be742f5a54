// A Server-Sent Events reader with bounds: each chunk is scanned once (no rescan of what came
// before, so a stream with no line end costs linear time), a line and an event's data have caps,
// and only whole lines of the protocol count as a sign of life.

/** The caps of {@link sseData}. A stream that breaks one ends with a {@link SseLimitError}. */
export interface SseLimits {
  /** The longest line, in characters. Default 1 MiB: a status frame with its log lines is far smaller. */
  maxLineLength?: number;
  /** The most data one event may gather, in characters. Default 8 MiB, the cap of a status answer. */
  maxEventLength?: number;
  /**
   * When the reader stops early (it has what it wanted), the rest of the stream is read and dropped
   * for up to this many ms, so that its connection ends cleanly and can be used again (a cancelled
   * body's connection is closed); past it, or past {@link drainBytes}, the stream is cut. Default 0:
   * cut at once.
   */
  drainMs?: number;
  /** The most bytes read while draining. Default 1 MiB. */
  drainBytes?: number;
}

export class SseLimitError extends Error {
  override name = "SseLimitError";
}

/**
 * The `data` of each Server-Sent Event in `body`, as the event ends (a blank line). Comments
 * (`: ping`) and other fields are skipped. `onAlive` runs on each comment and each event, never on
 * raw bytes, so that a caller's idle deadline cannot be kept alive by garbage with no line ends.
 */
export async function* sseData(body: ReadableStream<Uint8Array>, onAlive?: () => void, limits: SseLimits = {}): AsyncGenerator<string> {
  const maxLine = limits.maxLineLength ?? 1024 * 1024;
  const maxEvent = limits.maxEventLength ?? 8 * 1024 * 1024;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  let dataLength = 0;
  // What is left of the buffer after its lines holds no line end (but perhaps a last "\r"): a new chunk is searched from there.
  let searchFrom = 0;
  // Until the stream ends or fails: a consumer that stops at an event of its choosing leaves it here.
  let stoppedEarly = true;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        stoppedEarly = false;
        return;
      }
      buffer += decoder.decode(value, { stream: true });
      let start = 0;
      for (let end = nextLineEnd(buffer, searchFrom); end >= 0; end = nextLineEnd(buffer, start)) {
        const line = buffer.slice(start, end);
        start = end + (buffer[end] === "\r" && buffer[end + 1] === "\n" ? 2 : 1);
        if (line === "") {
          if (data.length) {
            onAlive?.();
            yield data.join("\n");
          }
          data = [];
          dataLength = 0;
        } else if (line.startsWith(":")) {
          onAlive?.();
        } else if (line === "data" || line.startsWith("data:")) {
          const field = line.length > 5 && line[5] === " " ? line.slice(6) : line.slice(5);
          dataLength += field.length + 1;
          if (dataLength > maxEvent) throw new SseLimitError(`an event's data passed ${maxEvent} characters`);
          data.push(field);
        }
      }
      buffer = buffer.slice(start);
      searchFrom = Math.max(0, buffer.length - 1);
      if (buffer.length > maxLine) throw new SseLimitError(`a line passed ${maxLine} characters with no end`);
    }
  } catch (error) {
    stoppedEarly = false;
    throw error;
  } finally {
    if (stoppedEarly && limits.drainMs) void drain(reader, limits.drainMs, limits.drainBytes ?? 1024 * 1024);
    else reader.cancel().catch(() => undefined);
  }
}

/** Reads what is left of a stream and drops it, for at most `ms` and `maxBytes`; then cuts it. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number, maxBytes: number): Promise<void> {
  const cut = () => reader.cancel().catch(() => undefined);
  const timer = setTimeout(cut, ms);
  try {
    for (let bytes = 0; ; ) {
      const { value, done } = await reader.read();
      if (done) return;
      bytes += value.byteLength;
      if (bytes > maxBytes) return void (await cut());
    }
  } catch {
    // A stream that failed while draining is gone already.
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Where the next line of `text` ends from `from` (a "\r", "\n" or "\r\n"), or -1. A "\r" as the last
 * character may be the first half of "\r\n": the line waits for the next chunk.
 */
function nextLineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) return i;
    if (c === 13) return i === text.length - 1 ? -1 : i;
  }
  return -1;
}
