// The one redaction (src/core/redaction.ts): every form of the key a server is likely to echo, in text,
// in values of any depth, and in a stream whatever its chunks; and nothing else.
import { describe, expect, it } from "vitest";
import { containsKey, redact, redactError, redactText, streamRedactor } from "../src/core/redaction.js";
import { FluxApiError } from "../src/core/errors.js";

const keyId = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f";
const secret = "0123456789abcdef0123456789abcdef";
const key = `${keyId}:${secret}`;
const b64 = (text: string) => Buffer.from(text).toString("base64");
const b64url = (text: string) => Buffer.from(text).toString("base64url");
const hex = (text: string) => Buffer.from(text).toString("hex");
/** Every character as JSON's `\u` escape, as some encoders write them. */
const unicodeEscaped = (text: string) => [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");

/** The forms a server was seen to echo (issue 18), each as it would reach a client. */
const echoedForms: [string, string][] = [
  ["as given, with the whitespace a file keeps", ` ${key}\n`],
  ["trimmed", key],
  ["its secret half", secret],
  ["upper-case", key.toUpperCase()],
  ["percent-encoded", encodeURIComponent(key)],
  ["percent-encoded, upper-case escapes", encodeURIComponent(key).toUpperCase()],
  ["every character percent-encoded", [...key].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("")],
  ["JSON \\u-escaped, every character", unicodeEscaped(key)],
  ["JSON \\u-escaped, the colon only (Go's encoder style)", key.replace(":", "\\u003a")],
  ["base64 of the key", b64(key)],
  ["base64 of `Key <key>`", b64(`Key ${key}`)],
  ["base64 of `Authorization: Key <key>`", b64(`Authorization: Key ${key}`)],
  ["base64url of `Bearer <key>`", b64url(`Bearer ${key}`)],
  ["base64 of the secret half, inside a longer text", b64(`token=${secret};`)],
  ["hex", hex(key)],
  ["hex, upper-case", hex(key).toUpperCase()],
  ["hex of the secret half", hex(secret)],
];

/**
 * Whether `text` still carries the secret half in any of those encodings: decoded every way they
 * were made (percent, `\u`, hex runs, base64 runs at each offset), independently of how the
 * redaction finds them.
 */
function leaks(text: string): boolean {
  const has = (decoded: string) => decoded.toLowerCase().includes(secret);
  const percent = text.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const unicode = text.replace(/\\u([0-9a-f]{4})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const hexRuns = (text.match(/[0-9a-f]{16,}/gi) ?? []).flatMap((run) => [run, run.slice(1)].map((r) => Buffer.from(r.slice(0, r.length & ~1), "hex").toString("latin1")));
  const base64Runs = (text.match(/[A-Za-z0-9+/_-]{12,}/g) ?? []).flatMap((run) => [0, 1, 2, 3].map((at) => Buffer.from(run.slice(at).replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("latin1")));
  return [text, percent, unicode, ...hexRuns, ...base64Runs].some(has);
}

describe("redactText: every form a server echoes", () => {
  it.each(echoedForms)("%s", (_, form) => {
    const text = `{"detail":"bad credentials: ${form.replace(/\n/g, "\\n")} (retry)"}`;
    expect(leaks(text)).toBe(true); // the form does carry the key
    const clean = redactText(text, key);
    expect(leaks(clean)).toBe(false);
    expect(clean).toContain("[redacted]");
    expect(clean).toMatch(/^\{"detail":"bad credentials: .*\(retry\)"\}$/); // the rest kept
    expect(containsKey(text, key)).toBe(true);
    expect(containsKey(clean, key)).toBe(false);
  });

  it("leaves ordinary text alone, and a key too short to tell from text redacts nothing", () => {
    const text = `https://v3.fal.media/files/rabbit/${"a".repeat(40)}.jpeg seed 42 ${b64("a wizard cat")}`;
    expect(redactText(text, key)).toBe(text);
    expect(redactText("k is for kitten", "k")).toBe("k is for kitten");
    expect(redactText(text, undefined)).toBe(text);
  });
});

describe("redact: values of any shape", () => {
  it("cleans strings and property names at any depth, and returns the very value when nothing holds the key", () => {
    const clean = { images: [{ url: "https://x/a.jpeg" }], prompt: "p" };
    expect(redact(clean, key)).toBe(clean);
    const dirty = { images: [{ url: `https://x/${b64(`Key ${key}`)}` }], [secret]: 1, logs: [{ message: key.toUpperCase() }] };
    expect(leaks(JSON.stringify(redact(dirty, key)))).toBe(false);
    expect(dirty.logs[0]!.message).toBe(key.toUpperCase()); // the original is not changed
  });

  it("a value nested 100,000 deep is walked without recursion: the result survives, cleaned", () => {
    const text = `{"images":[],"deep":${"[".repeat(100_000)}"${key}"${"]".repeat(100_000)}}`;
    const value = JSON.parse(text) as { deep: unknown };
    const cleaned = redact(value, key) as { deep: unknown };
    let inner: unknown = cleaned.deep;
    for (let depth = 0; depth < 100_000; depth++) inner = (inner as unknown[])[0];
    expect(inner).toBe("[redacted]");
    const untouched = JSON.parse(text.replace(key, "nothing secret")) as object;
    expect(redact(untouched, key)).toBe(untouched);
  });

  it("an error: message, stack and fields cleaned in place", () => {
    const error = new FluxApiError({ status: 401, body: { detail: `bad key ${b64(key)}` }, errorType: hex(secret), requestId: undefined, retryable: false });
    redactError(error, key);
    expect(leaks(`${error.message} ${error.stack} ${JSON.stringify(error)}`)).toBe(false);
  });
});

describe("streamRedactor: a stream cut anywhere", () => {
  it.each(echoedForms)("%s, split at every position, comes out as the whole text redacted", (_, form) => {
    const text = `data: {"logs":[{"message":"loaded ${form.trim()}"}]}\n\n`;
    const expected = redactText(text, key);
    for (let cut = 1; cut < text.length; cut++) {
      const stream = streamRedactor(key);
      const decoder = new TextDecoder();
      const out = [stream.push(Buffer.from(text.slice(0, cut))), stream.push(Buffer.from(text.slice(cut))), stream.flush()].map((bytes) => decoder.decode(bytes)).join("");
      expect(out, `cut at ${cut}`).toBe(expected);
    }
  });

  it("holds back only an end that could begin a form: an event ending in a blank line goes on whole", () => {
    const stream = streamRedactor(key);
    const event = 'data: {"status":"IN_PROGRESS"}\n\n';
    expect(new TextDecoder().decode(stream.push(Buffer.from(event)))).toBe(event);
    expect(new TextDecoder().decode(stream.push(Buffer.from(`data: ${keyId.slice(0, 10)}`)))).toBe("data: ");
  });
});
