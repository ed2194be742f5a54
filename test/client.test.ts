// The facade with a fake fetch (what it sends, what it refuses to send) and against a real local
// server that misbehaves (what it throws).
import { inspect } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { imageToImageExamples } from "../generated/endpoints.js";
import {
  createFluxClient,
  FluxApiError,
  FluxConfigError,
  FluxNetworkError,
  FluxResponseError,
  FluxTimeoutError,
  FluxValidationError,
  type FetchLike,
  type ImageToImageInput,
} from "../src/index.js";
import { constraintCases } from "./support/constraint-cases.js";
import { startLocalServer, type LocalServer } from "./support/local-server.js";
import { declaredResponse, firstExample } from "./support/spec.js";

const input = imageToImageExamples["seed-example"];
const okBody = firstExample(200);
const secret = "key-id-1234:SECRET-abcdef-0987";

/** A fetch that counts its calls and answers 200 with the spec's example. */
function countingFetch() {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url: String(url), init: init! });
    return new Response(JSON.stringify(okBody), { headers: { "Content-Type": "application/json", "x-fal-request-id": "r-1" } });
  };
  return { calls, fetch };
}

const envKeys = ["FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"] as const;

/** Runs with exactly these fal variables set, then puts the old ones back. */
function withEnv(env: Partial<Record<(typeof envKeys)[number], string>>, run: () => void) {
  for (const key of envKeys) vi.stubEnv(key, env[key]);
  try {
    run();
  } finally {
    vi.unstubAllEnvs();
  }
}

describe("validation before any network I/O", () => {
  const invalid = constraintCases().filter((c) => c.rule !== undefined);

  it.each(invalid.map((c) => [c.name, c] as const))("%s: throws FluxValidationError and sends nothing", async (_, c) => {
    const { calls, fetch } = countingFetch();
    const client = createFluxClient({ credentials: secret, fetch });
    const snapshot = structuredClone(c.body);
    const error = await client.imageToImage(c.body as ImageToImageInput).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxValidationError);
    expect((error as FluxValidationError).issues).toContainEqual(expect.objectContaining({ field: c.field, rule: c.rule }));
    expect(calls).toHaveLength(0);
    expect(c.body).toEqual(snapshot); // nothing the user had is changed
  });

  it("lists every bad field with the rule it broke", async () => {
    const { calls, fetch } = countingFetch();
    const client = createFluxClient({ credentials: secret, fetch });
    const bad = { ...input, num_images: 5, strength: "high", num_image: 2 } as unknown as ImageToImageInput;
    const error = (await client.imageToImage(bad).catch((e: unknown) => e)) as FluxValidationError;
    expect(error.message).toContain("num_images: must be <= 4, got 5");
    expect(error.message).toContain('strength: must be number, got "high"');
    expect(error.message).toContain("num_image: is not a parameter of this endpoint (did you mean num_images?)");
    expect(error.issues.map((i) => i.rule).sort()).toEqual(["additionalProperties", "maximum", "type"]);
    expect(calls).toHaveLength(0);
  });

  it.each(["/home/me/cat.png", "file:///home/me/cat.png", "cat.png"])("image_url %s is refused with a hint", async (url) => {
    const { calls, fetch } = countingFetch();
    const error = (await createFluxClient({ credentials: secret, fetch })
      .imageToImage({ ...input, image_url: url })
      .catch((e: unknown) => e)) as FluxValidationError;
    expect(error.issues[0]).toMatchObject({ field: "image_url", rule: "pattern" });
    expect(error.message).toContain("send it as a data: URI");
    expect(calls).toHaveLength(0);
  });

  it("a valid input is sent once, as JSON, with the key in the Authorization header only", async () => {
    const { calls, fetch } = countingFetch();
    const output = await createFluxClient({ credentials: secret, fetch }).imageToImage(input);
    expect(output).toEqual(okBody);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.url).toBe("https://fal.run/fal-ai/flux-1/dev/image-to-image");
    expect(call!.url).not.toContain(secret);
    expect(call!.init.method).toBe("POST");
    expect(JSON.parse(String(call!.init.body))).toEqual(input);
    expect(new Headers(call!.init.headers).get("Authorization")).toBe(`Key ${secret}`);
  });

  it("fal's platform options go out as its headers on a sync call too; bad ones are refused before sending", async () => {
    const { calls, fetch } = countingFetch();
    const client = createFluxClient({ credentials: secret, fetch });
    await client.imageToImage(input, { startTimeoutSeconds: 2.5, runnerHint: "lora-7", mediaExpirationSeconds: null, storePayloads: false });
    const sent: [string, string][] = [];
    new Headers(calls[0]!.init.headers).forEach((value, name) => void (name.startsWith("x-fal-") && sent.push([name, value])));
    expect(sent).toEqual([
      ["x-fal-object-lifecycle-preference", '{"expiration_duration_seconds":null}'],
      ["x-fal-request-timeout", "2.5"],
      ["x-fal-runner-hint", "lora-7"],
      ["x-fal-store-io", "0"],
    ]);
    const error = (await client.imageToImage({ ...input, strength: 2 }, { startTimeoutSeconds: -1 }).catch((e: unknown) => e)) as FluxValidationError;
    expect(error.issues.map((i) => [i.field, i.rule])).toEqual([
      ["strength", "maximum"],
      ["startTimeoutSeconds", "exclusiveMinimum"],
    ]);
    expect(calls).toHaveLength(1);
  });
});

