// The Server-Sent Events reader, fed chunk by chunk as a network would cut them.
import { describe, expect, it } from "vitest";
import { sseData } from "../src/core/sse.js";

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

describe("sseData's bounds", () => {
  it("a line with no end is cut at its cap, in time linear in its length", async () => {
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        controller.enqueue(chunk);
      },
    });
    const started = performance.now();
    await expect(collect(endless)).rejects.toThrow("a line passed 1048576 characters with no end");
    expect(sent).toBeLessThan(70); // stopped at the cap (1 MiB is 64 chunks), not read on
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("an event's data is cut at its cap", async () => {
    const line = `data: ${"y".repeat(1000)}\n`;
    const stream = streamOf(...Array.from({ length: 20 }, () => line));
    const reading = (async () => {
      for await (const _ of sseData(stream, undefined, { maxEventLength: 10_000 })) void _;
    })();
    await expect(reading).rejects.toThrow("an event's data passed 10000 characters");
  });

  it("only comments and whole events are signs of life, not bytes", async () => {
    let alive = 0;
    const stream = streamOf("garbage", "more garbage\n", ": ping\n", "x: y\n", 'data: {"a":1}\n', "\n");
    const events: string[] = [];
    for await (const data of sseData(stream, () => alive++)) events.push(data);
    expect(events).toEqual(['{"a":1}']);
    expect(alive).toBe(2); // the ping and the event
  });
});

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
