// The Server-Sent Events reader, fed chunk by chunk as a network would cut them.
import { describe, expect, it } from "vitest";
import { sseData } from "../src/sse.js";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const data of sseData(stream)) out.push(data);
  return out;
}

describe("sseData", () => {
  it("one data per event; comments, other fields and an unfinished event are not data", async () => {
    const events = await collect(streamOf(': ping\n\nevent: status\ndata: {"a":1}\nid: 7\n\ndata: {"b":2}\n\ndata: cut'));
    expect(events).toEqual(['{"a":1}', '{"b":2}']);
  });

  it("events split anywhere across chunks, CRLF and CR line ends, multi-line data", async () => {
    const text = 'data: one\r\n\r\ndata: two\rdata:three\r\rdata\n\n';
    const whole = await collect(streamOf(text));
    expect(whole).toEqual(["one", "two\nthree", ""]);
    for (let cut = 1; cut < text.length; cut++) {
      expect(await collect(streamOf(text.slice(0, cut), text.slice(cut)))).toEqual(whole);
    }
  });

  it("a multi-byte character split between chunks is decoded whole", async () => {
    const bytes = new TextEncoder().encode("data: café\n\n");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 10));
        controller.enqueue(bytes.slice(10));
        controller.close();
      },
    });
    expect(await collect(stream)).toEqual(["café"]);
  });
});
