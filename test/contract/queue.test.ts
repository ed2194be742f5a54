// The queue document against a Prism started from it: the client's queue calls and subscribe get
// the spec's examples, every declared error becomes a FluxApiError, and Prism and the client agree
// on what a bad submit is.
import { describe, expect, inject, it } from "vitest";
import { queueOperations } from "../../generated/spec.js";
import { imageToImageExamples, imageToImageSubmit } from "../../generated/endpoints.js";
import { validateQueueStatus, validateQueueSubmitted } from "../../generated/validators.js";
import { createFluxClient, FluxApiError, FluxValidationError, type FetchLike, type FluxClientOptions } from "../../src/index.js";
import { sseData } from "../../src/core/sse.js";
import { checkInput, checkOutput } from "../../src/image-to-image.js";
import { constraintCases } from "../support/constraint-cases.js";
import { queueExample } from "../support/spec.js";

const prismQueueUrl = inject("prismQueueUrl");
const input = imageToImageExamples["seed-example"];
const submitted = queueExample("submitImageToImage", 200) as { request_id: string };
const jobId = submitted.request_id;

/** A client of the Prism queue; `prefer` asks Prism for a status or example. Every URL it fetches is recorded. */
function client(prefer?: string, options: FluxClientOptions = {}) {
  const urls: string[] = [];
  const fetch: FetchLike = (url, init) => {
    urls.push(String(url));
    const headers = new Headers(init?.headers);
    if (prefer) headers.set("Prefer", prefer);
    return globalThis.fetch(url, { ...init, headers });
  };
  return { urls, client: createFluxClient({ credentials: "contract-test", queueUrl: prismQueueUrl, fetch, retry: false, ...options }) };
}

describe("the queue's examples through the client", () => {
  it("submit: the 200 example, which passes the submit validator", async () => {
    const job = await client().client.queue.submit(input);
    expect(job).toEqual(submitted);
    expect(validateQueueSubmitted(job)).toBe(true);
  });

  it("status: 200 (COMPLETED) and 202 (IN_QUEUE) examples pass the status validator", async () => {
    const done = await client().client.queue.status(jobId, { logs: true });
    expect(done).toEqual(queueExample("getQueueStatus", 200));
    const waiting = await client("code=202").client.queue.status(jobId);
    expect(waiting).toEqual(queueExample("getQueueStatus", 202));
    expect(validateQueueStatus(waiting) && waiting.status).toBe("IN_QUEUE");
  });

  it("status stream: an event stream whose frames are valid statuses, ending with COMPLETED", async () => {
    const path = queueOperations.streamQueueStatus.path.replace("{request_id}", jobId);
    const response = await fetch(prismQueueUrl + path, { headers: { Authorization: "Key contract-test", Accept: "text/event-stream" } });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const frames: unknown[] = [];
    for await (const data of sseData(response.body!)) frames.push(JSON.parse(data));
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.every((frame) => validateQueueStatus(frame))).toBe(true);
    expect(frames.at(-1)).toMatchObject({ status: "COMPLETED" });
  });

  it("result: the output example, which passes the output validator; its seed as exact as the wire allows", async () => {
    const output = await client().client.queue.result(jobId);
    const path = queueOperations.getQueueResult.path.replace("{request_id}", jobId);
    const wire = await (await fetch(prismQueueUrl + path, { headers: { Authorization: "Key x" } })).text();
    expect(checkOutput({ ...output, seed: Number(output.seed) })).toEqual([]);
    expect(output.seed).toBe(BigInt(/"seed":(\d+)/.exec(wire)![1]!));
  });

  it.each([
    ["code=200, example=removed", 200, "OK"],
    ["code=200, example=success", 200, "CANCELLATION_REQUESTED"],
    ["code=202", 202, "CANCELLATION_REQUESTED"],
    ["code=400", 400, "ALREADY_COMPLETED"],
    ["code=404", 404, "NOT_FOUND"],
  ] as const)("cancel, Prefer %s: every documented answer is an outcome (%i %s)", async (prefer, httpStatus, status) => {
    const [, example] = /example=([\w-]+)/.exec(prefer) ?? [];
    const body = example ? queueExample("cancelQueueRequest", httpStatus, undefined, example) : queueExample("cancelQueueRequest", httpStatus);
    await expect(client(prefer).client.queue.cancel(jobId)).resolves.toEqual({ status, httpStatus, body });
  });

  it("status: the 202 in-progress example, and the 200 example of a failed job, pass the status validator", async () => {
    const running = await client("code=202, example=in-progress").client.queue.status(jobId);
    expect(running).toMatchObject({ status: "IN_PROGRESS" });
    const failed = await client("code=200, example=failed").client.queue.status(jobId);
    expect(failed).toMatchObject({ status: "COMPLETED", error_type: "runner_server_error" });
  });

  it("subscribe, polling, walked through IN_QUEUE and IN_PROGRESS by Prefer (the README's recipe), then COMPLETED", async () => {
    const steps = ["code=202, example=in-queue", "code=202, example=in-progress"];
    const fetch: FetchLike = (url, init) => {
      const headers = new Headers(init?.headers);
      if (String(url).endsWith("/status") && steps.length) headers.set("Prefer", steps.shift()!);
      return globalThis.fetch(url, { ...init, headers });
    };
    const seen: string[] = [];
    const walker = createFluxClient({ queueUrl: prismQueueUrl, credentials: "any", fetch, retry: false });
    const output = await walker.subscribe(input, { mode: "poll", pollIntervalMs: 1, onQueueUpdate: (s) => seen.push(s.status) });
    expect(seen).toEqual(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    expect(output.images.length).toBeGreaterThan(0);
  });

  it("submit: the ids-only example (no URLs) is a job the client follows along the spec's paths", async () => {
    const job = await client("example=ids-only").client.queue.submit(input);
    expect(job).toEqual(queueExample("submitImageToImage", 200, undefined, "ids-only"));
    const { urls, client: follower } = client();
    await follower.queue.status(job);
    expect(urls.map((url) => new URL(url).pathname)).toEqual([queueOperations.getQueueStatus.path.replace("{request_id}", jobId)]);
  });

  it("status with logs as fal's clients send it (0, 1, true, false): Prism accepts each", async () => {
    const path = queueOperations.getQueueStatus.path.replace("{request_id}", jobId);
    for (const logs of ["0", "1", "true", "false"]) {
      const response = await fetch(`${prismQueueUrl}${path}?logs=${logs}`, { headers: { Authorization: "Key contract-test" } });
      await response.arrayBuffer();
      expect([logs, response.status]).toEqual([logs, 200]);
    }
    const refused = await fetch(`${prismQueueUrl}${path}?logs=yes`, { headers: { Authorization: "Key contract-test" } });
    await refused.arrayBuffer();
    expect(refused.status).toBe(422);
  });

  it("subscribe: submit, stream, result; the submit's URLs (queue.fal.run, not this mock) are not followed", async () => {
    const { urls, client: subscriber } = client();
    const statuses: string[] = [];
    const output = await subscriber.subscribe(input, { onQueueUpdate: (s) => statuses.push(s.status) });
    expect(output.images.length).toBeGreaterThan(0);
    expect(statuses.at(-1)).toBe("COMPLETED");
    expect(urls.map((url) => new URL(url).pathname)).toEqual([
      imageToImageSubmit.path,
      queueOperations.streamQueueStatus.path.replace("{request_id}", jobId),
      queueOperations.getQueueResult.path.replace("{request_id}", jobId),
    ]);
    expect(urls.every((url) => url.startsWith(prismQueueUrl))).toBe(true);
  });
});

