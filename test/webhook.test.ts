// verifyWebhook with a real ED25519 key pair made here, signing the way fal documents, and the
// JWKS cache against a local server.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookVerification } from "../generated/spec.js";
import { createJwksCache, FluxWebhookError, stringifyExact, verifyWebhook, type Jwks } from "../src/index.js";
import { startLocalServer } from "./support/local-server.js";
import { queueSpec } from "./support/spec.js";

const body = `{"request_id":"req-1","gateway_request_id":"req-1","status":"OK","payload":{"images":[{"url":"https://v3.fal.media/files/a.jpeg"}],"timings":{},"seed":15860307465884635512,"has_nsfw_concepts":[false],"prompt":"p"}}`;
const now = Date.parse("2026-11-24T18:00:00Z");
const timestamp = String(now / 1000);

let jwks: Jwks;
let privateKey: CryptoKey;
let otherJwks: Jwks;

beforeAll(async () => {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const other = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  privateKey = pair.privateKey;
  const publicJwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const otherJwk = await crypto.subtle.exportKey("jwk", other.publicKey);
  otherJwks = { keys: [{ kty: "OKP", crv: "Ed25519", x: otherJwk.x! }] };
  jwks = { keys: [otherJwks.keys[0]!, { kty: "OKP", crv: "Ed25519", x: publicJwk.x!, kid: "fal-1" }] };
});

/** Headers as fal sends them, signed over request id, user id, timestamp and sha256(body). */
async function signed(raw: string, overrides: Record<string, string> = {}) {
  const fields = { requestId: "req-1", userId: "user-1", timestamp, ...overrides };
  const digest = createHash("sha256").update(raw).digest("hex");
  const message = new TextEncoder().encode(`${fields.requestId}\n${fields.userId}\n${fields.timestamp}\n${digest}`);
  const signature = Buffer.from(await crypto.subtle.sign({ name: "Ed25519" }, privateKey, message)).toString("hex");
  return {
    "x-fal-webhook-request-id": fields.requestId,
    "x-fal-webhook-user-id": fields.userId,
    "x-fal-webhook-timestamp": fields.timestamp,
    "x-fal-webhook-signature": overrides.signature ?? signature,
  };
}

async function reason(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FluxWebhookError);
  return (error as FluxWebhookError).reason;
}

