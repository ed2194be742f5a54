// flux-i2i/proxy (createFalProxy) mounted with toNodeHandler on node:http, fal's queue played
// by the local fake: this package's client through its paths and fal's own client through
// `x-fal-target-url`, both keyless; what is refused before anything is forwarded; answers streamed
// back as fal gave them, never with the key.
import { createFalClient, withProxy } from "@fal-ai/client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { storageUpload } from "../generated/spec.js";
import { imageToImageExamples } from "../generated/endpoints.js";
import { createFluxClient } from "../src/index.js";
import { createFalProxy, type FalProxyOptions } from "../src/server/proxy.js";
import { startFakeQueue, type FakeQueue, type FakeQueueOptions } from "./support/fake-queue.js";
import { startStorageFake } from "./support/storage-fake.js";
import { serveFetchHandler } from "./support/node-adapter.js";

const serverKey = "server-key-id:server-key-secret-0123456789";
const input = imageToImageExamples["seed-example"];

let fake: FakeQueue;
let proxy: Awaited<ReturnType<typeof serveFetchHandler>>;

async function setUp(options: Partial<FalProxyOptions> = {}, fakeOptions: FakeQueueOptions = {}) {
  await proxy?.close();
  await fake?.close();
  fake = await startFakeQueue({ closeAfterCompletedMs: 300, ...fakeOptions });
  // The fake plays both of fal's servers: its submit path is the sync path too.
  proxy = await serveFetchHandler(createFalProxy({ credentials: serverKey, runUrl: fake.url, queueUrl: fake.url, ...options }));
}
beforeEach(() => {
  for (const name of ["FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"]) vi.stubEnv(name, undefined);
  return setUp();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await proxy.close();
  await fake.close();
});

const raw = (path: string, init: RequestInit = {}) => fetch(`${proxy.url}${path}`, init);
/** A POST as a page's client sends it: JSON, saying so. */
const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  raw(path, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers }, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit);

describe("through the proxy, with no key in the caller", () => {
  it("this package's client (baseUrl / queueUrl): subscribe with the status stream passed through, the key added by the proxy only", async () => {
    const browser = createFluxClient({ baseUrl: `${proxy.url}/api/fal/run`, queueUrl: `${proxy.url}/api/fal/queue` });
    const statuses: string[] = [];
    const output = await browser.subscribe(input, { onQueueUpdate: (status) => statuses.push(status.status) });
    expect(output.images).toHaveLength(1);
    expect(statuses.at(-1)).toBe("COMPLETED");
    expect(fake.log.map((entry) => entry.route)).toEqual(["submit", "stream", "result"]); // the stream, not polling
    expect(fake.log.every((entry) => entry.headers.authorization === `Key ${serverKey}`)).toBe(true);
  });

  it("fal's own client (x-fal-target-url, through its withProxy middleware): subscribe end to end", async () => {
    // fal's client names fal's real URLs; the proxy forwards to them, and its fetch hands them to the fake.
    const toFake = (url: string | URL | Request, init?: RequestInit) => globalThis.fetch(String(url).replace(/^https:\/\/(queue\.)?fal\.run/, fake.url), init);
    await setUp({ runUrl: "https://fal.run", queueUrl: "https://queue.fal.run", fetch: toFake });
    const fal = createFalClient({ requestMiddleware: withProxy({ targetUrl: `${proxy.url}/api/fal/proxy`, when: "always" }) });
    const { data } = await fal.subscribe("fal-ai/flux-1/dev/image-to-image", { input, mode: "polling", pollInterval: 10 });
    expect(data.images).toHaveLength(1);
    expect(fake.log.map((entry) => entry.route)).toContain("result");
    expect(fake.log.every((entry) => entry.headers.authorization === `Key ${serverKey}`)).toBe(true);
  });

  it("fal's own client under the id fal's docs page prints, fal-ai/flux/dev/image-to-image: let through to fal under that id", async () => {
    const forwarded: string[] = [];
    // fal answers both ids as one endpoint: here the fake, which knows the documents' paths, stands in for it.
    const toFake = (url: string | URL | Request, init?: RequestInit) => {
      forwarded.push(new URL(String(url)).pathname);
      const path = String(url).replace(/^https:\/\/(queue\.)?fal\.run/, fake.url).replace("/fal-ai/flux/", "/fal-ai/flux-1/");
      return globalThis.fetch(path, init);
    };
    const targets: string[] = [];
    await setUp({ runUrl: "https://fal.run", queueUrl: "https://queue.fal.run", fetch: toFake, authorize: (_, target) => (targets.push(target.operationId), true) });
    const fal = createFalClient({ requestMiddleware: withProxy({ targetUrl: `${proxy.url}/api/fal/proxy`, when: "always" }) });
    const { data } = await fal.subscribe("fal-ai/flux/dev/image-to-image", { input, mode: "polling", pollInterval: 10 });
    expect(data.images).toHaveLength(1);
    expect(forwarded[0]).toBe("/fal-ai/flux/dev/image-to-image");
    expect(forwarded.slice(1).every((path) => path.startsWith("/fal-ai/flux/requests/"))).toBe(true);
    expect(targets[0]).toBe("submitImageToImage");
    expect(targets).toContain("getQueueResult");
  });

  it("this package's client with endpointId: the alias, through the proxy's own paths: submitted and followed under that id", async () => {
    const paths: string[] = [];
    // The fake knows the documents' paths: it stands in for fal, which answers both ids as one endpoint.
    await setUp({ fetch: (url, init) => (paths.push(new URL(String(url)).pathname), globalThis.fetch(String(url).replace("/fal-ai/flux/", "/fal-ai/flux-1/"), init)) });
    const viaProxy = createFluxClient({ baseUrl: `${proxy.url}/api/fal/run`, queueUrl: `${proxy.url}/api/fal/queue`, endpointId: "fal-ai/flux/dev/image-to-image" });
    expect((await viaProxy.subscribe(input)).images).toHaveLength(1);
    expect(paths[0]).toBe("/fal-ai/flux/dev/image-to-image");
    expect(paths.length).toBeGreaterThan(1);
    expect(paths.slice(1).every((path) => path.startsWith("/fal-ai/flux/requests/"))).toBe(true);
  });
});

