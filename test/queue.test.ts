// The queue calls against a local fake of fal's queue that injects faults: how many attempts each
// fault gets, that a billed submit is never sent twice after an ambiguous failure, and which typed
// error comes out.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { imageToImageExamples } from "../generated/endpoints.js";
import {
  createFluxClient,
  FluxApiError,
  FluxConfigError,
  FluxNetworkError,
  FluxResponseError,
  FluxSubmitUncertainError,
  FluxTimeoutError,
  FluxValidationError,
  type FetchLike,
  type FluxClientOptions,
} from "../src/index.js";
import { startFakeQueue, type FakeQueue, type FakeQueueOptions } from "./support/fake-queue.js";
import { refusedOrigin } from "./support/refused.js";
import { startLocalServer } from "./support/local-server.js";
import { failOnUnhandledRejections } from "./support/unhandled.js";
import { declaredResponse, firstExample } from "./support/spec.js";

const input = imageToImageExamples["seed-example"];
const secret = "key-id-1234:SECRET-abcdef-0987";

failOnUnhandledRejections();

let fake: FakeQueue;
async function useFake(options: FakeQueueOptions = {}) {
  await fake?.close();
  fake = await startFakeQueue(options);
  return fake;
}
beforeEach(() => useFake());
afterEach(() => fake.close());

/** A client of the fake with short delays, so that retries take milliseconds. */
function client(options: FluxClientOptions = {}) {
  return createFluxClient({
    credentials: secret,
    queueUrl: fake.url,
    retry: { maxRetries: 3, baseDelayMs: 5, maxDelayMs: 2_000 },
    requestTimeoutMs: 2_000,
    ...options,
  });
}

/** A fal error body and headers for a status, as the spec's shared responses give them. */
function falError(status: number) {
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries<{ example?: unknown }>(declaredResponse(status).headers ?? {})) {
    if (header.example !== undefined && name !== "Retry-After") headers[name] = String(header.example);
  }
  return { kind: "status" as const, status, body: firstExample(status), headers };
}

async function submitted() {
  return client().queue.submit(input);
}

