// subscribe against the local fake queue: the stream path (3 requests, result on the COMPLETED
// event), the fallback to polling, failed jobs, cancellation on abort and timeout, and that every
// job that completes is returned exactly once.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { imageToImageExamples } from "../generated/endpoints.js";
import {
  createFluxClient,
  FluxApiError,
  FluxSubmitUncertainError,
  FluxTimeoutError,
  FluxValidationError,
  type FluxClientOptions,
  type QueueStatus,
} from "../src/index.js";
import { startFakeQueue, type FakeQueue, type FakeQueueOptions } from "./support/fake-queue.js";
import { failOnUnhandledRejections } from "./support/unhandled.js";
import { startLocalServer } from "./support/local-server.js";
import { waitFor } from "./support/wait.js";
import { firstExample } from "./support/spec.js";

const input = imageToImageExamples["seed-example"];

failOnUnhandledRejections();

let fake: FakeQueue;
async function useFake(options: FakeQueueOptions = {}) {
  await fake?.close();
  fake = await startFakeQueue(options);
  return fake;
}
beforeEach(() => useFake({ closeAfterCompletedMs: 5_000 }));
afterEach(() => fake.close());

function client(options: FluxClientOptions = {}) {
  return createFluxClient({
    credentials: "k",
    queueUrl: fake.url,
    retry: { baseDelayMs: 5 },
    requestTimeoutMs: 2_000,
    ...options,
  });
}

describe("subscribe's options", () => {
  it("a mode it does not have (\"polling\" for \"poll\") is refused, naming the field, before anything is submitted", async () => {
    const error = (await client()
      .subscribe(input, { mode: "polling" as never })
      .catch((e: unknown) => e)) as FluxValidationError;
    expect(error).toBeInstanceOf(FluxValidationError);
    expect(error.issues[0]).toMatchObject({ field: "mode", rule: "enum" });
    expect(fake.log).toEqual([]);
  });
});