describe("fal storage through the proxy, as @fal-ai/server-proxy lets it through", () => {
  it("fal's own client uploads a Blob input: the initiate call through the proxy with the server's key, the bytes PUT straight to the signed URL with none, the job given the file's URL", async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const fileUrl = "https://v3b.fal.media/files/b/cat.png";
    const storage = await startStorageFake(fileUrl);
    try {
      const toFakes = (url: string | URL | Request, init?: RequestInit) =>
        globalThis.fetch(String(url).replace(/^https:\/\/rest\.fal\.ai/, storage.url).replace(/^https:\/\/(queue\.)?fal\.run/, fake.url), init);
      await setUp({ runUrl: "https://fal.run", queueUrl: "https://queue.fal.run", storageUrl: "https://rest.fal.ai", fetch: toFakes });
      const fal = createFalClient({ requestMiddleware: withProxy({ targetUrl: `${proxy.url}/api/fal/proxy`, when: "always" }) });
      const { data } = await fal.subscribe("fal-ai/flux-1/dev/image-to-image", {
        input: { ...input, image_url: new Blob([png], { type: "image/png" }) },
        mode: "polling",
        pollInterval: 10,
      });
      expect(data.images).toHaveLength(1);
      const [initiate, put] = storage.requests;
      expect(initiate!.headers.authorization).toBe(`Key ${serverKey}`);
      expect(JSON.parse(initiate!.body)).toMatchObject({ content_type: "image/png" });
      expect(put!.headers.authorization).toBeUndefined();
      expect(put!.headers["content-type"]).toBe("image/png");
      expect([...fake.jobs.values()][0]!.input.image_url).toBe(fileUrl);
    } finally {
      await storage.close();
    }
  });

  it("this package's client with storageUrl at the proxy: a Blob uploaded through it, then subscribed with the file's URL", async () => {
    const fileUrl = "https://v3b.fal.media/files/b/own-client.png";
    const storage = await startStorageFake(fileUrl);
    try {
      await setUp({ storageUrl: storage.url });
      const browser = createFluxClient({ baseUrl: `${proxy.url}/api/fal/run`, queueUrl: `${proxy.url}/api/fal/queue`, storageUrl: `${proxy.url}/api/fal/storage` });
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9]);
      expect((await browser.subscribe({ ...input, image_url: new Blob([png]) })).images).toHaveLength(1);
      expect(storage.requests.map((r) => [r.method, r.headers.authorization])).toEqual([
        ["POST", `Key ${serverKey}`],
        ["PUT", undefined],
      ]);
      expect([...fake.jobs.values()][0]!.input.image_url).toBe(fileUrl);
    } finally {
      await storage.close();
    }
  });

  it("lets through exactly the initiate URL fal's proxy allows: another storage_type, another storage path, or a PUT is refused", async () => {
    // Nothing may leave this machine: a forwarded request would be counted here, not sent.
    let forwarded = 0;
    await setUp({ storageUrl: "https://rest.fal.ai", fetch: async () => (forwarded++, new Response("{}")) });
    const target = (url: string, method = "POST") =>
      raw("/api/fal/proxy", { method, headers: { "x-fal-target-url": url, "Content-Type": "application/json" }, body: JSON.stringify({ content_type: "image/png", file_name: "a.png" }) });
    expect((await target("https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn")).status).toBe(403);
    expect((await target("https://rest.fal.ai/storage/upload/initiate")).status).toBe(403);
    expect((await target("https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3")).status).toBe(403);
    expect((await target("https://rest.fal.ai/billing/usage?storage_type=fal-cdn-v3")).status).toBe(403);
    expect((await target("https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3", "PUT")).status).toBe(405);
    expect(forwarded).toBe(0);
    expect((await target("https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3")).status).toBe(200);
    expect(forwarded).toBe(1);
  });
});