describe("what is checked is what is sent", () => {
  it("a toJSON that changes the body: the bytes it makes are checked, and refused", async () => {
    const { calls, fetch } = countingFetch();
    const sneaky = Object.defineProperty({ ...input }, "toJSON", { value: () => ({ ...input, num_images: 9 }), enumerable: false });
    const error = (await createFluxClient({ credentials: secret, fetch }).imageToImage(sneaky).catch((e: unknown) => e)) as FluxValidationError;
    expect(error).toBeInstanceOf(FluxValidationError);
    expect(error.issues.map((i) => [i.field, i.rule])).toEqual([["num_images", "maximum"]]);
    expect(calls).toHaveLength(0);
  });

  it("a function or symbol JSON would silently leave out is refused, naming its field: the call does not go out without it", async () => {
    const { calls, fetch } = countingFetch();
    const client = createFluxClient({ credentials: secret, fetch });
    const error = (await client.imageToImage({ ...input, num_images: (() => 1) as never }).catch((e: unknown) => e)) as FluxValidationError;
    expect(error).toBeInstanceOf(FluxValidationError);
    expect(error.issues).toEqual([{ field: "num_images", rule: "type", message: "must be a JSON value, got a function (JSON would leave it out)", params: { type: "function" } }]);
    const nested = (await client.queue.submit({ ...input, loras: [{ path: Symbol("x") }] } as never).catch((e: unknown) => e)) as FluxValidationError;
    expect(nested.issues[0]).toMatchObject({ field: "loras[0].path", rule: "type" });
    expect(calls).toHaveLength(0);
  });

  it("an inherited property is not sent, so it is not judged: the bytes are", async () => {
    const { calls, fetch } = countingFetch();
    const child = Object.assign(Object.create({ num_images: 9 }) as object, input) as ImageToImageInput;
    await createFluxClient({ credentials: secret, fetch }).imageToImage(child);
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual(input);
  });

  it("a value that cannot be written as JSON is a FluxValidationError, not a TypeError from deep inside", async () => {
    const { calls, fetch } = countingFetch();
    const client = createFluxClient({ credentials: secret, fetch });
    const throwing = Object.defineProperty({ ...input }, "prompt", { get: () => { throw new Error("boom"); }, enumerable: true });
    const cyclic: Record<string, unknown> = { ...input };
    cyclic.image_url = { self: cyclic };
    for (const bad of [throwing, cyclic, () => input]) {
      const error = await client.imageToImage(bad as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FluxValidationError);
    }
    const submitError = await client.queue.submit(cyclic as never).catch((e: unknown) => e);
    expect(submitError).toBeInstanceOf(FluxValidationError);
    expect((submitError as FluxValidationError).issues[0]).toMatchObject({ field: "(input)", rule: "type" });
    expect(calls).toHaveLength(0);
  });
});

