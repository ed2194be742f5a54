// No redirect is followed with the key: a 3xx from the server (same origin or not) is a typed
// error naming where it pointed, without the key, and nothing is sent there.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageToImageExamples } from "../generated/endpoints.js";
import { createFluxClient, FluxApiError, FluxRedirectError } from "../src/index.js";
import { startLocalServer, type LocalServer } from "./support/local-server.js";

const key = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f:0123456789abcdef0123456789abcdef";
const input = imageToImageExamples["seed-example"];
/** Another model on the same host, past the routes the client was given; with the key in its query, as a hostile server might echo it. */
const elsewhere = `/fal-ai/flux-pro/v1.1/requests/x/status?debug=${encodeURIComponent(key)}`;

let server: LocalServer & { paths: string[] };

beforeAll(async () => {
  const paths: string[] = [];
  const local = await startLocalServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    if (req.url!.startsWith("/fal-ai/flux-pro")) return void res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    res.writeHead(308, { Location: elsewhere }).end();
  });
  server = Object.assign(local, { paths });
});
afterAll(() => server.close());

describe("a 308 to another route of the same host", () => {
  const client = () => createFluxClient({ credentials: key, baseUrl: server.url, queueUrl: server.url, retry: false });
  it.each([
    ["the sync call", (c: ReturnType<typeof client>) => c.imageToImage(input)],
    ["the submit", (c: ReturnType<typeof client>) => c.queue.submit(input)],
    ["a status", (c: ReturnType<typeof client>) => c.queue.status("job-1")],
    ["a result", (c: ReturnType<typeof client>) => c.queue.result("job-1")],
    ["a cancel", (c: ReturnType<typeof client>) => c.queue.cancel("job-1")],
    ["subscribe (its stream, then polling)", (c: ReturnType<typeof client>) => c.subscribe(input, { pollIntervalMs: 1 })],
  ])("%s: a FluxRedirectError naming where, and nothing sent there", async (_, call) => {
    server.paths.length = 0;
    const error = (await call(client()).catch((e: unknown) => e)) as FluxRedirectError;
    expect(error).toBeInstanceOf(FluxRedirectError);
    expect(error).toBeInstanceOf(FluxApiError); // caught where any refusal of fal's is
    expect([error.status, error.retryable]).toEqual([308, false]);
    expect(error.location).toBe("/fal-ai/flux-pro/v1.1/requests/x/status?debug=[redacted]");
    expect(error.message).toContain("a redirect to /fal-ai/flux-pro/v1.1/requests/x/status");
    expect(`${error.message}${error.stack}${JSON.stringify(error)}`).not.toContain(encodeURIComponent(key));
    expect(server.paths.filter((path) => path.includes("flux-pro"))).toEqual([]);
  });

  it("raw (openapi-fetch) gets the 308 itself, unfollowed", async () => {
    server.paths.length = 0;
    const { response } = await client().raw.POST("/fal-ai/flux-1/dev/image-to-image", { body: input });
    expect(response.status).toBe(308);
    expect(server.paths).toEqual(["POST /fal-ai/flux-1/dev/image-to-image"]);
  });
});
