// In Chromium (vitest's browser mode): the client, its status stream, an abort that cancels, fal's
// own client, and verifyWebhook's WebCrypto, each through flux-i2i/proxy to local stand-ins for
// fal. The page holds no key: only the proxy's reaches fal.
import { createFalClient } from "@fal-ai/client";
import { describe, expect, inject, it } from "vitest";
import { commands } from "vitest/browser";
import { imageToImageExamples } from "../../generated/endpoints.js";
import { createFluxClient, verifyWebhook, type QueueStatus } from "../../src/index.js";
import { defaultStreamDrainMs } from "../../src/queue/client.js";

const proxyUrl = inject("proxyUrl");
const input = imageToImageExamples["seed-example"];
const client = () => createFluxClient({ baseUrl: `${proxyUrl}/api/fal/run`, queueUrl: `${proxyUrl}/api/fal/queue` });
const queueLog = () => (commands as unknown as { queueLog(): Promise<{ route: string; authorization?: string }[]> }).queueLog();
const storageLog = () => (commands as unknown as { storageLog(): Promise<{ method: string; authorization?: string; contentType?: string }[]> }).storageLog();

describe("in a real browser, through the proxy", () => {
  it("runs in Chromium, with WebCrypto and no Node; a finished status stream is cut, not drained (six connections a host)", () => {
    expect(navigator.userAgent).toContain("Chrome");
    expect(typeof (globalThis as { process?: unknown }).process).toBe("undefined");
    expect(defaultStreamDrainMs()).toBe(0);
  });

  it("imageToImage: the spec's output, the request id readable through CORS", async () => {
    const output = await client().imageToImage(input);
    expect(output.images.length).toBeGreaterThan(0);
  });

  it("subscribe: the status event stream with onQueueUpdate, then the output; fal saw only the proxy's key", async () => {
    const statuses: QueueStatus["status"][] = [];
    const output = await client().subscribe(input, { onQueueUpdate: (status) => statuses.push(status.status) });
    expect(output.images).toHaveLength(1);
    expect(statuses.at(-1)).toBe("COMPLETED");
    const log = await queueLog();
    expect(log.some((entry) => entry.route === "stream")).toBe(true);
    expect(log.every((entry) => entry.authorization === "Key browser-tier-key-id:browser-tier-secret-0123456789")).toBe(true);
  });

  it("an abort cancels the job on fal's side", async () => {
    const controller = new AbortController();
    const running = client()
      // Aborted the moment fal has the job, whatever state a busy machine lets it reach: never a race.
      .subscribe(input, { signal: controller.signal, onEnqueue: () => controller.abort(new Error("left the page")) })
      .catch((error: unknown) => error);
    expect(((await running) as Error).message).toBe("left the page");
    expect((await queueLog()).some((entry) => entry.route === "cancel")).toBe(true);
  });

  it("fal's own client with proxyUrl: subscribe through the same route", async () => {
    const fal = createFalClient({ proxyUrl: `${proxyUrl}/api/fal/proxy` });
    const { data } = await fal.subscribe("fal-ai/flux-1/dev/image-to-image", { input, mode: "polling", pollInterval: 20 });
    expect((data as { images: unknown[] }).images).toHaveLength(1);
  });

  it("fal's own client with proxyUrl uploads a Blob input: the initiate call through the proxy with its key, the bytes PUT to the signed URL with none", async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7, 7]);
    const fal = createFalClient({ proxyUrl: `${proxyUrl}/api/fal/proxy` });
    const { data } = await fal.subscribe("fal-ai/flux-1/dev/image-to-image", { input: { ...input, image_url: new Blob([png], { type: "image/png" }) }, mode: "polling", pollInterval: 20 });
    expect((data as { images: unknown[] }).images).toHaveLength(1);
    const log = await storageLog();
    const initiate = log.find((entry) => entry.method === "POST");
    const put = log.find((entry) => entry.method === "PUT");
    expect(initiate?.authorization).toBe("Key browser-tier-key-id:browser-tier-secret-0123456789");
    expect(put?.contentType).toBe("image/png");
    expect(put?.authorization).toBeUndefined(); // a signed URL: fal's client sends it no key, and the page has none
  });

  it("verifyWebhook with the browser's WebCrypto: a webhook signed here verifies, a tampered one does not", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const body = '{"request_id":"req-1","gateway_request_id":"req-1","status":"ERROR","error":"x","payload":null}';
    const timestamp = String(Math.floor(Date.now() / 1000));
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body))), (b) => b.toString(16).padStart(2, "0")).join("");
    const message = new TextEncoder().encode(`req-1\nuser-1\n${timestamp}\n${digest}`);
    const signature = Array.from(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, message)), (b) => b.toString(16).padStart(2, "0")).join("");
    const headers = { "x-fal-webhook-request-id": "req-1", "x-fal-webhook-user-id": "user-1", "x-fal-webhook-timestamp": timestamp, "x-fal-webhook-signature": signature };
    const jwks = { keys: [{ kty: "OKP", crv: "Ed25519", x: jwk.x! }] };
    await expect(verifyWebhook(body, headers, { jwks, userId: "user-1" })).resolves.toMatchObject({ verified: { requestId: "req-1" } });
    await expect(verifyWebhook(body.replace("ERROR", "OK"), headers, { jwks })).rejects.toMatchObject({ reason: expect.stringMatching(/bad-signature|bad-body/) });
  });
});