describe("status, result and cancel are retried when it is safe", () => {
  it.each([429, 502, 503, 504])("%i with fal's body: retried with backoff, then the answer", async (status) => {
    const job = await submitted();
    fake.inject("status", falError(status), falError(status));
    const answer = await client().queue.status(job);
    expect(answer.status).toMatch(/IN_QUEUE|IN_PROGRESS|COMPLETED/);
    expect(fake.count("status")).toBe(3);
  });

  it.each([429, 502, 503, 504])("%i every time: gives up after maxRetries with a typed error", async (status) => {
    const job = await submitted();
    fake.inject("status", ...Array.from({ length: 10 }, () => falError(status)));
    const error = (await client().queue.status(job).catch((e: unknown) => e)) as FluxApiError;
    expect(error).toBeInstanceOf(FluxApiError);
    expect(error).toMatchObject({ status, retryable: true, requestId: expect.any(String) });
    expect(fake.count("status")).toBe(4);
  });

  it("500 (x-retryable: false in the spec) is not retried", async () => {
    const job = await submitted();
    fake.inject("status", falError(500));
    const error = (await client().queue.status(job).catch((e: unknown) => e)) as FluxApiError;
    expect(error).toMatchObject({ name: "FluxApiError", status: 500, errorType: "runner_server_error", retryable: false });
    expect(fake.count("status")).toBe(1);
  });

  it("X-Fal-Retryable: false overrides the spec: a 503 fal calls final is not retried", async () => {
    const job = await submitted();
    fake.inject("result", { kind: "status", status: 503, headers: { "X-Fal-Retryable": "false" }, body: { detail: "no" } });
    await expect(client().queue.result(job)).rejects.toMatchObject({ status: 503, retryable: false });
    expect(fake.count("result")).toBe(1);
  });

  it("Retry-After is honoured: the retry waits as long as the server asked", async () => {
    const job = await submitted();
    fake.inject("status", { kind: "status", status: 429, headers: { "Retry-After": "1" }, body: firstExample(429) });
    await client().queue.status(job);
    const [first, second] = fake.log.filter((entry) => entry.route === "status");
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it("a Retry-After longer than maxDelayMs is not waited out: the error comes at once", async () => {
    const job = await submitted();
    fake.inject("status", { kind: "status", status: 429, headers: { "Retry-After": "3600" }, body: firstExample(429) });
    await expect(client().queue.status(job)).rejects.toMatchObject({ status: 429 });
    expect(fake.count("status")).toBe(1);
  });

  it("422 and 404 are never retried", async () => {
    const job = await submitted();
    fake.inject("result", falError(422));
    await expect(client().queue.result(job)).rejects.toMatchObject({ status: 422 });
    await expect(client().queue.status("no-such-job")).rejects.toMatchObject({ status: 404, retryable: false });
    expect(fake.count("result") + fake.count("status")).toBe(2);
  });

  it.each(["reset-before-body", "reset-after-body", "truncate", "half-json", "malformed"] as const)(
    "a %s answer to a status request is retried",
    async (kind) => {
      const job = await submitted();
      fake.inject("status", { kind });
      await expect(client().queue.status(job)).resolves.toHaveProperty("status");
      expect(fake.count("status")).toBe(2);
    },
  );

  it("a result cut short is read again and comes back whole, seed exact", async () => {
    await useFake({ hold: true });
    const job = await submitted();
    fake.advance(job.request_id);
    fake.advance(job.request_id);
    fake.inject("result", { kind: "truncate" }, { kind: "reset-after-body" });
    const output = await client().queue.result(job);
    expect(output.seed).toBe(fake.jobs.get(job.request_id)!.seed);
    expect(fake.count("result")).toBe(3);
  });

  it("an answer slower than requestTimeoutMs times out and is retried", async () => {
    const job = await submitted();
    fake.inject("status", { kind: "slow", ms: 2_000 });
    await expect(client({ requestTimeoutMs: 300 }).queue.status(job)).resolves.toHaveProperty("status");
    expect(fake.count("status")).toBe(2);
  });

  it("always too slow: FluxTimeoutError after maxRetries, naming the job", async () => {
    const job = await submitted();
    fake.inject("status", ...Array.from({ length: 4 }, () => ({ kind: "slow" as const, ms: 2_000 })));
    const error = await client({ requestTimeoutMs: 50 }).queue.status(job).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxTimeoutError);
    expect(error).toMatchObject({ requestId: job.request_id });
    expect(fake.count("status")).toBe(4);
  });

  it("retry: false sends each call once", async () => {
    const job = await submitted();
    fake.inject("status", falError(503));
    await expect(client({ retry: false }).queue.status(job)).rejects.toMatchObject({ status: 503 });
    expect(fake.count("status")).toBe(1);
  });

  it("cancel is retried (cancelling twice is harmless), and ALREADY_COMPLETED is an answer, not an error", async () => {
    await useFake({ hold: true }); // the first job stays in the queue until cancelled
    const job = await submitted();
    fake.inject("cancel", falError(503));
    await expect(client().queue.cancel(job)).resolves.toMatchObject({ status: "CANCELLATION_REQUESTED", httpStatus: 202 });
    expect(fake.count("cancel")).toBe(2);
    expect(fake.jobs.get(job.request_id)!.cancelled).toBe(true);

    const done = await submitted();
    fake.advance(done.request_id);
    fake.advance(done.request_id);
    await expect(client().queue.cancel(done)).resolves.toMatchObject({ status: "ALREADY_COMPLETED", httpStatus: 400 });
  });
});

describe("a submit is billed: never sent twice after an ambiguous failure", () => {
  it.each(["reset-before-body", "reset-after-body", "truncate"] as const)(
    "%s: one submit, FluxSubmitUncertainError saying the job may exist, at most the one job",
    async (kind) => {
      fake.inject("submit", { kind });
      const error = (await client().queue.submit(input).catch((e: unknown) => e)) as FluxSubmitUncertainError;
      expect(error).toBeInstanceOf(FluxSubmitUncertainError);
      expect(error).toBeInstanceOf(FluxNetworkError); // still a network failure to code that catches those
      expect(error.message).toContain("the job may exist and be billed");
      expect(fake.count("submit")).toBe(1);
      expect(fake.jobs.size).toBe(kind === "reset-before-body" ? 0 : 1);
    },
  );

  it("an answer cut after its first half: the request id in that half is kept on the error", async () => {
    fake.inject("submit", { kind: "truncate" });
    const error = (await client().queue.submit(input).catch((e: unknown) => e)) as FluxSubmitUncertainError;
    const [job] = [...fake.jobs.keys()];
    expect(error).toMatchObject({ name: "FluxSubmitUncertainError", requestId: job });
    expect(error.message).toContain(`flux-i2i --live --follow ${job}`);
  });

  it("an answer slower than the timeout: one submit, FluxSubmitUncertainError caused by the timeout, the one job", async () => {
    fake.inject("submit", { kind: "slow", ms: 2_000 });
    const error = (await client({ requestTimeoutMs: 100 }).queue.submit(input).catch((e: unknown) => e)) as FluxSubmitUncertainError;
    expect(error).toBeInstanceOf(FluxSubmitUncertainError);
    expect(error.cause).toBeInstanceOf(FluxTimeoutError);
    expect(fake.count("submit")).toBe(1);
    expect(fake.jobs.size).toBe(1);
  });

  it("a 200 that is not JSON: one submit, the uncertain error naming the job its x-fal-request-id header names, the body kept in its cause", async () => {
    fake.inject("submit", { kind: "malformed" });
    const error = (await client().queue.submit(input).catch((e: unknown) => e)) as FluxSubmitUncertainError;
    const [id] = [...fake.jobs.keys()];
    expect(error).toBeInstanceOf(FluxSubmitUncertainError);
    expect(error.requestId).toBe(id);
    expect(error.message).toContain(`fal took the submit, but its answer is not JSON`);
    expect(error.message).toContain(`The job exists and is billed: it is job ${id}; follow it (client.follow, flux-i2i --live --follow ${id})`);
    const cause = error.cause as FluxResponseError;
    expect(cause).toBeInstanceOf(FluxResponseError);
    expect(cause.body).toContain("Bad gateway");
    expect(cause.retryable).toBe(false); // fal holds the job: sending it again would pay twice
    expect(fake.count("submit")).toBe(1);
  });

  it("subscribe follows the job an unreadable submit answer's header names, to its output", async () => {
    fake.inject("submit", { kind: "malformed" });
    const output = await client().subscribe(input);
    expect(output.seed).toBe([...fake.jobs.values()][0]!.seed);
    expect(fake.count("submit")).toBe(1);
  });

  it("a 200 cut in half: one submit, the uncertain error naming the job it found in the half", async () => {
    fake.inject("submit", { kind: "half-json" });
    const error = (await client().queue.submit(input).catch((e: unknown) => e)) as FluxSubmitUncertainError;
    expect(error).toBeInstanceOf(FluxSubmitUncertainError);
    expect(error.requestId).toBe([...fake.jobs.keys()][0]);
    expect(fake.count("submit")).toBe(1);
  });

  it.each([502, 503, 504])("%i: not re-sent (the job may exist; retrying is the caller's call), retryable says so", async (status) => {
    fake.inject("submit", falError(status));
    await expect(client().queue.submit(input)).rejects.toMatchObject({ status, retryable: true });
    expect(fake.count("submit")).toBe(1);
  });

  it("429 is a refusal that made no job (x-job-created: false): re-sent after Retry-After, one job", async () => {
    fake.inject("submit", { ...falError(429), headers: { "Retry-After": "0.2" } });
    const job = await client().queue.submit(input);
    const [first, second] = fake.log.filter((entry) => entry.route === "submit");
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(190);
    expect([...fake.jobs.keys()]).toEqual([job.request_id]);
  });

  it("429 every time: the refusal after maxRetries re-sends, and no job", async () => {
    fake.inject("submit", falError(429), falError(429), falError(429), falError(429));
    await expect(client().queue.submit(input)).rejects.toMatchObject({ status: 429, retryable: true });
    expect(fake.count("submit")).toBe(4);
    expect(fake.jobs.size).toBe(0);
  });

  it("a refused connection proves nothing was sent: the submit is retried and makes one job", async () => {
    let calls = 0;
    // The first attempt goes to a port nobody listens on: a real ECONNREFUSED from fetch.
    const fetch: FetchLike = (url, init) => globalThis.fetch(calls++ === 0 ? String(url).replace(fake.url, refusedOrigin) : url, init);
    const job = await client({ fetch }).queue.submit(input);
    expect(calls).toBe(2);
    expect(fake.count("submit")).toBe(1);
    expect([...fake.jobs.keys()]).toEqual([job.request_id]);
  });

  it("bad input or options: FluxValidationError naming each, and nothing sent", async () => {
    const error = (await client()
      .queue.submit({ ...input, num_images: 9 }, { priority: "urgent" as "low", startTimeoutSeconds: 0.1, webhookUrl: "not a url" })
      .catch((e: unknown) => e)) as FluxValidationError;
    expect(error).toBeInstanceOf(FluxValidationError);
    expect(error.issues.map((i) => [i.field, i.rule])).toEqual([
      ["num_images", "maximum"],
      ["priority", "enum"],
      ["startTimeoutSeconds", "exclusiveMinimum"],
      ["webhookUrl", "format"],
    ]);
    expect(fake.log).toHaveLength(0);
  });

  it("a webhook URL that carries the key is refused, without quoting the key", async () => {
    const error = (await client()
      .queue.submit(input, { webhookUrl: `https://example.com/hook?token=${secret}` })
      .catch((e: unknown) => e)) as FluxValidationError;
    expect(error.issues).toContainEqual(expect.objectContaining({ field: "webhookUrl", rule: "secret" }));
    expect(JSON.stringify(error) + error.message).not.toContain(secret);
    expect(fake.log).toHaveLength(0);
  });

  it.each([
    ["percent-encoded", encodeURIComponent(secret)],
    ["encoded twice", encodeURIComponent(encodeURIComponent(secret))],
    ["its secret half alone", secret.slice(secret.indexOf(":") + 1)],
  ])("a webhook URL with the key %s is refused too", async (_, spelled) => {
    const error = (await client().queue.submit(input, { webhookUrl: `https://example.com/hook?t=${spelled}` }).catch((e: unknown) => e)) as FluxValidationError;
    expect(error.issues).toContainEqual(expect.objectContaining({ field: "webhookUrl", rule: "secret" }));
    expect(fake.log).toHaveLength(0);
  });

  it("priority, start timeout and webhook go out as fal's headers and query; the key only in Authorization", async () => {
    await client().queue.submit(input, { priority: "low", startTimeoutSeconds: 30, webhookUrl: "https://example.com/hook" });
    const [request] = fake.log;
    expect(request!.headers).toMatchObject({
      "x-fal-queue-priority": "low",
      "x-fal-request-timeout": "30",
      authorization: `Key ${secret}`,
    });
    expect(new URL(request!.url, fake.url).searchParams.get("fal_webhook")).toBe("https://example.com/hook");
    expect(request!.url).not.toContain(secret);
  });
});

describe("every answer fal documents", () => {
  it.each([
    [200, { status: "OK" }, "OK"],
    [202, { status: "CANCELLATION_REQUESTED" }, "CANCELLATION_REQUESTED"],
    [400, { status: "ALREADY_COMPLETED" }, "ALREADY_COMPLETED"],
    [404, { status: "NOT_FOUND" }, "NOT_FOUND"],
    [404, { detail: "Request not found" }, "NOT_FOUND"],
    [200, { success: true }, "CANCELLATION_REQUESTED"],
    [200, { success: false }, "ALREADY_COMPLETED"],
  ] as const)("cancel %i %j: the outcome %s, not an error", async (status, body, outcome) => {
    fake.inject("cancel", { kind: "status", status, body });
    await expect(client().queue.cancel("job-x")).resolves.toEqual({ status: outcome, httpStatus: status, body });
    expect(fake.count("cancel")).toBe(1);
  });

  it("a 404 whose body is no cancel answer (a proxy's page) stays a FluxApiError, not retried", async () => {
    fake.inject("cancel", { kind: "status", status: 404, body: "<html>Not Found</html>" });
    await expect(client().queue.cancel("job-x")).rejects.toMatchObject({ name: "FluxApiError", status: 404, requestId: "job-x" });
    expect(fake.count("cancel")).toBe(1);
  });

  it("a cancel answer in neither form is a FluxResponseError naming the job", async () => {
    fake.inject("cancel", { kind: "status", status: 200, body: { cancelled: "maybe" } });
    await expect(client().queue.cancel("job-x")).rejects.toMatchObject({ name: "FluxResponseError", requestId: "job-x" });
  });

  it("a 504 whose X-Fal-Request-Timeout-Type is user is final: not re-fetched, and the error says why", async () => {
    const job = await submitted();
    fake.inject("result", { ...falError(504), headers: { "X-Fal-Request-Timeout-Type": "user" } });
    const error = (await client().queue.result(job).catch((e: unknown) => e)) as FluxApiError;
    expect(error).toMatchObject({ status: 504, retryable: false, timeoutType: "user" });
    expect(error.message).toContain("startTimeoutSeconds");
    expect(fake.count("result")).toBe(1);
  });

  it("a submit answered with only {request_id, gateway_request_id} is a usable job: followed along the spec's paths", async () => {
    await useFake({ submitAnswer: "ids-only" });
    const job = await client().queue.submit(input);
    expect(job).toEqual({ request_id: job.request_id, gateway_request_id: job.request_id });
    const output = await client().subscribe(input);
    expect(output.seed).toBe(fake.jobs.get([...fake.jobs.keys()][1]!)!.seed);
    await expect(client().queue.status(job)).resolves.toMatchObject({ status: "COMPLETED" });
  });

  it("a job whose COMPLETED status carries error and error_type: the result's error says so too", async () => {
    const statusError = { error: "Internal server error in the runner.", error_type: "runner_server_error" };
    await useFake({ outcome: () => ({ status: 500, body: { detail: "boom" }, statusError }) });
    for (const mode of ["stream", "poll"] as const) {
      const error = (await client().subscribe(input, { mode, pollIntervalMs: 5 }).catch((e: unknown) => e)) as FluxApiError;
      expect(error).toBeInstanceOf(FluxApiError);
      expect(error).toMatchObject({ status: 500, jobFailure: { error: statusError.error, errorType: statusError.error_type } });
      expect(error.message).toContain("the job failed: Internal server error in the runner. (runner_server_error)");
    }
  });

  it("fal's platform options go out as its headers and query, on a submit and on subscribe's submit", async () => {
    const options = {
      startTimeoutSeconds: 30,
      runnerHint: "session-42",
      mediaExpirationSeconds: 3600,
      storePayloads: false,
      disableFalRetries: true,
      maxQueueLength: 100,
    };
    await client().queue.submit(input, options);
    await client().subscribe(input, options);
    for (const request of fake.log.filter((entry) => entry.route === "submit")) {
      expect(request.headers).toMatchObject({
        "x-fal-request-timeout": "30",
        "x-fal-runner-hint": "session-42",
        "x-fal-object-lifecycle-preference": '{"expiration_duration_seconds":3600}',
        "x-fal-store-io": "0",
        "x-fal-no-retry": "1",
      });
      expect(new URL(request.url, "http://x").searchParams.get("fal_max_queue_length")).toBe("100");
    }
    // Left at fal's defaults, none of them is sent.
    await client().queue.submit(input, { storePayloads: true, disableFalRetries: false, mediaExpirationSeconds: undefined });
    expect(Object.keys(fake.log.at(-1)!.headers).filter((name) => /store-io|no-retry|lifecycle|runner-hint|request-timeout/.test(name))).toEqual([]);
  });

  it("bad platform options: each named with its rule, nothing sent", async () => {
    const bad = { startTimeoutSeconds: 0.1, runnerHint: "", mediaExpirationSeconds: 0, storePayloads: "no", disableFalRetries: 1, maxQueueLength: -1 };
    const error = (await client().queue.submit(input, bad as never).catch((e: unknown) => e)) as FluxValidationError;
    expect(error).toBeInstanceOf(FluxValidationError);
    expect(error.issues.map((i) => [i.field, i.rule]).sort()).toEqual(
      [
        ["startTimeoutSeconds", "exclusiveMinimum"],
        ["runnerHint", "pattern"],
        ["mediaExpirationSeconds", "minimum"],
        ["storePayloads", "type"],
        ["disableFalRetries", "type"],
        ["maxQueueLength", "minimum"],
      ].sort(),
    );
    expect(error.message).toContain("runnerHint: must be printable ASCII");
    expect(fake.log).toHaveLength(0);
  });
});

describe("request ids are one URL path segment", () => {
  it.each(["..", ".", "a/../../b", "id with space", "job\u0000x", ""])("%j from a caller is refused before any request", async (id) => {
    for (const call of [(c: ReturnType<typeof client>) => c.queue.status(id), (c: ReturnType<typeof client>) => c.queue.result(id), (c: ReturnType<typeof client>) => c.queue.cancel(id)]) {
      const error = (await call(client()).catch((e: unknown) => e)) as FluxValidationError;
      expect(error).toBeInstanceOf(FluxValidationError);
      expect(error.issues[0]).toMatchObject({ field: "requestId", rule: "pattern" });
    }
    expect(fake.log).toHaveLength(0);
  });

  it("a submit answer naming '..' is off the spec: no job to follow is made of it", async () => {
    fake.inject("submit", { kind: "status", status: 200, body: { request_id: ".." }, headers: { "x-fal-request-id": "../admin" } });
    const error = (await client().queue.submit(input).catch((e: unknown) => e)) as FluxSubmitUncertainError;
    expect(error).toBeInstanceOf(FluxSubmitUncertainError);
    expect(error.requestId).toBeUndefined();
    expect(error.message).toContain("request_id: must be one URL path segment");
    expect(error.message).toContain("nothing in the answer named it; check fal's request history");
  });
});

describe("answers are read with a cap", () => {
  it("an endless status answer is cut at its cap: FluxResponseError, memory bounded, not retried", async () => {
    const endless = await startLocalServer((_, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk));
        res.once("drain", pump);
      };
      res.on("close", () => res.removeAllListeners("drain"));
      pump();
    });
    try {
      const error = await createFluxClient({ credentials: secret, queueUrl: endless.url, retry: false }).queue.status("job-1").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FluxResponseError);
      expect((error as Error).message).toContain("more than the 8388608 bytes");
    } finally {
      await endless.close();
    }
  });
});