describe("refused before anything is forwarded", () => {
  it.each([
    ["another model's path", "/api/fal/queue/fal-ai/flux-pro/v1.1", "POST", 403],
    ["a path that walks up", "/api/fal/queue/fal-ai/flux-1/requests/../../other", "GET", 403],
    ["a request id off the spec's form", "/api/fal/queue/fal-ai/flux-1/requests/a%2Fb/status", "GET", 403],
    ["a method the route does not have", "/api/fal/queue/fal-ai/flux-1/requests/job-1/status", "DELETE", 405],
    ["a path outside the mount", "/elsewhere/run/fal-ai/flux-1/dev/image-to-image", "POST", 404],
  ])("%s", async (_, path, method, status) => {
    const response = await raw(path, { method, body: method === "POST" ? JSON.stringify(input) : undefined, headers: { "Content-Type": "application/json" } });
    expect(response.status).toBe(status);
    expect(fake.log).toHaveLength(0);
  });

  it("a key no header can carry is refused when the proxy is made, without quoting it; no key at all answers 500", async () => {
    const badKey = "key-id:secret with space";
    const made = () => createFalProxy({ credentials: badKey });
    expect(made).toThrow("credentials: the key has a character no HTTP header can carry at position 14");
    expect(() => made()).not.toThrow(/secret with space/);
    const keyless = await createFalProxy({ credentials: undefined })(new Request("http://127.0.0.1/api/fal/run/fal-ai/flux-1/dev/image-to-image", { method: "POST", body: "{}" }));
    expect(keyless.status).toBe(500);
  });

  it("an x-fal-target-url on another host than fal's", async () => {
    const response = await raw("/api/fal/proxy", { method: "POST", headers: { "x-fal-target-url": "https://evil.example.com/fal-ai/flux-1/dev/image-to-image" }, body: "{}" });
    expect([response.status, ((await response.json()) as { detail: string }).detail]).toEqual([403, "not forwarded: https://evil.example.com is not fal's"]);
    expect(fake.log).toHaveLength(0);
  });

  it("a caller authorize refuses (401, or the Response it gives)", async () => {
    await setUp({ authorize: (request) => request.headers.get("cookie") === "session=ok" });
    expect((await post("/api/fal/queue/fal-ai/flux-1/dev/image-to-image", JSON.stringify(input))).status).toBe(401);
    await setUp({ authorize: () => new Response("sign in first", { status: 403 }) });
    expect(await (await post("/api/fal/queue/fal-ai/flux-1/dev/image-to-image", "{}")).text()).toBe("sign in first");
    expect(fake.log).toHaveLength(0);
  });

  it("a body over the cap: 413, whether its length is declared or it comes in chunks of unknown length", async () => {
    await setUp({ maxBodyBytes: 1_000 });
    const path = "/api/fal/queue/fal-ai/flux-1/dev/image-to-image";
    const chunked = (text: string) => new Blob([text]).stream();
    const large = JSON.stringify({ ...input, prompt: "x".repeat(2_000) });
    expect((await post(path, large)).status).toBe(413);
    expect((await post(path, chunked(large))).status).toBe(413);
    expect(fake.log).toHaveLength(0);
    // Under the cap, a chunked body is forwarded whole.
    expect((await post(path, chunked(JSON.stringify(input)))).status).toBe(200);
    expect(fake.log.map((entry) => entry.route)).toEqual(["submit"]);
  });
});