describe("subscribe over the status stream", () => {
  it("three requests (submit, stream, result); the result is fetched on the COMPLETED event, not when the stream closes", async () => {
    await useFake({ hold: true, closeAfterCompletedMs: 5_000 });
    const updates: QueueStatus["status"][] = [];
    let enqueued: string | undefined;
    const output = await client().subscribe(input, {
      // The job starts once fal has it, and completes only once the client has seen it running.
      onEnqueue: (id) => {
        enqueued = id;
        fake.advance(id);
      },
      onQueueUpdate: (status) => {
        updates.push(status.status);
        if (status.status === "IN_PROGRESS") fake.advance(enqueued!);
      },
    });
    const job = fake.jobs.get(enqueued!)!;
    expect(fake.log.map((entry) => entry.route)).toEqual(["submit", "stream", "result"]);
    expect(updates).toEqual(["IN_PROGRESS", "COMPLETED"]);
    expect(output.images[0]!.url).toContain(job.id);
    // The fake keeps the stream open 5 s after COMPLETED; the result came long before.
    expect(fake.log[2]!.at - job.completedAt!).toBeLessThan(1_000);
    expect(output.seed).toBe(job.seed);
  });

  it("logs: true asks the stream for logs", async () => {
    await client().subscribe(input, { logs: true });
    expect(fake.log[1]!.url).toMatch(/\/status\/stream\?logs=1$/);
  });

  /** Moves the held job on each time the client reports a state, so the client sees every state, however busy the machine. */
  const stepOnEachUpdate = (updates: string[] = []) => {
    let id: string | undefined;
    return {
      onEnqueue: (requestId: string) => void (id = requestId),
      onQueueUpdate: (status: QueueStatus) => {
        updates.push(status.status);
        if (status.status !== "COMPLETED") fake.advance(id!);
      },
    };
  };

  it("a stream dropped mid-way: polling takes over and the result still comes", async () => {
    await useFake({ hold: true });
    fake.inject("stream", { kind: "drop-stream", afterEvents: 1 });
    const updates: string[] = [];
    const output = await client().subscribe(input, { pollIntervalMs: 20, ...stepOnEachUpdate(updates) });
    expect(output.images).toHaveLength(1);
    expect(fake.count("stream")).toBe(1);
    expect(fake.count("status")).toBeGreaterThanOrEqual(1);
    expect(updates.at(0)).toBe("IN_QUEUE");
    expect(updates.at(-1)).toBe("COMPLETED");
  });

  it("a stream that ends before COMPLETED: polling, and the result is asked for only once the job completed", async () => {
    await useFake({ hold: true });
    fake.inject("stream", { kind: "end-stream", afterEvents: 1 });
    await expect(client().subscribe(input, { pollIntervalMs: 20, ...stepOnEachUpdate() })).resolves.toHaveProperty("images");
    expect(fake.count("status")).toBeGreaterThanOrEqual(2);
    expect(fake.count("result")).toBe(1);
  });

  it("a stream that cannot be opened (503): polling instead", async () => {
    fake.inject("stream", { kind: "status", status: 503, body: firstExample(503) });
    await expect(client().subscribe(input, { pollIntervalMs: 10 })).resolves.toHaveProperty("images");
    expect(fake.count("stream")).toBe(1);
    expect(fake.count("status")).toBeGreaterThanOrEqual(1);
  });

  it("a stream that goes silent longer than requestTimeoutMs: polling instead", async () => {
    await useFake({ hold: true, pingMs: 10_000 });
    const subscribed = client({ requestTimeoutMs: 250 }).subscribe(input, { pollIntervalMs: 20 });
    // The job stays in the queue, and the stream silent, until the client gives up on the stream and polls.
    await fake.arrived("status");
    const [job] = fake.jobs.keys();
    fake.advance(job!);
    fake.advance(job!);
    const output = await subscribed;
    expect(output.images).toHaveLength(1);
    expect(fake.count("stream")).toBe(1);
    expect(fake.count("status")).toBeGreaterThanOrEqual(1);
  });

  it("mode: poll never opens the stream", async () => {
    await client().subscribe(input, { mode: "poll", pollIntervalMs: 10 });
    expect(fake.count("stream")).toBe(0);
    expect(fake.count("status")).toBeGreaterThanOrEqual(1);
  });
});

describe("a job that fails", () => {
  const detail = firstExample(422);

  it("completes with a 422 result: the same FluxApiError as the sync call", async () => {
    await useFake({ outcome: () => ({ status: 422, body: detail }) });
    const queued = (await client().subscribe(input).catch((e: unknown) => e)) as FluxApiError;

    const server = await startLocalServer((_req, res) => {
      res.writeHead(422, { "Content-Type": "application/json" }).end(JSON.stringify(detail));
    });
    const sync = (await createFluxClient({ credentials: "k", baseUrl: server.url })
      .imageToImage(input)
      .catch((e: unknown) => e)) as FluxApiError;
    await server.close();

    expect(queued).toBeInstanceOf(FluxApiError);
    expect(queued.status).toBe(422);
    expect(queued.details).toEqual(sync.details);
    expect(queued.message).toBe(sync.message);
    expect(queued.requestId).toBe([...fake.jobs.keys()][0]);
    expect(fake.count("result")).toBe(1);
  });
});

