// fal's own JS client (@fal-ai/client) against the project's Prism mocks, through its documented
// `requestMiddleware`: the contract test no one here wrote the other side of. Every request fal's
// client sends must pass Prism's check of our documents, and every answer of our documents must be
// one fal's client can read. Where fal's client and ours read an answer differently, the test says so
// by name ("fal's client ..., ours ...").
import { ApiError, createFalClient, type QueueStatus as FalQueueStatus } from "@fal-ai/client";
import { describe, expect, inject, it } from "vitest";
import { queueOperations } from "../../generated/spec.js";
import { imageToImageExamples, imageToImageSubmit } from "../../generated/endpoints.js";
import { createFluxClient } from "../../src/index.js";
import { firstExample, queueExample } from "../support/spec.js";

const prismUrl = inject("prismUrl");
const prismQueueUrl = inject("prismQueueUrl");
const endpoint = "fal-ai/flux-1/dev/image-to-image";
const input = imageToImageExamples["seed-example"];
const submitted = queueExample("submitImageToImage", 200) as { request_id: string };
const requestId = submitted.request_id;

interface Sent {
  method: string;
  url: URL;
  headers: Headers;
}

/**
 * fal's client with every URL moved from fal's hosts to the Prism of the same document. `prefer`
 * picks Prism's answer per request (by the n-th request to that path). Nothing leaves 127.0.0.1:
 * the client's fetch refuses any other host.
 */
function falClient(prefer: (url: URL, nth: number) => string | undefined = () => undefined) {
  const sent: Sent[] = [];
  const fal = createFalClient({
    credentials: "contract-test",
    requestMiddleware: async (request) => {
      const url = new URL(request.url);
      const mock = { "fal.run": prismUrl, "queue.fal.run": prismQueueUrl }[url.host];
      if (!mock) throw new Error(`fal's client asked for ${url.origin}, which has no mock`);
      const moved = new URL(url.pathname + url.search, mock);
      const nth = sent.filter((s) => s.url.pathname === moved.pathname).length;
      const choice = prefer(moved, nth);
      return { ...request, url: moved.href, headers: { ...request.headers, ...(choice ? { prefer: choice } : {}) } };
    },
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.hostname !== "127.0.0.1") throw new TypeError(`tests stay on 127.0.0.1, not ${url.origin}`);
      sent.push({ method: init?.method ?? "GET", url, headers: new Headers(init?.headers) });
      return globalThis.fetch(input, init);
    },
  });
  return { fal, sent };
}

const path = (operationId: keyof typeof queueOperations) => queueOperations[operationId].path.replace("{request_id}", requestId);

describe("fal's client against our sync document (fal.run)", () => {
  it("run: fal's request passes Prism's check, and it reads the 200 example and its request id", async () => {
    const { fal, sent } = falClient();
    const result = await fal.run(endpoint, { input, startTimeout: 30 });
    expect(result.data).toEqual(firstExample(200));
    expect(result.requestId).toBeTruthy();
    expect(sent[0]!.headers.get("x-fal-request-timeout")).toBe("30");
  });

  it("run: a seed above 2^53 — fal's client rounds it, ours keeps every digit the wire has", async () => {
    const { fal } = falClient(() => "example=sync-mode");
    // fal's input type has `seed?: number`: the spec's `seed: null` (pick one at random) is not in it.
    const theirs = await fal.run(endpoint, { input: imageToImageExamples["inline-png"] as never });
    const ours = await createFluxClient({ baseUrl: prismUrl, credentials: "contract-test", fetch: withPrefer("example=sync-mode") }).imageToImage(
      imageToImageExamples["inline-png"],
    );
    const wire = await wireSeed(`${prismUrl}/${endpoint}`, "POST", "example=sync-mode");
    expect(wire > 2n ** 53n).toBe(true);
    expect(ours.seed).toBe(wire);
    expect(BigInt(theirs.data.seed)).not.toBe(wire);
  });

  it("startTimeout of 1 s: fal's client refuses it (its minimum is > 1), ours sends it (fal's docs: > 0.1)", async () => {
    const { fal, sent } = falClient();
    await expect(fal.run(endpoint, { input, startTimeout: 1 })).rejects.toThrow(/greater than 1/);
    expect(sent).toHaveLength(0);
    const ours = createFluxClient({ baseUrl: prismUrl, credentials: "contract-test" });
    await expect(ours.imageToImage(input, { startTimeoutSeconds: 1 })).resolves.toEqual(firstExample(200));
  });
});