describe("every declared error of every queue call is a FluxApiError", () => {
  const calls: Record<string, (c: ReturnType<typeof client>["client"]) => Promise<unknown>> = {
    submitImageToImage: (c) => c.queue.submit(input),
    getQueueStatus: (c) => c.queue.status(jobId),
    getQueueResult: (c) => c.queue.result(jobId),
    cancelQueueRequest: (c) => c.queue.cancel(jobId),
  };
  // A cancel's 400 and 404 are outcomes (x-outcome), tested above: retryableByStatus leaves them out.
  const cases = Object.entries(calls).flatMap(([operationId]) =>
    Object.entries({ ...queueOperations, submitImageToImage: imageToImageSubmit }[operationId as keyof typeof queueOperations].retryableByStatus).map(
      ([status, retryable]) => [operationId, Number(status), retryable] as const,
    ),
  );

  it.each(cases)("%s %i", async (operationId, status, retryable) => {
    const error = (await calls[operationId]!(client(`code=${status}`).client).catch((e: unknown) => e)) as FluxApiError;
    expect(error).toBeInstanceOf(FluxApiError);
    expect(error.status).toBe(status);
    expect(error.body).toEqual(queueExample(operationId, status));
    if (status !== 429) expect(error.retryable).toBe(retryable); // 429's example carries X-Fal-Retryable
  });
});

describe("a bad submit: Prism and the client's validator agree", () => {
  const cases = constraintCases().filter((c) => c.rule !== undefined);
  it.concurrent.each(cases.map((c) => [c.name, c] as const))("%s", async (_, testCase) => {
    const response = await fetch(prismQueueUrl + imageToImageSubmit.path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Key contract-test" },
      body: JSON.stringify(testCase.body),
    });
    await response.arrayBuffer();
    const violations = JSON.parse(response.headers.get("sl-violations") ?? "[]") as { code: string }[];
    expect(response.status).toBe(422);
    expect(checkInput(testCase.body).map((i) => i.rule).sort()).toEqual(violations.map((v) => String(v.code)).sort());
  });
});

describe("bad submit options: Prism and the client agree on the rule", () => {
  const body = JSON.stringify(input);
  it.each([
    ["priority", { priority: "urgent" }, { "X-Fal-Queue-Priority": "urgent" }, ""],
    ["startTimeoutSeconds", { startTimeoutSeconds: 0.1 }, { "X-Fal-Request-Timeout": "0.1" }, ""],
    ["startTimeoutSeconds", { startTimeoutSeconds: "soon" }, { "X-Fal-Request-Timeout": "soon" }, ""],
    ["runnerHint", { runnerHint: "café" }, { "X-Fal-Runner-Hint": "café" }, ""],
    ["maxQueueLength", { maxQueueLength: -1 }, {}, "?fal_max_queue_length=-1"],
    ["webhookUrl", { webhookUrl: "not a url" }, {}, "?fal_webhook=not%20a%20url"],
  ] as const)("%s %j", async (option, options, headers, query) => {
    const response = await fetch(`${prismQueueUrl}${imageToImageSubmit.path}${query}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Key contract-test", ...headers },
      body,
    });
    await response.arrayBuffer();
    const violations = JSON.parse(response.headers.get("sl-violations") ?? "[]") as { code: string }[];
    expect(response.status).toBe(422);

    const { urls, client: submitter } = client();
    const error = (await submitter.queue.submit(input, options as never).catch((e: unknown) => e)) as FluxValidationError;
    expect(error).toBeInstanceOf(FluxValidationError);
    expect(urls).toEqual([]);
    expect(error.issues.map((i) => [i.field, i.rule])).toEqual(violations.map((v) => [option, String(v.code)]));
  });
});
