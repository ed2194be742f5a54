// flux-i2i/proxy attacked from outside (issue 18), in this process: another site's page, an
// authorize that does not say yes, a target that disagrees with the path, a fal that echoes the
// key, inflates without end, redirects or cuts its answer, and requests that are broken on purpose.
// Every one gets an answer; none spends the key or shows it. (test/full/proxy-survival.test.ts
// runs the same proxy in a process of its own and checks that it is still up after each.)
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import express from "express";
import { imageToImageExamples } from "../generated/endpoints.js";
import { FluxConfigError } from "../src/core/errors.js";
import { createFalProxy, toNodeHandler, type FalProxyOptions, type ProxyTarget } from "../src/server/proxy.js";
import { holdsEchoedKey, redirectTarget, startHostileUpstream, type HostileUpstream } from "./support/hostile-upstream.js";
import { serveFetchHandler } from "./support/node-adapter.js";
import { rawExchange } from "./support/proxy-attacks.js";

const key = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f:0123456789abcdef0123456789abcdef";
const input = imageToImageExamples["seed-example"];
const submitPath = "/api/fal/queue/fal-ai/flux-1/dev/image-to-image";

let upstream: HostileUpstream;
let proxy: Awaited<ReturnType<typeof serveFetchHandler>>;
let failures: unknown[];

async function setUp(options: Partial<FalProxyOptions> = {}) {
  await proxy?.close();
  failures = [];
  proxy = await serveFetchHandler(
    createFalProxy({ credentials: key, runUrl: upstream.url, queueUrl: upstream.url, onError: (error) => failures.push(error), ...options }),
  );
}
beforeEach(async () => {
  upstream = await startHostileUpstream(key, { bombBytes: 16 * 1024 * 1024 });
  await setUp();
});
afterEach(async () => {
  await proxy.close();
  await upstream.close();
});

const send = (path: string, init: RequestInit = {}) => fetch(`${proxy.url}${path}`, init);
const postJson = (headers: Record<string, string> = {}, path = submitPath) =>
  send(path, { method: "POST", body: JSON.stringify(input), headers: { "Content-Type": "application/json", ...headers } });
const submitsSeen = () => upstream.log.filter((entry) => entry.method === "POST").length;

describe("another site's page cannot spend the key", () => {
  it("a simple cross-site text/plain POST (no preflight) is refused before fal, whatever its type", async () => {
    const crossSite = await send(submitPath, { method: "POST", body: JSON.stringify(input), headers: { Origin: "https://evil.example.com", "Content-Type": "text/plain" } });
    expect([crossSite.status, crossSite.headers.get("access-control-allow-origin")]).toEqual([403, null]);
    expect((await postJson({ Origin: "https://evil.example.com" })).status).toBe(403);
    expect((await postJson({ Origin: "null" })).status).toBe(403); // a sandboxed frame or a file
    expect(submitsSeen()).toBe(0);
  });

  it("a body sent as a form or text/plain, even without an Origin, is refused (415); a cancel needs no body", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      expect((await send(submitPath, { method: "POST", body: JSON.stringify(input), headers: { "Content-Type": type } })).status).toBe(415);
    }
    expect((await send(submitPath, { method: "POST", body: new Blob([JSON.stringify(input)]) })).status).toBe(415); // no type at all
    expect(submitsSeen()).toBe(0);
    expect((await send("/api/fal/queue/fal-ai/flux-1/requests/job-1/cancel", { method: "PUT" })).status).toBe(200);
  });

  it("the proxy's own host (any scheme: behind a TLS terminator it sees http), and the allowed origins, are let through", async () => {
    await setUp({ allowedOrigins: ["https://app.example.com"] });
    expect((await postJson({ Origin: proxy.url })).status).toBe(200);
    expect((await postJson({ Origin: proxy.url.replace("http:", "https:") })).status).toBe(200);
    const allowed = await postJson({ Origin: "https://app.example.com" });
    expect([allowed.status, allowed.headers.get("access-control-allow-origin")]).toEqual([200, "https://app.example.com"]);
    expect(submitsSeen()).toBe(3);
  });
});