describe("fal's client against our queue document (queue.fal.run)", () => {
  it("queue.submit with priority, hint, start timeout, webhook and media expiry: every header passes Prism's check", async () => {
    const { fal, sent } = falClient();
    const job = await fal.queue.submit(endpoint, {
      input,
      priority: "low",
      hint: "session-42",
      startTimeout: 30,
      webhookUrl: "https://example.com/fal/webhook",
      storageSettings: { expiresIn: 3600 },
    });
    expect(job).toEqual(submitted);
    const headers = sent[0]!.headers;
    expect([headers.get("x-fal-queue-priority"), headers.get("x-fal-runner-hint"), headers.get("x-fal-request-timeout")]).toEqual([
      "low",
      "session-42",
      "30",
    ]);
    expect(headers.get("x-fal-object-lifecycle-preference")).toBe('{"expiration_duration_seconds":3600}');
  });

  it("queue.submit: the ids-only answer (no URLs) is read by both clients", async () => {
    const { fal } = falClient(() => "example=ids-only");
    const ids = queueExample("submitImageToImage", 200, undefined, "ids-only");
    await expect(fal.queue.submit(endpoint, { input })).resolves.toEqual(ids);
    const ours = createFluxClient({ queueUrl: prismQueueUrl, credentials: "contract-test", fetch: withPrefer("example=ids-only") });
    await expect(ours.queue.submit(input)).resolves.toEqual(ids);
  });

  it("queue.status: 200 COMPLETED, 202 IN_QUEUE and 202 IN_PROGRESS, with logs asked as fal's client asks (logs=1, else logs=0)", async () => {
    const answers = ["code=200", "code=202, example=in-queue", "code=202, example=in-progress"];
    const { fal, sent } = falClient((_, nth) => answers[nth]);
    const statuses: FalQueueStatus[] = [];
    for (const logs of [true, false, true]) statuses.push(await fal.queue.status(endpoint, { requestId, logs }));
    expect(statuses.map((s) => s.status)).toEqual(["COMPLETED", "IN_QUEUE", "IN_PROGRESS"]);
    expect(sent.map((s) => [s.url.pathname, s.url.searchParams.get("logs")])).toEqual([
      [path("getQueueStatus"), "1"],
      [path("getQueueStatus"), "0"],
      [path("getQueueStatus"), "1"],
    ]);
  });

  it("queue.status of a failed job: both clients read error and error_type on COMPLETED", async () => {
    const { fal } = falClient(() => "example=failed");
    const theirs = (await fal.queue.status(endpoint, { requestId })) as FalQueueStatus & { error?: string; error_type?: string };
    const ours = await createFluxClient({ queueUrl: prismQueueUrl, credentials: "contract-test", fetch: withPrefer("example=failed") }).queue.status(requestId);
    expect(theirs).toEqual(ours);
    expect(theirs).toMatchObject({ status: "COMPLETED", error_type: "runner_server_error" });
  });

  it("queue.result: the output example and its request id; the big seed rounded by fal's client, exact in ours", async () => {
    const { fal, sent } = falClient();
    const result = await fal.queue.result(endpoint, { requestId });
    const example = queueExample("getQueueResult", 200) as { seed: number };
    expect({ ...result.data, seed: 0 }).toEqual({ ...example, seed: 0 });
    expect(sent[0]!.url.pathname).toBe(path("getQueueResult"));
    const ours = await createFluxClient({ queueUrl: prismQueueUrl, credentials: "contract-test" }).queue.result(requestId);
    const wire = await wireSeed(prismQueueUrl + path("getQueueResult"), "GET");
    expect(ours.seed).toBe(wire);
    expect(BigInt(result.data.seed)).not.toBe(wire);
  });

  it.each(["code=200, example=removed", "code=200, example=success", "code=202"])(
    "queue.cancel, Prefer %s: fal's client resolves, ours gives the outcome",
    async (prefer) => {
      const { fal, sent } = falClient(() => prefer);
      await expect(fal.queue.cancel(endpoint, { requestId })).resolves.toBeUndefined();
      expect([sent[0]!.method, sent[0]!.url.pathname]).toEqual(["PUT", path("cancelQueueRequest")]);
    },
  );

  it.each([
    ["code=400", 400, "ALREADY_COMPLETED"],
    ["code=404", 404, "NOT_FOUND"],
  ] as const)("queue.cancel, Prefer %s: fal's client throws ApiError %i, ours returns %s", async (prefer, status, outcome) => {
    const { fal } = falClient(() => prefer);
    const error = await fal.queue.cancel(endpoint, { requestId }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError<unknown>).status).toBe(status);
    const ours = createFluxClient({ queueUrl: prismQueueUrl, credentials: "contract-test", fetch: withPrefer(prefer) });
    await expect(ours.queue.cancel(requestId)).resolves.toMatchObject({ status: outcome, httpStatus: status });
  });

  it("queue.streamStatus: the stream example's frames, ending COMPLETED", async () => {
    const { fal, sent } = falClient();
    const stream = await fal.queue.streamStatus(endpoint, { requestId, logs: true });
    const frames: FalQueueStatus[] = [];
    for await (const frame of stream) frames.push(frame);
    expect(frames.map((f) => f.status)).toEqual(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    expect(sent[0]!.url.pathname).toBe(path("streamQueueStatus"));
  });

  it("subscribe, polling: 202 IN_QUEUE, 202 IN_PROGRESS, then 200 COMPLETED and the result", async () => {
    const answers = ["code=202, example=in-queue", "code=202, example=in-progress"];
    const { fal, sent } = falClient((url, nth) => (url.pathname === path("getQueueStatus") ? answers[nth] : undefined));
    const seen: string[] = [];
    const result = await fal.subscribe(endpoint, { input, mode: "polling", pollInterval: 5, onQueueUpdate: (s) => seen.push(s.status) });
    expect(seen).toEqual(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    expect(result.data.images).toEqual((queueExample("getQueueResult", 200) as { images: unknown }).images);
    expect(sent.map((s) => s.url.pathname)).toEqual([
      imageToImageSubmit.path,
      path("getQueueStatus"),
      path("getQueueStatus"),
      path("getQueueStatus"),
      path("getQueueResult"),
    ]);
  });

  it("subscribe, streaming: the status stream, then the result", async () => {
    const { fal, sent } = falClient();
    const seen: string[] = [];
    const result = await fal.subscribe(endpoint, { input, mode: "streaming", onQueueUpdate: (s) => seen.push(s.status) });
    expect(seen).toEqual(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    expect(result.requestId).toBeTruthy();
    expect(sent.map((s) => s.url.pathname)).toEqual([imageToImageSubmit.path, path("streamQueueStatus"), path("getQueueResult")]);
  });
});

/** The seed as Prism writes it on the wire (Prism re-serializes JSON, so its digits are the mock's, not the example's). */
async function wireSeed(url: string, method: string, prefer?: string): Promise<bigint> {
  const response = await globalThis.fetch(url, {
    method,
    headers: { Authorization: "Key contract-test", "Content-Type": "application/json", ...(prefer ? { Prefer: prefer } : {}) },
    body: method === "POST" ? JSON.stringify(imageToImageExamples["inline-png"]) : undefined,
  });
  return BigInt(/"seed":(\d+)/.exec(await response.text())![1]!);
}

/** Our client's fetch with a Prism `Prefer`. */
function withPrefer(prefer: string) {
  return (url: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set("Prefer", prefer);
    return globalThis.fetch(url, { ...init, headers });
  };
}