describe("fal's answers, as fal gave them", () => {
  it.each([401, 422, 429])("a %i is passed on as it came (fal's express proxy turns some into 200), its headers and body kept", async (status) => {
    fake.inject("submit", { kind: "status", status, body: { detail: "no" }, headers: { "x-fal-request-id": "req-9", "X-Fal-Retryable": "false" } });
    const response = await post("/api/fal/queue/fal-ai/flux-1/dev/image-to-image", JSON.stringify(input));
    expect([response.status, response.headers.get("x-fal-request-id"), response.headers.get("x-fal-retryable")]).toEqual([status, "req-9", "false"]);
    expect(await response.json()).toEqual({ detail: "no" });
  });

  it("a server that echoes the key: no form of it in the proxy's answer, JSON or event stream", async () => {
    await setUp({}, { echoKey: true, hold: true });
    const submitted = (await (await post("/api/fal/queue/fal-ai/flux-1/dev/image-to-image", JSON.stringify(input))).json()) as { request_id: string };
    fake.advance(submitted.request_id); // IN_PROGRESS: its log line quotes the key
    const stream = raw(`/api/fal/queue/fal-ai/flux-1/requests/${submitted.request_id}/status/stream`).then((r) => r.text());
    await fake.arrived("stream");
    fake.advance(submitted.request_id);
    const texts = [await stream, await (await raw(`/api/fal/queue/fal-ai/flux-1/requests/${submitted.request_id}`)).text(), await (await raw("/api/fal/queue/fal-ai/flux-1/requests/unknown-job/status")).text()];
    expect(texts[0]).toContain("loaded [redacted]");
    for (const text of texts) for (const form of [serverKey, "server-key-secret-0123456789"]) expect(text).not.toContain(form);
  });

  describe("the status stream, chunk by chunk (fal's answer played by a stream this test writes)", () => {
    /** The proxy in front of an event stream this test writes to, and a reader of what comes out. */
    async function streamThrough() {
      let upstream!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (controller) => void (upstream = controller) });
      const handler = createFalProxy({ credentials: serverKey, queueUrl: "https://queue.fal.run", fetch: async () => new Response(body, { headers: { "content-type": "text/event-stream" } }) });
      const response = await handler(new Request("http://127.0.0.1/api/fal/queue/fal-ai/flux-1/requests/req-1/status/stream"));
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      const send = (text: string) => upstream.enqueue(new TextEncoder().encode(text));
      return { send, end: () => upstream.close(), read: async () => (await reader.read()).value };
    }

    it("an event goes on whole as soon as it arrives, while the stream stays open (a client acts on COMPLETED at once)", async () => {
      const stream = await streamThrough();
      const completed = 'data: {"status":"COMPLETED","request_id":"req-1"}\n\n';
      stream.send(completed);
      expect(await stream.read()).toBe(completed);
      stream.end();
    });

    it("a key split across two chunks is still cut out", async () => {
      const stream = await streamThrough();
      const cut = serverKey.length - 10;
      stream.send(`data: {"logs":[{"message":"loaded ${serverKey.slice(0, cut)}`);
      stream.send(`${serverKey.slice(cut)}"}]}\n\n`);
      stream.end();
      let text = "";
      for (let chunk = await stream.read(); chunk !== undefined; chunk = await stream.read()) text += chunk;
      expect(text).toBe('data: {"logs":[{"message":"loaded [redacted]"}]}\n\n');
    });
  });

  it("CORS for an allowed origin: preflight answered, the request id readable by the page; another origin gets no CORS headers", async () => {
    await setUp({ allowedOrigins: ["https://app.example.com"] });
    const preflight = await raw("/api/fal/queue/fal-ai/flux-1/dev/image-to-image", {
      method: "OPTIONS",
      headers: { Origin: "https://app.example.com", "Access-Control-Request-Headers": "content-type" },
    });
    expect([preflight.status, preflight.headers.get("access-control-allow-origin")]).toEqual([204, "https://app.example.com"]);
    const call = await post("/api/fal/queue/fal-ai/flux-1/dev/image-to-image", JSON.stringify(input), { Origin: "https://app.example.com" });
    expect(call.headers.get("access-control-expose-headers")).toContain("x-fal-request-id");
    const other = await post("/api/fal/queue/fal-ai/flux-1/dev/image-to-image", JSON.stringify(input), { Origin: "https://evil.example.com" });
    expect([other.status, other.headers.get("access-control-allow-origin")]).toEqual([403, null]);
    expect(fake.log.map((entry) => entry.route)).toEqual(["submit"]);
  });
});
