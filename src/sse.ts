/**
 * The `data` of each Server-Sent Event in `body`, as the event ends (a blank line). Comments
 * (`: ping`) and other fields are skipped. `onChunk` runs on every chunk, pings included, so a
 * caller can tell a quiet stream from a dead one.
 */
export async function* sseData(body: ReadableStream<Uint8Array>, onChunk?: () => void): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onChunk?.();
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.search(/[\r\n]/); end >= 0; end = buffer.search(/[\r\n]/)) {
        // A "\r" at the end of a chunk may be the first half of "\r\n": wait for the next chunk.
        if (buffer[end] === "\r" && end === buffer.length - 1) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer[end] === "\r" && buffer[end + 1] === "\n" ? 2 : 1));
        if (line === "") {
          if (data.length) yield data.join("\n");
          data = [];
        } else if (line.startsWith("data")) {
          const colon = line.indexOf(":");
          if (colon === 4) data.push(line.slice(line[5] === " " ? 6 : 5));
          else if (line === "data") data.push("");
        }
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