describe("authorize fails closed and judges what is forwarded", () => {
  const foreignResponse = () => ({
    // node-fetch's Response, or another realm's: not `instanceof Response` here.
    status: 403,
    statusText: "Forbidden",
    headers: new Map([["content-type", "text/plain"]]),
    arrayBuffer: async () => new TextEncoder().encode("sign in first").buffer,
  });
  it.each([
    ["'no'", () => "no"],
    ["{ allowed: false }", () => ({ allowed: false })],
    ["1", () => 1],
    ["the text 'true'", () => "true"],
    ["nothing", () => undefined],
  ])("%s refuses (401), and nothing is forwarded", async (_, verdict) => {
    await setUp({ authorize: verdict });
    expect((await postJson()).status).toBe(401);
    expect(upstream.log).toEqual([]);
  });

  it("a Response of another realm is answered as it is, not taken for a yes", async () => {
    await setUp({ authorize: foreignResponse });
    const refused = await postJson();
    expect([refused.status, await refused.text()]).toEqual([403, "sign in first"]);
    expect(upstream.log).toEqual([]);
  });

  it("a throw or a rejection (a session store that is down) refuses with 500 and a generic body: no message, no stack", async () => {
    for (const authorize of [
      () => {
        throw new Error(`session store down at redis://${key}@10.0.0.1`);
      },
      () => Promise.reject(new Error("session store down")),
    ]) {
      await setUp({ authorize });
      const answer = await postJson();
      const text = await answer.text();
      expect(answer.status).toBe(500);
      expect(text).not.toMatch(/session store|redis|at .*\.ts/);
      expect(failures).toHaveLength(1); // told to the app's onError, for its logs
    }
    expect(upstream.log).toEqual([]);
  });

  it("is told what will be forwarded: the spec's operation, the method, the fal URL, the job", async () => {
    const seen: ProxyTarget[] = [];
    await setUp({ authorize: (_request, target) => (seen.push(target), true) });
    await postJson();
    await send("/api/fal/queue/fal-ai/flux-1/requests/job-1/status?logs=1");
    await send("/api/fal/proxy", { method: "PUT", headers: { "x-fal-target-url": `${upstream.url}/fal-ai/flux-1/requests/job-1/cancel` } });
    expect(seen).toEqual([
      { operationId: "submitImageToImage", method: "POST", url: `${upstream.url}/fal-ai/flux-1/dev/image-to-image` },
      { operationId: "getQueueStatus", method: "GET", url: `${upstream.url}/fal-ai/flux-1/requests/job-1/status?logs=1`, requestId: "job-1" },
      { operationId: "cancelQueueRequest", method: "PUT", url: `${upstream.url}/fal-ai/flux-1/requests/job-1/cancel`, requestId: "job-1" },
    ]);
  });

  it("a status path whose x-fal-target-url names the submit is refused: an authorize reading the path is not bypassed", async () => {
    // Status reads cost nothing, so this app lets anyone make them, judging by the path.
    await setUp({ authorize: (request) => new URL(request.url).pathname.includes("/requests/") });
    const smuggled = await postJson({ "x-fal-target-url": `${upstream.url}/fal-ai/flux-1/dev/image-to-image` }, "/api/fal/queue/fal-ai/flux-1/requests/job-1/status");
    expect(smuggled.status).toBe(400);
    expect(submitsSeen()).toBe(0);
  });
});