describe("verifyWebhook", () => {
  it("accepts fal's signature (any key of the set) and returns the typed payload, seed exact", async () => {
    const payload = await verifyWebhook(body, await signed(body), { jwks, now });
    expect(payload.status).toBe("OK");
    expect(payload.request_id).toBe("req-1");
    expect(payload.payload && "seed" in payload.payload && payload.payload.seed).toBe(15860307465884635512n);
  });

  it("takes fetch Headers, Node's header object and bytes alike", async () => {
    const headers = await signed(body);
    await expect(verifyWebhook(new TextEncoder().encode(body), new Headers(headers), { jwks, now })).resolves.toHaveProperty("status", "OK");
    const nodeStyle = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
    await expect(verifyWebhook(Buffer.from(body), nodeStyle, { jwks: async () => jwks, now })).resolves.toHaveProperty("status", "OK");
  });

  it("refuses a body changed after signing, even by one byte", async () => {
    expect(await reason(verifyWebhook(body.replace("5512", "5513"), await signed(body), { jwks, now }))).toBe("bad-signature");
  });

  it("refuses a signature by a key not in the set, and a signature that is not hex", async () => {
    expect(await reason(verifyWebhook(body, await signed(body), { jwks: otherJwks, now }))).toBe("bad-signature");
    expect(await reason(verifyWebhook(body, await signed(body, { signature: "zz" }), { jwks, now }))).toBe("bad-signature");
  });

  it("a malformed key in the set does not stop the others from verifying", async () => {
    const withBadKey = { keys: [{ kty: "OKP", crv: "Ed25519", x: "not-a-key" }, ...jwks.keys] };
    await expect(verifyWebhook(body, await signed(body), { jwks: withBadKey, now })).resolves.toHaveProperty("status", "OK");
  });

  it("refuses a signed header changed (another user id)", async () => {
    const headers = { ...(await signed(body)), "x-fal-webhook-user-id": "someone-else" };
    expect(await reason(verifyWebhook(body, headers, { jwks, now }))).toBe("bad-signature");
  });

  it(`accepts a timestamp up to ${webhookVerification.timestampToleranceSeconds} s away, and refuses one further`, async () => {
    const tolerance = webhookVerification.timestampToleranceSeconds;
    for (const skew of [-tolerance, tolerance]) {
      const ts = String(now / 1000 + skew);
      await expect(verifyWebhook(body, await signed(body, { timestamp: ts }), { jwks, now })).resolves.toBeTruthy();
    }
    for (const skew of [-tolerance - 1, tolerance + 1]) {
      const ts = String(now / 1000 + skew);
      expect(await reason(verifyWebhook(body, await signed(body, { timestamp: ts }), { jwks, now }))).toBe("stale-timestamp");
    }
  });

  it("for your account only: another user's job, signed by fal, is refused with userId; the verified ids come back", async () => {
    const mine = await verifyWebhook(body, await signed(body), { jwks, now, userId: "user-1" });
    expect(mine.verified).toEqual({ userId: "user-1", requestId: "req-1", timestamp: now / 1000 });
    const theirs = verifyWebhook(body, await signed(body, { userId: "attacker-7" }), { jwks, now, userId: "user-1" });
    expect(await reason(theirs)).toBe("wrong-user");
  });

  it("for your requests only: isKnownRequest refuses a request id you did not submit", async () => {
    const known = new Set(["req-1"]);
    await expect(verifyWebhook(body, await signed(body), { jwks, now, isKnownRequest: (id) => known.has(id) })).resolves.toBeTruthy();
    known.clear();
    expect(await reason(verifyWebhook(body, await signed(body), { jwks, now, isKnownRequest: async (id) => known.has(id) }))).toBe(
      "unknown-request",
    );
  });

  it("the signed header's request id must be the body's: a signed webhook of one job cannot carry another's body", async () => {
    expect(await reason(verifyWebhook(body, await signed(body, { requestId: "req-2" }), { jwks, now }))).toBe("request-offSpecAnswer");
  });

  it("a key rotated since the copy was made: one refresh of the set, then the signature verifies", async () => {
    const asked: boolean[] = [];
    const source = async ({ refresh = false } = {}) => (asked.push(refresh), refresh ? jwks : otherJwks);
    await expect(verifyWebhook(body, await signed(body), { jwks: source, now })).resolves.toBeTruthy();
    expect(asked).toEqual([false, true]);
  });

  it("names a missing header; refuses an empty key set and a signed body that breaks the schema", async () => {
    const { "x-fal-webhook-signature": _, ...unsigned } = await signed(body);
    const error = await verifyWebhook(body, unsigned, { jwks, now }).catch((e: FluxWebhookError) => e);
    expect(error).toMatchObject({ reason: "missing-header", message: "webhook: no X-Fal-Webhook-Signature header" });
    expect(await reason(verifyWebhook(body, await signed(body), { jwks: { keys: [] }, now }))).toBe("no-key");
    const wrong = '{"request_id":"req-1","status":"MAYBE"}';
    expect(await reason(verifyWebhook(wrong, await signed(wrong), { jwks, now }))).toBe("bad-body");
  });
});

describe("the spec's webhook examples", () => {
  const examples = Object.entries<{ value: unknown }>(
    queueSpec.webhooks.imageToImageCompleted.post.requestBody.content["application/json"].examples,
  );

  it.each(examples)("%s, signed as fal signs, verifies and comes back as sent", async (_, { value }) => {
    const raw = JSON.stringify(value);
    const requestId = (value as { request_id: string }).request_id;
    const { verified, ...payload } = await verifyWebhook(raw, await signed(raw, { requestId }), { jwks, now });
    expect(verified).toEqual({ userId: "user-1", requestId, timestamp: now / 1000 });
    // Through stringifyExact and back, a bigint seed becomes the same double the YAML gave.
    expect(JSON.parse(stringifyExact(payload))).toEqual(value);
    expect(examples.map(([name]) => name)).toEqual(["ok", "error"]);
  });
});

