// Per-call controls and hooks, as the generated SDKs users know have them: a call's own timeout,
// retries and headers, `withResponse()` for the request id and the answer of a success, and
// onRequest / onResponse hooks that never see the key.
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { imageToImageExamples } from "../generated/endpoints.js";
import { createFluxClient, FluxTimeoutError, FluxValidationError, type CallOptions, type FluxClientOptions, type QueueCallOptions, type WithResponse } from "../src/index.js";
import type { RequestInfo, ResponseInfo } from "../src/index.js";
import { startFakeQueue, type FakeQueue } from "./support/fake-queue.js";
import { firstExample } from "./support/spec.js";

const input = imageToImageExamples["seed-example"];
const secret = "key-id-1234:SECRET-abcdef-0987";
let fake: FakeQueue;
beforeEach(async () => {
  fake = await startFakeQueue({ closeAfterCompletedMs: 0 });
});
afterEach(() => fake.close());

const client = (options: FluxClientOptions = {}) =>
  createFluxClient({ credentials: secret, queueUrl: fake.url, retry: { baseDelayMs: 5 }, requestTimeoutMs: 2_000, ...options });

/** A fal.run that answers the spec's example, with a request id. */
const syncFetch = async () =>
  new Response(JSON.stringify(firstExample(200)), { headers: { "Content-Type": "application/json", "x-fal-request-id": "sync-req-7" } });

describe("withResponse()", () => {
  it("what it reads the answer with is the client's own, not an option of any public call", () => {
    // @ts-expect-error onAnswer is internal (what withResponse reads)
    const options: QueueCallOptions = { onAnswer: () => undefined };
    expect(Object.keys(options)).toEqual(["onAnswer"]); // a type-level check: tsc fails if onAnswer becomes public
  });

  it("imageToImage: the output, fal's request id and the answer", async () => {
    const result = await client({ fetch: syncFetch }).imageToImage.withResponse(input);
    expectTypeOf(result).toEqualTypeOf<WithResponse<typeof result.data>>();
    expect(result.data).toEqual(firstExample(200));
    expect([result.requestId, result.response.status]).toEqual(["sync-req-7", 200]);
  });

  it("queue calls: the job's id where fal sent no request id; subscribe: the job's id and the result's answer", async () => {
    const submitted = await client().queue.submit.withResponse(input);
    expect(submitted.requestId).toBe(submitted.data.request_id);
    const status = await client().queue.status.withResponse(submitted.data);
    expect([status.requestId, status.response.status]).toEqual([submitted.data.request_id, status.data.status === "COMPLETED" ? 200 : 202]);
    const subscribed = await client().subscribe.withResponse(input);
    expect(subscribed.data.images).toHaveLength(1);
    expect(subscribed.requestId).toBe([...fake.jobs.keys()].at(-1));
    expect(subscribed.response.status).toBe(200);
  });
});

describe("a call's own controls", () => {
  it("headers go out with the call; one that would set Authorization is refused before anything is sent", async () => {
    await client().queue.submit(input, { headers: { "x-trace-id": "t-1" } });
    expect(fake.log[0]!.headers["x-trace-id"]).toBe("t-1");
    expect(fake.log[0]!.headers.authorization).toBe(`Key ${secret}`);
    const error = await client().queue.status("job-1", { headers: { Authorization: "Key other" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxValidationError);
    expect((error as FluxValidationError).issues[0]).toMatchObject({ field: "headers.Authorization", rule: "secret" });
    expect(fake.log).toHaveLength(1);
  });

  it("a platform header the spec names is its option's: a type error, and refused in any case before anything is sent", async () => {
    // @ts-expect-error X-Fal-Request-Timeout is startTimeoutSeconds' (checked against the spec)
    const typed: CallOptions = { headers: { "X-Fal-Request-Timeout": "0.01" } };
    const errors = await Promise.all([
      client({ fetch: syncFetch }).imageToImage(input, typed).catch((e: unknown) => e),
      client().queue.submit(input, { headers: { "x-fal-queue-priority": "low" } }).catch((e: unknown) => e),
    ]);
    expect(errors.map((error) => (error as FluxValidationError).issues)).toEqual([
      [expect.objectContaining({ field: "headers.X-Fal-Request-Timeout", rule: "option", params: { option: "startTimeoutSeconds" } })],
      [expect.objectContaining({ field: "headers.x-fal-queue-priority", rule: "option", params: { option: "priority" } })],
    ]);
    expect(fake.log).toHaveLength(0);
  });

  it("requestTimeoutMs and maxRetries override the client's for that call only", async () => {
    const job = await client().queue.submit(input);
    fake.inject("status", { kind: "slow", ms: 1_000 }, { kind: "slow", ms: 1_000 });
    const error = await client().queue.status(job, { requestTimeoutMs: 100, maxRetries: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxTimeoutError);
    expect((error as Error).message).toContain("within 100 ms");
    expect(fake.count("status")).toBe(2); // the first try and one retry
  });

  it("the deprecated `timeout` still sets a queue call's request limit; requestTimeoutMs wins when both are given", async () => {
    const job = await client().queue.submit(input);
    fake.inject("status", { kind: "slow", ms: 1_000 }, { kind: "slow", ms: 1_000 });
    const old = await client().queue.status(job, { timeout: 100, maxRetries: 0 }).catch((e: unknown) => e);
    expect((old as Error).message).toContain("within 100 ms");
    const both = await client().queue.status(job, { timeout: 5_000, requestTimeoutMs: 150, maxRetries: 0 }).catch((e: unknown) => e);
    expect((both as Error).message).toContain("within 150 ms");
  });
});

describe("hooks", () => {
  it("onRequest and onResponse see every request and answer, never the key; a hook that throws breaks nothing", async () => {
    const requests: RequestInfo[] = [];
    const responses: ResponseInfo[] = [];
    const hooked = client({
      onRequest: (info) => {
        requests.push(info);
        throw new Error("a broken logger");
      },
      onResponse: (info) => responses.push(info),
    });
    await hooked.subscribe(input);
    expect(requests.map((r) => `${r.method} ${new URL(r.url).pathname.split("/").slice(-1)[0]}`)).toEqual(
      expect.arrayContaining(["POST image-to-image", expect.stringMatching(/^GET (stream|status)$/)]),
    );
    expect(responses.every((r) => r.status >= 200 && r.durationMs >= 0)).toBe(true);
    expect(JSON.stringify(requests) + JSON.stringify(responses)).not.toContain(secret);
    expect(requests[0]!.headers["content-type"]).toBe("application/json");
  });
});