describe("the key", () => {
  it("a queueUrl that is no URL is a FluxConfigError naming the option", () => {
    expect(() => createFluxClient({ queueUrl: "queue.fal.run" })).toThrow(/queueUrl is not an absolute URL/);
  });

  it("is not sent to a plain-http queue that is not this machine", () => {
    expect(() => createFluxClient({ credentials: secret, queueUrl: "http://queue.example.com" })).toThrow(FluxConfigError);
    expect(() => createFluxClient({ credentials: secret, queueUrl: "http://localhost:1234" })).not.toThrow();
  });

  it("echoed back in an error body is redacted from the error, its message and its JSON", async () => {
    const job = await submitted();
    fake.inject("status", { kind: "status", status: 401, body: { detail: `No user found for Key ${secret}` } });
    const error = (await client().queue.status(job).catch((e: unknown) => e)) as FluxApiError;
    expect(error).toBeInstanceOf(FluxApiError);
    expect(`${error.message} ${JSON.stringify(error)} ${JSON.stringify(error.body)}`).not.toContain(secret);
    expect(error.message).toContain("[redacted]");
  });

  it("never appears in a network error or a timeout", async () => {
    const job = await submitted();
    fake.inject("status", ...Array.from({ length: 4 }, () => ({ kind: "reset-before-body" as const })));
    const error = await client().queue.status(job).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxNetworkError);
    expect(`${String(error)} ${JSON.stringify(error)}`).not.toContain(secret);
  });
});

describe("following the URLs fal returns", () => {
  it("long-form URLs of the submit answer are the ones requested", async () => {
    await useFake({ urlForm: "long" });
    const queue = client().queue;
    const job = await queue.submit(input);
    await queue.status(job.request_id, { logs: true });
    await queue.cancel(job.request_id);
    const urls = fake.log.slice(1).map((entry) => entry.url);
    expect(urls).toEqual([
      `/fal-ai/flux-1/dev/image-to-image/requests/${job.request_id}/status?logs=1`,
      `/fal-ai/flux-1/dev/image-to-image/requests/${job.request_id}/cancel`,
    ]);
  });

  it("URLs on another origin are not followed (the key would go with them): the spec's paths are used", async () => {
    await useFake({ urlOrigin: "https://elsewhere.example" });
    const seen: string[] = [];
    const fetch: FetchLike = (url, init) => (seen.push(String(url)), globalThis.fetch(url, init));
    const output = await client({ fetch }).subscribe(input);
    expect(output.images).toHaveLength(1);
    expect(seen.every((url) => url.startsWith(fake.url))).toBe(true);
  });
});