describe("createJwksCache", () => {
  let requests = 0;
  let fail = false;
  let server: Awaited<ReturnType<typeof startLocalServer>>;
  beforeAll(async () => {
    server = await startLocalServer((_req, res) => {
      requests++;
      if (fail) res.writeHead(503).end();
      else res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(jwks));
    });
  });
  afterAll(() => server.close());

  it("fetches once and keeps the set; a failed fetch is kept only for retryAfterFailureSeconds", async () => {
    const cached = createJwksCache({ url: `${server.url}/.well-known/jwks.json` });
    expect(await cached()).toEqual(jwks);
    await cached();
    expect(requests).toBe(1);

    fail = true;
    const expired = createJwksCache({ url: server.url, maxAgeSeconds: 0, retryAfterFailureSeconds: 0 });
    await expect(expired()).rejects.toMatchObject({ reason: "no-key" });
    fail = false;
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(await expired()).toEqual(jwks);
  });

  it("a set with no usable key, an answer that is no JWKS, a fetch that fails: a typed no-key error, the set fetched again after the wait", async () => {
    const answers = ['{"keys":[]}', "<html>maintenance</html>", '{"keys":"x"}', JSON.stringify(jwks)];
    let fetched = 0;
    const cached = createJwksCache({ fetch: async () => new Response(answers[fetched++]), retryAfterFailureSeconds: 0 });
    for (let i = 0; i < 3; i++) {
      await expect(cached()).rejects.toMatchObject({ name: "FluxWebhookError", reason: "no-key" });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(await cached()).toEqual(jwks);
    expect(fetched).toBe(4);
    const unreachable = createJwksCache({ fetch: async () => Promise.reject(new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } })) });
    await expect(unreachable()).rejects.toMatchObject({ name: "FluxWebhookError", reason: "no-key", message: expect.stringContaining("ECONNREFUSED") });
  });

  it("a JWKS host that never answers: the webhook fails with no-key after timeoutMs, not never", async () => {
    const silent = await startLocalServer(() => undefined); // takes the request, never answers
    try {
      const cached = createJwksCache({ url: silent.url, timeoutMs: 200 });
      const signedHeaders = await signed(body);
      await expect(verifyWebhook(body, signedHeaders, { jwks: cached, now })).rejects.toMatchObject({ reason: "no-key", message: expect.stringContaining("no answer within 200 ms") });
    } finally {
      await silent.close();
    }
  });

  it("while the host fails, 50 forged webhooks cost one fetch; the keys held survive a refresh that fails", async () => {
    let fetched = 0;
    let down = true;
    const source = async () => (fetched++, down ? new Response("", { status: 503 }) : new Response(JSON.stringify(jwks)));
    const failing = createJwksCache({ fetch: source });
    const forged = { ...(await signed(body)), "x-fal-webhook-signature": "ab".repeat(64) };
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => verifyWebhook(body, forged, { jwks: failing, now }).catch((e: FluxWebhookError) => e.reason)));
    expect(new Set(outcomes)).toEqual(new Set(["no-key"]));
    expect(fetched).toBe(1);

    down = false;
    fetched = 0;
    const held = createJwksCache({ fetch: source, minRefreshSeconds: 0 });
    expect(await held()).toEqual(jwks);
    down = true;
    // A forgery asks for a refresh; it fails, and the next ones wait: a genuine webhook is still verified by the keys held.
    for (let i = 0; i < 50; i++) await expect(verifyWebhook(body, forged, { jwks: held, now })).rejects.toMatchObject({ reason: "bad-signature" });
    expect(fetched).toBe(2);
    await expect(verifyWebhook(body, await signed(body), { jwks: held, now })).resolves.toMatchObject({ request_id: "req-1" });
  });

  it("refreshes when asked, at most once per minRefreshSeconds", async () => {
    let fetched = 0;
    const cached = createJwksCache({ fetch: async () => (fetched++, new Response(JSON.stringify(jwks))), minRefreshSeconds: 3600 });
    await cached();
    await cached({ refresh: true });
    expect(fetched).toBe(1); // a refresh right after a fetch is refused: a flood of forged webhooks costs one fetch
    const eager = createJwksCache({ fetch: async () => (fetched++, new Response(JSON.stringify(jwks))), minRefreshSeconds: 0 });
    await eager();
    await eager({ refresh: true });
    expect(fetched).toBe(3);
  });

  it("only over https (plain http to loopback alone)", () => {
    expect(() => createJwksCache({ url: "http://keys.example.com/jwks.json" })).toThrow(/must come over https/);
    expect(() => createJwksCache({ url: "http://127.0.0.1:1/jwks.json" })).not.toThrow();
  });

  it(`defaults to fal's JWKS URL and a ${webhookVerification.jwksMaxAgeSeconds} s lifetime, from the spec`, async () => {
    const urls: string[] = [];
    const cached = createJwksCache({
      fetch: async (url) => (urls.push(String(url)), new Response(JSON.stringify(jwks))),
    });
    await cached();
    expect(urls).toEqual([webhookVerification.jwksUrl]);
    // fal's REST host as its clients use it now (fal-js libs/client/src/config.ts getRestApiUrl), not the older rest.alpha.fal.ai.
    expect(new URL(urls[0]!).host).toBe("rest.fal.ai");
  });
});
