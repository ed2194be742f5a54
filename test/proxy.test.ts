// The README's server-proxy pattern: a browser-side client with no key, a server route that adds
// the key, and fal's queue (the local fake) behind it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { imageToImageExamples } from "../generated/spec.js";
import { createFluxClient } from "../src/index.js";
import { startFakeQueue, type FakeQueue } from "./support/fake-queue.js";

let fake: FakeQueue;
let proxy: Server;
let proxyUrl: string;

beforeAll(async () => {
  fake = await startFakeQueue({ closeAfterCompletedMs: 2_000 });
  const upstream = { run: "http://127.0.0.1:9", queue: fake.url } as const;
  const serverKey = "server-side-key";

  // The README's handler, with the fake standing in for queue.fal.run.
  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const [, , , kind, ...rest] = url.pathname.split("/");
    const path = `/${rest.join("/")}`;
    if (!(kind === "run" || kind === "queue") || !path.startsWith("/fal-ai/flux-1/")) {
      return new Response("not found", { status: 404 });
    }
    return fetch(upstream[kind] + path + url.search, {
      method: request.method,
      headers: {
        Authorization: `Key ${serverKey}`,
        "Content-Type": "application/json",
        Accept: request.headers.get("Accept") ?? "application/json",
      },
      body: request.method === "POST" ? await request.text() : undefined,
    });
  }

  // A minimal Node adapter for the fetch-style handler, streaming the answer through.
  proxy = createServer(async (req, res) => {
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : (Readable.toWeb(req) as ReadableStream);
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body,
      duplex: "half",
    } as RequestInit);
    const response = await handle(request);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    res.writeHead(response.status, headers);
    // The browser closes the status stream once it has COMPLETED: stop reading upstream too.
    if (response.body) await pipeline(Readable.fromWeb(response.body as never), res).catch(() => undefined);
    else res.end();
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise((resolve) => proxy.close(resolve));
  await fake.close();
});

it("a keyless client subscribes through the proxy; only the proxy's key reaches fal, and the stream passes through", async () => {
  for (const name of ["FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"]) vi.stubEnv(name, undefined);
  try {
    const browser = createFluxClient({ baseUrl: `${proxyUrl}/api/fal/run`, queueUrl: `${proxyUrl}/api/fal/queue` });
    const statuses: string[] = [];
    const output = await browser.subscribe(imageToImageExamples["seed-example"], {
      onQueueUpdate: (status) => statuses.push(status.status),
    });
    expect(output.images).toHaveLength(1);
    expect(statuses.at(-1)).toBe("COMPLETED");
    // Submit, stream, result: the stream was followed through the proxy, not replaced by polling.
    expect(fake.log.map((entry) => entry.route)).toEqual(["submit", "stream", "result"]);
    expect(fake.log.every((entry) => entry.headers.authorization === "Key server-side-key")).toBe(true);
  } finally {
    vi.unstubAllEnvs();
  }
});
