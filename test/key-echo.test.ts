// A server that echoes the key back, on every route of both documents and in every place an answer
// has (a body that is not JSON, a body off the spec, an error body, fal's headers, a status's log
// lines, an output's text): no form of the key (as given, trimmed, its secret half) may reach
// anything the client returns, throws or hands a callback, by any way a caller could print it.
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageToImageExamples } from "../generated/endpoints.js";
import { createFluxClient, stringifyExact, type FluxClient } from "../src/index.js";
import { startLocalServer, type LocalServer } from "./support/local-server.js";
import { firstExample } from "./support/spec.js";

const keyId = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f";
const keySecret = "0123456789abcdef0123456789abcdef";
/** Given with the whitespace a key read from a file keeps: the client trims it for the header. */
const givenKey = ` ${keyId}:${keySecret}\n`;
const forms = [givenKey, givenKey.trim(), keySecret];
const input = imageToImageExamples["seed-example"];

/** What each scenario answers; `echo` is what the server received in Authorization, after the scheme. */
type Answer = (echo: string) => { status: number; body: string; headers?: Record<string, string> };
let answer: Answer = () => ({ status: 500, body: "{}" });
let server: LocalServer & { statusText?: string | undefined };

beforeAll(async () => {
  server = await startLocalServer((req, res) => {
    const echo = String(req.headers.authorization ?? "").replace(/^Key /, "");
    const { status, body, headers = {} } = answer(echo);
    if (server.statusText) res.statusMessage = server.statusText;
    res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(body);
  });
});
afterAll(() => server.close());

function client(): FluxClient {
  return createFluxClient({ credentials: givenKey, baseUrl: server.url, queueUrl: server.url, retry: false });
}

/** Every way a caller could print or store what came back. */
function everyRendering(value: unknown): string[] {
  if (value instanceof Error) {
    return [value.message, String(value), value.stack ?? "", JSON.stringify(value), inspect(value, { depth: 10 }), stringifyExact(value)];
  }
  return [stringifyExact(value), inspect(value, { depth: 10 })];
}

function expectNoKey(value: unknown) {
  for (const text of everyRendering(value)) {
    for (const form of forms) expect(text.includes(form), `${JSON.stringify(form)} in ${text.slice(0, 300)}`).toBe(false);
  }
}

const output = firstExample(200) as Record<string, unknown>;
const queuedJob = { request_id: "job-1" };
const scenarios: [string, Answer, (c: FluxClient) => Promise<unknown>][] = [
  ["sync: a 200 that is not JSON", (k) => ({ status: 200, body: `<html>bad gateway for ${k}</html>` }), (c) => c.imageToImage(input)],
  ["sync: a 200 off the spec", (k) => ({ status: 200, body: JSON.stringify({ ...output, images: k }) }), (c) => c.imageToImage(input)],
  ["sync: a 200 whose text holds it", (k) => ({ status: 200, body: JSON.stringify({ ...output, prompt: `${input.prompt} ${k}` }) }), (c) => c.imageToImage(input)],
  ["sync: a 422 whose detail quotes it", (k) => ({ status: 422, body: JSON.stringify({ detail: [{ loc: ["body", k], msg: `bad ${k}`, type: "x", input: k }] }) }), (c) => c.imageToImage(input)],
  [
    "sync: fal's headers carry it",
    (k) => ({ status: 500, body: JSON.stringify({ detail: "x" }), headers: { "x-fal-error-type": k, "x-fal-request-id": k } }),
    (c) => c.imageToImage(input),
  ],
  ["sync: the secret half alone", () => ({ status: 500, body: JSON.stringify({ detail: `secret=${keySecret}` }) }), (c) => c.imageToImage(input)],
  ["submit: a 200 that is not JSON", (k) => ({ status: 200, body: `oops ${k}` }), (c) => c.queue.submit(input)],
  ["submit: a 200 off the spec", (k) => ({ status: 200, body: JSON.stringify({ request_id: 7, note: k }) }), (c) => c.queue.submit(input)],
  ["status: a 200 that is not JSON", (k) => ({ status: 200, body: `oops ${k}` }), (c) => c.queue.status(queuedJob)],
  [
    "status: log lines that quote it",
    (k) => ({ status: 202, body: JSON.stringify({ status: "IN_PROGRESS", logs: [{ message: `loaded ${k}` }] }) }),
    (c) => c.queue.status(queuedJob),
  ],
  ["result: a 200 off the spec", (k) => ({ status: 200, body: JSON.stringify({ images: [{ url: k }] }) }), (c) => c.queue.result(queuedJob)],
  ["result: an error with headers", (k) => ({ status: 503, body: JSON.stringify({ detail: k }), headers: { "x-fal-error-type": k } }), (c) => c.queue.result(queuedJob)],
  ["cancel: an answer off the spec", (k) => ({ status: 200, body: JSON.stringify({ note: k }) }), (c) => c.queue.cancel(queuedJob)],
];