describe("credentials", () => {
  it("createFluxClient reads the key once for both its halves, and wraps the fetch once: each request seen once by the hooks", async () => {
    let reads = 0;
    const seen: string[] = [];
    const { fetch } = countingFetch();
    const client = createFluxClient({
      get credentials() {
        reads++;
        return secret;
      },
      fetch,
      onRequest: (request) => void seen.push(request.url),
    });
    expect(reads).toBe(1);
    await client.imageToImage(input);
    expect(seen).toEqual(["https://fal.run/fal-ai/flux-1/dev/image-to-image"]);
  });

  /** The Authorization header a client made with these options (and env) sends. */
  const authOf = async (options: Parameters<typeof createFluxClient>[0], env: Parameters<typeof withEnv>[0] = {}) => {
    const { calls, fetch } = countingFetch();
    let client!: ReturnType<typeof createFluxClient>;
    withEnv(env, () => (client = createFluxClient({ ...options, fetch })));
    await client.imageToImage(input);
    return new Headers(calls[0]!.init.headers).get("Authorization");
  };

  it("reads FAL_KEY, else FAL_KEY_ID + FAL_KEY_SECRET; an explicit key wins", async () => {
    expect(await authOf({}, { FAL_KEY: "from-env" })).toBe("Key from-env");
    expect(await authOf({}, { FAL_KEY_ID: "id", FAL_KEY_SECRET: "secret" })).toBe("Key id:secret");
    expect(await authOf({ credentials: "explicit" }, { FAL_KEY: "from-env" })).toBe("Key explicit");
    expect(await authOf({}, {})).toBeNull();
  });

  it("sends Bearer when asked, and trims a key read with its newline", async () => {
    expect(await authOf({ credentials: "abc\n", authScheme: "Bearer" })).toBe("Bearer abc");
  });

  it("refuses a key no header can carry without quoting it", () => {
    const call = () => createFluxClient({ credentials: "SECRET-part one" });
    expect(call).toThrow(FluxConfigError);
    expect(call).toThrow(/position 12/);
    try {
      call();
    } catch (error) {
      expect(String(error)).not.toContain("SECRET");
    }
  });

  it("refuses a base URL that is not an absolute URL", () => {
    expect(() => createFluxClient({ baseUrl: "fal.run" })).toThrow(/baseUrl is not an absolute URL/);
  });

  it("refuses to send a key over plain http, except to loopback", () => {
    expect(() => createFluxClient({ credentials: secret, baseUrl: "http://fal.example.com" })).toThrow(FluxConfigError);
    for (const baseUrl of ["http://127.0.0.1:4010", "http://127.3.2.1", "http://localhost:1", "http://[::1]:2", "https://gateway.example.com"]) {
      expect(createFluxClient({ credentials: secret, baseUrl }).baseUrl).toBe(baseUrl);
    }
  });

  it("loopback is an address, not a name that starts like one: 127.evil.com and 127.0.0.1.nip.io get no key over http", () => {
    for (const host of ["127.evil.com", "127.0.0.1.nip.io", "localhost.evil.com", "127.0.0.1.evil", "[::2]"]) {
      for (const option of ["baseUrl", "queueUrl"] as const) {
        expect(() => createFluxClient({ credentials: secret, [option]: `http://${host}:4010` }), `${option} ${host}`).toThrow(
          /refusing to send credentials/,
        );
      }
    }
  });

  it("a base URL with a user name or password is refused without quoting them", () => {
    for (const option of ["baseUrl", "queueUrl"] as const) {
      const error = (() => {
        try {
          createFluxClient({ credentials: secret, [option]: "https://alice:hunter2@gateway.example.com" });
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error).toBeInstanceOf(FluxConfigError);
      expect(error!.message).toContain(`${option} must not carry a user name or password`);
      expect(error!.message).not.toMatch(/alice|hunter2/);
    }
  });
});

/** The misbehaving server of the test that runs: closed after it. */
let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("against a real local server that misbehaves: its answers", () => {
  it("an error answer that echoes the key never shows it: message, toString, JSON, inspect", async () => {
    server = await startLocalServer((req, res) => {
      res.writeHead(401, { "Content-Type": "application/json", "x-fal-request-id": "req-401" });
      res.end(JSON.stringify({ detail: `No user found for ${req.headers.authorization}` }));
    });
    const client = createFluxClient({ credentials: secret, baseUrl: server.url });
    const error = (await client.imageToImage(input).catch((e: unknown) => e)) as FluxApiError;
    expect(server.requests[0]!.headers.authorization).toBe(`Key ${secret}`); // it was sent, and echoed
    expect(error).toBeInstanceOf(FluxApiError);
    expect(error.requestId).toBe("req-401");
    for (const text of [error.message, String(error), JSON.stringify(error), inspect(error, { depth: 5 }), inspect(client, { depth: 5 })]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain("SECRET");
    }
    expect(error.message).toContain("[redacted]");
  });

  it("a non-JSON error page keeps its text as the body", async () => {
    server = await startLocalServer((_, res) => {
      res.writeHead(502, { "Content-Type": "text/html" });
      res.end("<html>Bad Gateway</html>");
    });
    const error = (await createFluxClient({ credentials: secret, baseUrl: server.url })
      .imageToImage(input)
      .catch((e: unknown) => e)) as FluxApiError;
    expect(error).toMatchObject({ status: 502, body: "<html>Bad Gateway</html>", retryable: true, errorType: undefined });
  });

  it.each([
    ["a JSON body that is not fal's shape", 503, '{"message":"upstream unavailable"}', "upstream unavailable"],
    ["a JSON null", 500, "null", "null"],
    ["an empty body", 504, "", "no body"],
  ])("an error answer with %s still becomes a FluxApiError", async (_, status, text, shown) => {
    server = await startLocalServer((__, res) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(text);
    });
    const error = (await createFluxClient({ credentials: secret, baseUrl: server.url })
      .imageToImage(input)
      .catch((e: unknown) => e)) as FluxApiError;
    expect(error).toBeInstanceOf(FluxApiError);
    expect(error.status).toBe(status);
    expect(error.message).toContain(shown);
    expect(error.details).toEqual([]);
  });

  it("an empty 200 is a FluxResponseError about the body", async () => {
    server = await startLocalServer((__, res) => {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "0" });
      res.end();
    });
    const error = (await createFluxClient({ credentials: secret, baseUrl: server.url })
      .imageToImage(input)
      .catch((e: unknown) => e)) as FluxResponseError;
    expect(error).toBeInstanceOf(FluxResponseError);
    expect(error.issues[0]).toMatchObject({ field: "(body)", rule: "type" });
  });

  it("X-Fal-Retryable overrides the spec's default for the status", async () => {
    server = await startLocalServer((_, res) => {
      res.writeHead(503, { "Content-Type": "application/json", "X-Fal-Retryable": "false", "X-Fal-Error-Type": "runner_disconnected" });
      res.end(JSON.stringify({ detail: "Runner disconnected", error_type: "runner_disconnected" }));
    });
    const error = await createFluxClient({ credentials: secret, baseUrl: server.url }).imageToImage(input).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, retryable: false, errorType: "runner_disconnected" });
  });

  it("a 200 that breaks the output schema throws FluxResponseError and keeps the body", async () => {
    const partial = { images: [{ url: "https://x/y.png" }], seed: 1 };
    server = await startLocalServer((_, res) => {
      res.writeHead(200, { "Content-Type": "application/json", "x-fal-request-id": "req-bad" });
      res.end(JSON.stringify(partial));
    });
    const error = (await createFluxClient({ credentials: secret, baseUrl: server.url })
      .imageToImage(input)
      .catch((e: unknown) => e)) as FluxResponseError;
    expect(error).toBeInstanceOf(FluxResponseError);
    expect(error.body).toEqual(partial);
    expect(error.requestId).toBe("req-bad");
    // Each required field of the spec's output that the body lacks (has_nsfw_concepts, prompt, timings today).
    const required = declaredResponse(200).content["application/json"].schema.required as string[];
    expect(error.issues.map((i) => i.field).sort()).toEqual(required.filter((field) => !(field in partial)).sort());
    expect(error.issues.length).toBeGreaterThan(0);
    // ...unless the caller opts out.
    const lenient = createFluxClient({ credentials: secret, baseUrl: server.url, validateResponse: false });
    await expect(lenient.imageToImage(input)).resolves.toEqual(partial);
  });

  it("a 200 whose JSON is cut short throws FluxResponseError, keeping the text; not retryable, the call is billed", async () => {
    server = await startLocalServer((_, res) => {
      res.writeHead(200, { "Content-Type": "application/json", "x-fal-request-id": "r-9" });
      res.end('{"images": [');
    });
    const error = await createFluxClient({ credentials: secret, baseUrl: server.url }).imageToImage(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxResponseError);
    expect(error).toMatchObject({ body: '{"images": [', retryable: false, requestId: "r-9" });
  });

});

