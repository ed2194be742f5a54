// Connections used again from job to job, counted at the fake queue. A status stream that said
// COMPLETED is read to its end rather than cut (a cut body's connection is closed, and against fal
// every new one is a TLS handshake); the result does not wait for it, and a stream that stays open
// past `streamDrainMs` is cut then. Each job is held by the fake until the test moves it on.
import { afterEach, describe, expect, it } from "vitest";
import { imageToImageExamples } from "../generated/endpoints.js";
import { createFluxClient, type FetchLike, type FluxClientOptions } from "../src/index.js";
import { defaultStreamDrainMs } from "../src/queue/client.js";
import { startFakeQueue, type FakeQueue, type FakeQueueOptions } from "./support/fake-queue.js";

const input = imageToImageExamples["seed-example"];
let fake: FakeQueue | undefined;
afterEach(() => fake?.close());

type Fate = "ended" | "cut";

/** Node's fetch, with what became of each status stream's body: read to its end, or cut. */
function watchedFetch(): { fetch: FetchLike; streams: Promise<Fate>[] } {
  const streams: Promise<Fate>[] = [];
  const watched: FetchLike = async (url, init) => {
    const response = await fetch(url, init);
    if (!String(url).endsWith("/status/stream") || !response.body) return response;
    let settle!: (fate: Fate) => void;
    streams.push(new Promise<Fate>((resolve) => (settle = resolve)));
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (!done) return controller.enqueue(value);
          settle("ended");
          controller.close();
        } catch (error) {
          settle("cut");
          controller.error(error);
        }
      },
      cancel(reason) {
        settle("cut");
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return { fetch: watched, streams };
}

async function setUp(fakeOptions: FakeQueueOptions, options: FluxClientOptions = {}) {
  fake = await startFakeQueue({ hold: true, ...fakeOptions });
  const watched = watchedFetch();
  const client = createFluxClient({ credentials: "key-id:key-secret", queueUrl: fake.url, fetch: watched.fetch, ...options });
  return { fake, client, streams: watched.streams };
}

/** One job, the fake moving it to COMPLETED once its stream is open; its output. */
async function runJob(fake: FakeQueue, client: ReturnType<typeof createFluxClient>, n: number) {
  const output = client.subscribe(input);
  await fake.arrived("stream", n);
  const id = [...fake.jobs.keys()].at(-1)!;
  fake.advance(id);
  fake.advance(id);
  return output;
}

/** Whether `promise` has settled by now, without waiting for it. */
const settledNow = <T>(promise: Promise<T>) => Promise.race([promise, Promise.resolve("still open" as const)]);

describe("connections used again", () => {
  it("sequential jobs whose streams fal keeps open after COMPLETED: each stream is read to its end, and six jobs open at most three connections", async () => {
    const { fake, client, streams } = await setUp({ closeAfterCompletedMs: Number.POSITIVE_INFINITY });
    for (let n = 1; n <= 6; n++) {
      const output = await runJob(fake, client, n);
      expect(output.images).toHaveLength(1);
      // The result came while fal still held the stream open, and the client had not cut it.
      expect(await settledNow(streams[n - 1]!)).toBe("still open");
      fake.endStreams();
      expect(await streams[n - 1]).toBe("ended");
    }
    expect(fake.count("stream")).toBe(6);
    expect(fake.connections()).toBeLessThanOrEqual(3);
  });

  it("sequential jobs whose streams fal ends at once: at most three connections", async () => {
    const { fake, client, streams } = await setUp({ closeAfterCompletedMs: 0 });
    for (let n = 1; n <= 6; n++) {
      await runJob(fake, client, n);
      expect(await streams[n - 1]).toBe("ended");
    }
    expect(fake.connections()).toBeLessThanOrEqual(3);
  });

  it("a stream fal keeps open past streamDrainMs is cut then; the result did not wait for it", async () => {
    const { fake, client, streams } = await setUp({ closeAfterCompletedMs: Number.POSITIVE_INFINITY }, { streamDrainMs: 50 });
    await runJob(fake, client, 1);
    expect(await settledNow(streams[0]!)).toBe("still open");
    expect(await streams[0]).toBe("cut");
  });

  it("streams are drained by default where Node's fetch pools connections, and cut at once elsewhere (a browser's six connections a host)", () => {
    expect(defaultStreamDrainMs()).toBe(2_000);
    expect(defaultStreamDrainMs({})).toBe(0);
    expect(defaultStreamDrainMs({ process: { versions: {} } })).toBe(0);
  });

  it("polling: six jobs' submits, status requests and results on at most three connections", async () => {
    const { fake, client } = await setUp({ hold: false, queueMs: () => 10, runMs: () => 20, closeAfterCompletedMs: 0 });
    for (let n = 0; n < 6; n++) await client.subscribe(input, { mode: "poll", pollIntervalMs: 5 });
    expect(fake.log.length).toBeGreaterThanOrEqual(18); // a submit, a status or more and a result a job
    expect(fake.connections()).toBeLessThanOrEqual(3);
  });
});