/** The key as servers were seen to echo it in other encodings (issue 18): each must be cut out too. */
const encodedEchoes: [string, (k: string) => string][] = [
  ["base64 of `Key <key>`", (k) => Buffer.from(`Key ${k}`).toString("base64")],
  ["hex", (k) => Buffer.from(k).toString("hex")],
  ["upper-case", (k) => k.toUpperCase()],
  ["JSON \\u-escaped", (k) => [...k].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")],
];

function headerLines(headers: Headers): string[] {
  const lines: string[] = [];
  headers.forEach((value, name) => lines.push(`${name}: ${value}`));
  return lines;
}

/** The forms above, decoded back: what must not be found in anything the client gives. */
function expectNoEncodedKey(value: unknown) {
  for (const text of everyRendering(value)) {
    const lower = text.toLowerCase();
    for (const [name, encode] of encodedEchoes) {
      for (const form of [encode(givenKey.trim()), encode(keySecret)]) expect(lower.includes(form.toLowerCase()), `${name} in ${text.slice(0, 300)}`).toBe(false);
    }
  }
}

describe("a server that echoes the key in another encoding", () => {
  it.each(encodedEchoes)("%s: in an error body, a header and the answer's status text, nothing given back holds it", async (_, encode) => {
    // The secret half in the body (short enough to be quoted whole in the message), the whole key in headers.
    answer = (k) => ({ status: 401, body: JSON.stringify({ detail: `bad key ${encode(keySecret)}` }), headers: { "x-fal-error-type": encode(k), "x-fal-debug": `auth=${encode(k)}` } });
    const error = await client().imageToImage(input).catch((e: unknown) => e);
    expectNoEncodedKey(error);
    expectNoKey(error);
  });

  it("the answer withResponse hands out: headers and status text", async () => {
    const statusText = `OK for Key ${givenKey.trim()}`;
    server.statusText = statusText;
    answer = (k) => ({ status: 200, body: JSON.stringify(output), headers: { "x-fal-debug": Buffer.from(`Key ${k}`).toString("base64") } });
    try {
      const { response } = await client().imageToImage.withResponse(input);
      const seen = [response.statusText, ...headerLines(response.headers)].join("\n");
      expectNoKey(seen);
      expectNoEncodedKey(seen);
    } finally {
      server.statusText = undefined;
    }
  });
});

describe("a server that echoes the key", () => {
  it.each(scenarios)("%s: nothing returned or thrown holds any form of it", async (_, scenario, call) => {
    answer = scenario;
    const outcome = await call(client()).catch((error: unknown) => error);
    expect(server.requests.at(-1)!.headers.authorization).toBe(`Key ${givenKey.trim()}`); // sent, and echoed
    expectNoKey(outcome);
  });

  it("an answer nested 100,000 deep that passes the schema keeps its result (the redaction walks it without recursion)", async () => {
    const deep = `${"[".repeat(100_000)}0${"]".repeat(100_000)}`;
    answer = () => ({ status: 200, body: `${JSON.stringify(output).slice(0, -1)},"extra":${deep}}` });
    const result = (await client().imageToImage(input)) as unknown as { images: unknown[]; extra: unknown };
    expect(result.images).toEqual(output.images);
    expect(Array.isArray(result.extra)).toBe(true);
  });

  it("subscribe: statuses handed to onQueueUpdate and the output hold no form of it", async () => {
    let n = 0;
    answer = (k) => {
      n++;
      if (n === 1) return { status: 200, body: JSON.stringify({ request_id: "job-2" }) };
      if (n === 2) return { status: 503, body: "{}" }; // the stream cannot be opened: polling
      if (n === 3) return { status: 202, body: JSON.stringify({ status: "IN_PROGRESS", logs: [{ message: `token ${k}` }] }) };
      if (n === 4) return { status: 200, body: JSON.stringify({ status: "COMPLETED", logs: [{ message: k }], error: null }) };
      return { status: 200, body: JSON.stringify({ ...output, prompt: k }) };
    };
    const statuses: unknown[] = [];
    const result = await client().subscribe(input, { onQueueUpdate: (status) => statuses.push(status), pollIntervalMs: 1 });
    expect(statuses).toHaveLength(2);
    for (const value of [...statuses, result]) expectNoKey(value);
    expect(result.prompt).toBe("[redacted]");
  });
});