describe("against a real local server that misbehaves: its connection", () => {
  it("a connection reset throws FluxNetworkError, sent once and not retried", async () => {
    server = await startLocalServer((req) => req.socket.destroy());
    const error = (await createFluxClient({ credentials: secret, baseUrl: server.url })
      .imageToImage(input)
      .catch((e: unknown) => e)) as FluxNetworkError;
    expect(error).toBeInstanceOf(FluxNetworkError);
    expect(error.message).toContain(server.url);
    expect(server.requests).toHaveLength(1); // a billed sync call is never re-sent
    expect(JSON.stringify(error)).not.toContain(secret);
  });

  it("a server silent after its headers: FluxTimeoutError once the call's time limit runs out, not a hang", async () => {
    server = await startLocalServer((_, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"images":'); // and nothing more, ever
    });
    const started = Date.now();
    const error = await createFluxClient({ credentials: secret, baseUrl: server.url })
      .imageToImage(input, { syncTimeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxTimeoutError);
    expect((error as Error).message).toContain("within 200 ms");
    expect(Date.now() - started).toBeLessThan(5_000);
    // The deprecated name still sets it.
    const old = await createFluxClient({ credentials: secret, baseUrl: server.url }).imageToImage(input, { timeout: 150 }).catch((e: unknown) => e);
    expect((old as Error).message).toContain("within 150 ms");
  });

  it("an answer that declares more than the cap is refused before its body is read", async () => {
    server = await startLocalServer((_, res) => {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": String(2 ** 31) });
      res.write("{");
    });
    const error = await createFluxClient({ credentials: secret, baseUrl: server.url }).imageToImage(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxResponseError);
    expect((error as Error).message).toContain("more than the 134217728 bytes this call reads");
  });

  it("a refused connection throws FluxNetworkError naming the cause", async () => {
    server = await startLocalServer(() => undefined);
    const { url } = server;
    await server.close();
    server = undefined;
    const error = await createFluxClient({ credentials: secret, baseUrl: url }).imageToImage(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxNetworkError);
    expect((error as Error).message).toContain("ECONNREFUSED");
  });

  it("an abort rejects with the signal's reason", async () => {
    const controller = new AbortController();
    // Never answers; the caller gives up once the request has arrived.
    server = await startLocalServer(() => controller.abort(new Error("user gave up")));
    const pending = createFluxClient({ credentials: secret, baseUrl: server.url }).imageToImage(input, { signal: controller.signal });
    await expect(pending).rejects.toThrow("user gave up");
    expect(server.requests).toHaveLength(1);
  });
});