describe("abort and timeout cancel the job on fal's side", () => {
  it("an abort: the job is cancelled, and the promise rejects with the signal's reason", async () => {
    await useFake({ hold: true });
    const controller = new AbortController();
    const reason = new Error("user gave up");
    void fake.arrived("stream").then(() => controller.abort(reason)); // once the job is being followed
    const pending = client().subscribe(input, { signal: controller.signal });
    await expect(pending).rejects.toBe(reason);
    expect(fake.count("cancel")).toBe(1);
    expect([...fake.jobs.values()][0]!.cancelled).toBe(true);
  });

  it("a timeout: FluxTimeoutError with the job's id, and the job cancelled", async () => {
    await useFake({ hold: true });
    const error = (await client().subscribe(input, { timeout: 100 }).catch((e: unknown) => e)) as FluxTimeoutError;
    expect(error).toBeInstanceOf(FluxTimeoutError);
    expect(error.requestId).toBe([...fake.jobs.keys()][0]);
    expect([...fake.jobs.values()][0]!.cancelled).toBe(true);
  });

  it("a timeout while polling cancels too", async () => {
    await useFake({ hold: true });
    await expect(client().subscribe(input, { timeout: 100, mode: "poll", pollIntervalMs: 10 })).rejects.toBeInstanceOf(FluxTimeoutError);
    expect([...fake.jobs.values()][0]!.cancelled).toBe(true);
  });

  it("an onQueueUpdate that throws ends the subscription with its error and cancels the job", async () => {
    await useFake({ hold: true });
    const oops = new Error("callback failed");
    await expect(
      client().subscribe(input, {
        onQueueUpdate: () => {
          throw oops;
        },
      }),
    ).rejects.toBe(oops);
    expect([...fake.jobs.values()][0]!.cancelled).toBe(true);
  });

  it("an onEnqueue that throws cancels the job too", async () => {
    await useFake({ hold: true });
    const oops = new Error("could not record the id");
    await expect(
      client().subscribe(input, {
        onEnqueue: () => {
          throw oops;
        },
      }),
    ).rejects.toBe(oops);
    expect([...fake.jobs.values()][0]!.cancelled).toBe(true);
  });

  it("resultTimeoutMs (or the deprecated `timeout`) ends a job that does not complete: cancelled, FluxTimeoutError", async () => {
    await useFake({ hold: true });
    for (const options of [{ resultTimeoutMs: 200 }, { timeout: 250 }]) {
      const error = await client().subscribe(input, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FluxTimeoutError);
      expect((error as Error).message).toContain(`the job did not complete within ${Object.values(options)[0]} ms and was cancelled`);
    }
    expect([...fake.jobs.values()].map((job) => job.cancelled)).toEqual([true, true]);
  });

  it("a timeout after the job completed, while its result is on the way: the error says how to fetch it", async () => {
    await useFake({ hold: true });
    fake.inject("result", { kind: "slow", ms: 2_000 });
    const completeAtOnce = (id: string) => [fake.advance(id), fake.advance(id)];
    const error = (await client({ requestTimeoutMs: 5_000 })
      .subscribe(input, { resultTimeoutMs: 300, onEnqueue: completeAtOnce })
      .catch((e: unknown) => e)) as FluxTimeoutError;
    const [job] = fake.jobs.values();
    expect(error).toBeInstanceOf(FluxTimeoutError);
    expect(error.message).toContain(`queue.result("${job!.id}")`);
    expect(job!.cancelled).toBe(false);
    expect(fake.count("cancel")).toBe(1);
  });

  it("an abort while the submit is on its way: its answer is awaited and the job it names cancelled, then the abort's reason", async () => {
    fake.inject("submit", { kind: "held" }); // answered once the caller has aborted
    const controller = new AbortController();
    const subscribing = client().subscribe(input, { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(() => fake.jobs.size === 1, 5_000); // the submit was read, its job made, its answer held
    controller.abort(new Error("the user left"));
    fake.release();
    expect(((await subscribing) as Error).message).toBe("the user left");
    const [job] = [...fake.jobs.values()];
    expect(fake.count("cancel")).toBe(1);
    expect(job!.cancelled).toBe(true);
  });

  describe("a timeout while the submit is on its way (its request has the same limit): each outcome said on its own", () => {
    it("what arrived of the answer named a job: it was cancelled, and the error carries its id", async () => {
      const queue = await startLocalServer((req, res) => {
        if (req.method === "PUT") return res.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"CANCELLATION_REQUESTED"}');
        res.writeHead(200, { "Content-Type": "application/json" }).write('{"request_id":"job-7","status":"IN_'); // and no more
      });
      try {
        const error = (await client({ queueUrl: queue.url }).subscribe(input, { timeout: 50 }).catch((e: unknown) => e)) as FluxTimeoutError;
        expect(error).toBeInstanceOf(FluxTimeoutError);
        expect(error.message).toBe("the submit did not complete within 50 ms; what arrived of its answer named job job-7, and it was cancelled");
        expect(error.requestId).toBe("job-7");
        expect(error.cause).toBeInstanceOf(FluxSubmitUncertainError);
        expect(queue.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /fal-ai/flux-1/dev/image-to-image", "PUT /fal-ai/flux-1/requests/job-7/cancel"]);
      } finally {
        await queue.close();
      }
    });

    it("no answer came: the job may exist, and the submit's failure is the cause", async () => {
      fake.inject("submit", { kind: "held" });
      const error = (await client().subscribe(input, { timeout: 50 }).catch((e: unknown) => e)) as FluxTimeoutError;
      expect(error.message).toBe(
        "the submit did not complete within 50 ms and its answer did not come in time: the job may exist and be billed; check fal's request history (https://fal.ai/dashboard) before sending it again",
      );
      expect(error.cause).toBeInstanceOf(FluxSubmitUncertainError);
      expect(error.requestId).toBeUndefined();
      expect(fake.count("cancel")).toBe(0);
    });

    it("refused for now (429) and the wait to send it again outran the limit: nothing was submitted", async () => {
      fake.inject("submit", { kind: "status", status: 429, body: { detail: "busy" }, headers: { "Retry-After": "5" } });
      const error = (await client().subscribe(input, { timeout: 50 }).catch((e: unknown) => e)) as FluxTimeoutError;
      expect(error.message).toBe("the submit did not complete within 50 ms; fal made no job of it, so nothing was submitted");
      expect(error.requestId).toBeUndefined();
      expect(fake.jobs.size).toBe(0);
    });
  });

  it("an abort before anything is sent sends nothing", async () => {
    const error = await client().queue.submit(input, { signal: AbortSignal.abort(new Error("never mind")) }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("never mind");
    expect(fake.log).toHaveLength(0);
  });
});

describe("a hostile status stream", () => {
  /** A queue on a local server: the stream as `stream` writes it; status COMPLETED; the output. */
  async function queueWithStream(stream: (res: import("node:http").ServerResponse) => void) {
    const output = firstExample(200);
    return startLocalServer((req, res) => {
      const path = new URL(req.url!, "http://x").pathname;
      const json = (status: number, body: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
      if (req.method === "POST") return json(200, { request_id: "job-1" });
      if (path.endsWith("/status/stream")) return stream(res);
      if (path.endsWith("/status")) return json(200, { status: "COMPLETED" });
      return json(200, output);
    });
  }

  it("bytes with no line end cannot keep it open: past requestTimeoutMs, polling takes over and the result comes", async () => {
    const server = await queueWithStream((res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      const timer = setInterval(() => res.write("garbage "), 10);
      res.on("close", () => clearInterval(timer));
    });
    try {
      const started = Date.now();
      const output = await createFluxClient({ credentials: "k", queueUrl: server.url, requestTimeoutMs: 300 }).subscribe(input, { pollIntervalMs: 5 });
      expect(output.images.length).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await server.close();
    }
  });

  it("a COMPLETED frame naming another job is ignored: this job's own status decides", async () => {
    const server = await queueWithStream((res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.end('data: {"status":"COMPLETED","request_id":"someone-else"}\n\n');
    });
    try {
      const seen: unknown[] = [];
      await createFluxClient({ credentials: "k", queueUrl: server.url }).subscribe(input, { pollIntervalMs: 5, onQueueUpdate: (s) => seen.push(s) });
      expect(seen).toEqual([{ status: "COMPLETED" }]); // from polling, not the foreign frame
    } finally {
      await server.close();
    }
  });
});

describe("a submit answer that cannot be read but names its job", () => {
  it("half its JSON: subscribe follows the job it names to its output; one submit, onEnqueue told", async () => {
    fake.inject("submit", { kind: "half-json" });
    let enqueued: string | undefined;
    const output = await client().subscribe(input, { onEnqueue: (id) => (enqueued = id) });
    const [job] = [...fake.jobs.values()];
    expect(enqueued).toBe(job!.id);
    expect(output.seed).toBe(job!.seed);
    expect(fake.count("submit")).toBe(1);
  });

  it("one that names no job, neither in its body nor in its header: the uncertain error stands (the job exists, its id is unknown)", async () => {
    fake.inject("submit", { kind: "status", status: 200, body: "<html>Bad gateway</html>" }); // no x-fal-request-id
    await expect(client().subscribe(input)).rejects.toMatchObject({ name: "FluxSubmitUncertainError", requestId: undefined });
    expect(fake.count("submit")).toBe(1);
  });
});

describe("every job that completes on the server is returned exactly once", () => {
  it("12 concurrent subscriptions through dropped streams, 5xx, resets and cut bodies", async () => {
    await useFake({ queueMs: (n) => (n % 3) * 30, runMs: (n) => 20 + (n % 4) * 25, closeAfterCompletedMs: 50 });
    fake.inject("stream", { kind: "drop-stream", afterEvents: 1 }, { kind: "status", status: 503 }, { kind: "reset-before-body" });
    fake.inject("status", { kind: "status", status: 502 }, { kind: "reset-after-body" }, { kind: "truncate" });
    fake.inject("result", { kind: "status", status: 503 }, { kind: "truncate" }, { kind: "reset-after-body" }, { kind: "malformed" });
    const queueClient = client({ retry: { baseDelayMs: 5, maxRetries: 5 } });
    const outputs = await Promise.all(Array.from({ length: 12 }, () => queueClient.subscribe(input, { pollIntervalMs: 15 })));

    expect(fake.jobs.size).toBe(12);
    expect(fake.count("submit")).toBe(12);
    const returned = outputs.map((output) => /files\/fake\/(.+)\.jpeg$/.exec(output.images[0]!.url)![1]);
    expect(new Set(returned)).toEqual(new Set(fake.jobs.keys()));
    for (const output of outputs) {
      const job = fake.jobs.get(/files\/fake\/(.+)\.jpeg$/.exec(output.images[0]!.url)![1]!)!;
      expect(job.state).toBe("COMPLETED");
      expect(output.seed).toBe(job.seed);
    }
  });
});

it("leaves nothing running: no request reaches the fake after subscribe returns", async () => {
  await client().subscribe(input);
  const seen = fake.log.length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(fake.log.length).toBe(seen);
});

describe("follow: a job already on the queue", () => {
  it("is followed to its output by a client that did not submit it (another process), with no submit", async () => {
    const { request_id } = await client().queue.submit(input);
    const output = await client().follow(request_id);
    expect(fake.count("submit")).toBe(1);
    expect(fake.log.map((entry) => entry.route)).toEqual(["submit", "stream", "result"]);
    expect(output.seed).toBe(fake.jobs.get(request_id)!.seed);
  });

  it("is cancelled on fal's side when the caller aborts", async () => {
    await useFake({ hold: true });
    const { request_id } = await client().queue.submit(input);
    const controller = new AbortController();
    const following = client().follow(request_id, {
      signal: controller.signal,
      onQueueUpdate: () => controller.abort(new Error("stop")),
    });
    await expect(following).rejects.toThrow("stop");
    expect(fake.count("cancel")).toBe(1);
    expect(fake.jobs.get(request_id)!.cancelled).toBe(true);
  });
});