describe("nothing of the key comes back", () => {
  it("not in the status text, a header or the body, in any encoding; fal's CORS and cookies are dropped, the proxy's kept", async () => {
    await setUp({ allowedOrigins: ["https://app.example.com"] });
    const answer = await send("/api/fal/queue/fal-ai/flux-1/requests/echo/status", { headers: { Origin: "https://app.example.com" } });
    const body = await answer.text();
    const lines: string[] = [];
    answer.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
    const headers = lines.join("\n");
    expect(upstream.log.at(-1)?.authorization).toBe(`Key ${key}`); // sent to fal, and echoed by it
    expect(holdsEchoedKey(`${answer.statusText}\n${headers}\n${body}`, key)).toBe(false);
    expect(answer.statusText).toBe("OK for Key [redacted]");
    expect(body).toContain("loaded [redacted]");
    expect(answer.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect([answer.headers.get("access-control-allow-credentials"), answer.headers.get("set-cookie")]).toEqual([null, null]);
  });
});

describe("every read bounded", () => {
  it("a small gzip answer that inflates far past the cap is cut at the cap, counted inflated", async () => {
    await setUp({ maxAnswerBytes: 1024 * 1024 });
    const answer = await send("/api/fal/queue/fal-ai/flux-1/requests/gzip-bomb");
    let received = 0;
    const reader = answer.body!.getReader();
    const reading = (async () => {
      for (let read = await reader.read(); !read.done; read = await reader.read()) received += read.value.byteLength;
    })();
    await expect(reading).rejects.toThrow(); // cut, never taken for a whole answer
    expect(received).toBeLessThanOrEqual(1024 * 1024);
  });

  it("the body cap counts the bytes that arrive, whatever Content-Length says", async () => {
    let forwarded = 0;
    const handler = createFalProxy({ credentials: key, queueUrl: "https://queue.fal.run", maxBodyBytes: 1_000, fetch: async () => (forwarded++, new Response("{}")) });
    const body = new Blob([JSON.stringify({ ...input, prompt: "x".repeat(5_000) })]).stream();
    const lying = new Request(`http://127.0.0.1${submitPath}`, { method: "POST", body, headers: { "Content-Type": "application/json", "Content-Length": "10" }, duplex: "half" } as RequestInit);
    expect((await handler(lying)).status).toBe(413);
    expect(forwarded).toBe(0);
  });
});

describe("redirects and fal's servers", () => {
  it("a same-host 308 to another model is passed back, not followed with the key", async () => {
    const answer = await send("/api/fal/queue/fal-ai/flux-1/requests/redirect/status", { redirect: "manual" });
    expect([answer.status, answer.headers.get("location")]).toEqual([308, redirectTarget]);
    expect(upstream.log.map((entry) => entry.path)).toEqual(["/fal-ai/flux-1/requests/redirect/status"]);
  });

  it("runUrl and queueUrl obey the client's rule: https, or plain http to this machine only", () => {
    expect(() => createFalProxy({ credentials: key, runUrl: "http://fal.example.com" })).toThrow(FluxConfigError);
    expect(() => createFalProxy({ credentials: key, queueUrl: "http://queue.example.com" })).toThrow(/refusing to send credentials to http:\/\/queue.example.com/);
    expect(() => createFalProxy({ credentials: key, runUrl: "https://fal.example.com", queueUrl: "http://127.0.0.1:4010" })).not.toThrow();
  });
});

describe("the handler always answers", () => {
  it("fal unreachable: 502; a body that breaks off: 400; fal cutting the status stream: the stream ends cleanly; a JSON answer cut: the body fails", async () => {
    const unreachable = createFalProxy({ credentials: key, queueUrl: "http://127.0.0.1:9" });
    expect((await unreachable(new Request("http://127.0.0.1/api/fal/queue/fal-ai/flux-1/requests/job-1/status"))).status).toBe(502);

    const broken = new ReadableStream({ pull: (controller) => controller.error(new Error("the client hung up")) });
    const cut = new Request(`http://127.0.0.1${submitPath}`, { method: "POST", body: broken, headers: { "Content-Type": "application/json" }, duplex: "half" } as RequestInit);
    expect((await createFalProxy({ credentials: key, queueUrl: upstream.url })(cut)).status).toBe(400);
    expect(submitsSeen()).toBe(0);

    const stream = await send("/api/fal/queue/fal-ai/flux-1/requests/cut-stream/status/stream");
    expect(await stream.text()).toBe('data: {"status":"IN_PROGRESS","request_id":"cut-stream"}\n\n');
    const json = await send("/api/fal/queue/fal-ai/flux-1/requests/cut-json");
    await expect(json.text()).rejects.toThrow();
    expect(failures.length).toBeGreaterThanOrEqual(2); // both cuts told to onError
  });
});

describe("toNodeHandler", () => {
  it("a Host no URL can hold, or an absolute URL as the target: 400; a body that stops with a hang-up: nothing forwarded; the server answers on", async () => {
    expect(await rawExchange(proxy.url, `GET /api/fal/queue/fal-ai/flux-1/requests/job-1/status HTTP/1.1\r\nHost: a:b:c\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawExchange(proxy.url, `GET http://evil.example.com/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/);
    await rawExchange(proxy.url, `POST ${submitPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"prompt":`, true);
    expect((await send("/api/fal/queue/fal-ai/flux-1/requests/job-1/status")).status).toBe(200);
    expect(submitsSeen()).toBe(0);
  });

  it("in Express, before or after express.json(), mounted under a path: the body reaches fal as sent", async () => {
    const handler = createFalProxy({ credentials: key, runUrl: upstream.url, queueUrl: upstream.url });
    for (const parseFirst of [false, true]) {
      const app = express();
      if (parseFirst) app.use(express.json());
      app.use("/api/fal", toNodeHandler(handler));
      const served = await listen(app);
      try {
        const answer = await fetch(`${served.url}${submitPath}`, { method: "POST", body: JSON.stringify(input), headers: { "Content-Type": "application/json" } });
        expect([parseFirst, answer.status, await answer.json()]).toEqual([parseFirst, 200, { request_id: "job-1" }]);
        expect(JSON.parse(upstream.log.at(-1)!.body)).toEqual(input);
      } finally {
        await served.close();
      }
    }
    expect(submitsSeen()).toBe(2);
  });
});

/** An Express app on 127.0.0.1. */
function listen(app: express.Express): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = app.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      const close = () => new Promise<void>((done) => (server.closeAllConnections(), server.close(() => done())));
      resolve({ url: `http://127.0.0.1:${port}`, close });
    });
  });
}
