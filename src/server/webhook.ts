// fal's webhook signature (openapi/queue.yaml, `webhooks`): ED25519 over the request id, user id,
// timestamp and the body's SHA-256, with a key of fal's JWKS. WebCrypto, so it runs in Node 20+,
// browsers and edge runtimes alike.
import type { components, webhooks } from "../../generated/queue.js";
import { webhookVerification } from "../../generated/spec.js";
import { validateWebhookPayload } from "../../generated/validators.js";
import { isLoopback } from "../core/credentials.js";
import { readBody } from "../core/read-body.js";
import type { ClientOutput, FetchLike } from "../core/types.js";
import { FluxWebhookError } from "../core/errors.js";
import { withExactSeed } from "../core/seed.js";
import { issuesOf } from "../core/validation.js";

type SpecPayload = components["schemas"]["WebhookPayload"];
/** An output (a payload with a seed) with its seed exact; an error body as it is. */
type ExactSeed<T> = T extends { seed: unknown } ? ClientOutput<T> : T;
/** What fal POSTs to a webhook (the queue document's `WebhookPayload`); an `OK` payload's `seed` is exact, like every output of this client. */
export type WebhookPayload = Omit<SpecPayload, "payload"> & { payload?: ExactSeed<SpecPayload["payload"]> };

/** A webhook that passed every check, with what fal signed for: whose job, which request, when. */
export type VerifiedWebhook = WebhookPayload & {
  verified: { userId: string; requestId: string; timestamp: number };
};

/** A JSON Web Key Set; fal's holds ED25519 keys (`kty: "OKP"`, `crv: "Ed25519"`, `x`). */
export interface Jwks {
  keys: { kty?: string; crv?: string; x?: string; kid?: string }[];
}

/** fal's keys as {@link createJwksCache} gives them; `refresh` asks for a fresh copy (rate-limited) when none verified. */
export type JwksSource = (options?: { refresh?: boolean }) => Promise<Jwks>;

export interface VerifyWebhookOptions {
  /** fal's keys: the JWKS document, or a function that returns it (see {@link createJwksCache}). */
  jwks: Jwks | JwksSource;
  /**
   * Your fal account's user id. fal signs the webhooks of every account with the same keys, so
   * without it anyone with a fal account can point `fal_webhook` at your endpoint and get their
   * own, correctly signed, job accepted.
   */
  userId?: string;
  /** Whether a request id is one you submitted (a lookup in your store). Refused with `unknown-request` when not. */
  isKnownRequest?: (requestId: string) => boolean | Promise<boolean>;
  /** The time to check the timestamp against, in ms. Default: now. */
  now?: number;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;
/** The webhook's headers as the spec names them: a renamed one there fails to compile here. */
type WebhookHeader = keyof webhooks[keyof webhooks]["post"]["parameters"]["header"];

/**
 * Checks that a webhook came from fal, is fresh, is for your account (`userId`) and one of your
 * requests (`isKnownRequest`), and that the body is the request the headers name; then returns its
 * typed payload with what was verified. `rawBody` must be the bytes as received: a body parsed and
 * serialized again no longer matches its signature.
 * @throws FluxWebhookError, whose `reason` says which check failed
 */
export async function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: HeaderSource,
  options: VerifyWebhookOptions,
): Promise<VerifiedWebhook> {
  const names: WebhookHeader[] = [
    "X-Fal-Webhook-Request-Id",
    "X-Fal-Webhook-User-Id",
    "X-Fal-Webhook-Timestamp",
    "X-Fal-Webhook-Signature",
  ];
  const [requestId, userId, timestamp, signature] = names.map((name) => header(headers, name));
  const missing = names.filter((name) => !header(headers, name));
  if (missing.length) throw new FluxWebhookError("missing-header", `webhook: no ${missing.join(", ")} header`);

  const now = (options.now ?? Date.now()) / 1000;
  const tolerance = webhookVerification.timestampToleranceSeconds;
  if (!/^\d+$/.test(timestamp!) || Math.abs(now - Number(timestamp)) > tolerance) {
    throw new FluxWebhookError("stale-timestamp", `webhook: timestamp ${timestamp} is not within ${tolerance} s of now`);
  }

  // WebCrypto's types want an ArrayBuffer-backed view; a Node Buffer is one.
  const bytes = (typeof rawBody === "string" ? new TextEncoder().encode(rawBody) : rawBody) as Uint8Array<ArrayBuffer>;
  const digest = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
  const message = new TextEncoder().encode(`${requestId}\n${userId}\n${timestamp}\n${digest}`);
  const signatureBytes = /^(?:[0-9a-fA-F]{2})+$/.test(signature!) ? fromHex(signature!) : undefined;

  const source = options.jwks;
  let valid = signatureBytes !== undefined && (await signedBy(typeof source === "function" ? await source() : source, signatureBytes, message));
  // fal may have rotated its keys since the copy was made: one fresh copy (the cache rate-limits it).
  if (!valid && signatureBytes && typeof source === "function") valid = await signedBy(await source({ refresh: true }), signatureBytes, message);
  if (!valid) throw new FluxWebhookError("bad-signature", "webhook: the signature does not match any of fal's keys");

  if (options.userId !== undefined && userId !== options.userId) {
    throw new FluxWebhookError("wrong-user", `webhook: signed for another fal account (${JSON.stringify(userId)}), not ${JSON.stringify(options.userId)}`);
  }
  if (options.isKnownRequest && !(await options.isKnownRequest(requestId!))) {
    throw new FluxWebhookError("unknown-request", `webhook: request ${JSON.stringify(requestId)} is not one of yours`);
  }

  const text = new TextDecoder().decode(bytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new FluxWebhookError("bad-body", "webhook: the body is not JSON");
  }
  if (!validateWebhookPayload(body)) {
    const issues = issuesOf(validateWebhookPayload, body);
    throw new FluxWebhookError("bad-body", `webhook: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`);
  }
  const payload = body as WebhookPayload;
  if (payload.request_id !== requestId) {
    throw new FluxWebhookError(
      "request-offSpecAnswer",
      `webhook: the body is for request ${JSON.stringify(payload.request_id)}, the signed header for ${JSON.stringify(requestId)}`,
    );
  }
  withExactSeed(payload.payload, text, ["payload"]);
  return { ...payload, verified: { userId: userId!, requestId: requestId!, timestamp: Number(timestamp) } };
}

/** Whether a usable Ed25519 key of the set signed `message`. Keys that cannot be imported are skipped. */
async function signedBy(jwks: Jwks, signature: Uint8Array<ArrayBuffer>, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
  const keys = (Array.isArray(jwks?.keys) ? jwks.keys : []).filter((k) => k?.kty === "OKP" && k.crv === "Ed25519" && typeof k.x === "string");
  if (!keys.length) throw new FluxWebhookError("no-key", "webhook: the JWKS has no Ed25519 key");
  for (const jwk of keys) {
    const key = await crypto.subtle
      .importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"])
      .catch(() => undefined); // a malformed key in the set is no reason to refuse the others
    if (key && (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message))) return true;
  }
  return false;
}

export interface JwksCacheOptions {
  /** Default: the JWKS URL of the queue document's webhook. https only (plain http to loopback, for tests). */
  url?: string;
  fetch?: FetchLike;
  /** Default: the spec's `x-jwks-max-age-seconds` (24 h), as long as fal says a copy may be kept. */
  maxAgeSeconds?: number;
  /**
   * The least time between two fetches asked for by `refresh` (a signature no key verified, fal may
   * have rotated its keys). Default 300 s: a flood of forged webhooks cannot make this server
   * fetch fal's JWKS more than once in five minutes.
   */
  minRefreshSeconds?: number;
  /**
   * Time limit of one fetch of the key set, answer included. Default 5 000 ms: a key set is a few
   * hundred bytes, and without a limit a host that never answers would hold every webhook for ever.
   */
  timeoutMs?: number;
  /**
   * After a fetch failed, how long every webhook gets that failure (`no-key`) before the next
   * fetch: a host that is down is asked once per window, however many webhooks (forged ones
   * included) arrive. Default 30 s, short beside fal's retries of a webhook (10 over 2 hours).
   */
  retryAfterFailureSeconds?: number;
}

/**
 * fal's JWKS, fetched on first use and kept for `maxAgeSeconds`; pass it as `verifyWebhook`'s
 * `jwks`. A set with no usable Ed25519 key, an answer that is not a JWKS, a fetch that fails or
 * takes longer than `timeoutMs` are typed errors (`no-key`), given to every caller until
 * `retryAfterFailureSeconds` have passed. A `refresh` that fails keeps the keys already held.
 */
export function createJwksCache(options: JwksCacheOptions = {}): JwksSource {
  const url = options.url ?? webhookVerification.jwksUrl;
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && isLoopback(parsed.hostname))) {
    throw new FluxWebhookError("no-key", `webhook: fal's JWKS must come over https, not ${parsed.origin}`);
  }
  const maxAge = (options.maxAgeSeconds ?? webhookVerification.jwksMaxAgeSeconds) * 1000;
  const minRefresh = (options.minRefreshSeconds ?? 300) * 1000;
  const failureWait = (options.retryAfterFailureSeconds ?? 30) * 1000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let kept: { at: number; jwks: Jwks } | undefined;
  let failed: { at: number; error: FluxWebhookError } | undefined;
  let pending: Promise<Jwks> | undefined;
  let lastFetch = -Infinity;

  function fetchKeys(): Promise<Jwks> {
    lastFetch = Date.now();
    const fetching = fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs) })
      .then(readJwks)
      .then(
        (jwks) => {
          kept = { at: Date.now(), jwks };
          failed = undefined;
          return jwks;
        },
        (error: unknown) => {
          failed = { at: Date.now(), error: asNoKey(error, timeoutMs) };
          throw failed.error;
        },
      )
      .finally(() => {
        if (pending === fetching) pending = undefined;
      });
    pending = fetching;
    return fetching;
  }

  return async ({ refresh = false } = {}) => {
    const now = Date.now();
    const fresh = kept !== undefined && now - kept.at <= maxAge ? kept.jwks : undefined;
    if (fresh && !(refresh && now - lastFetch >= minRefresh)) return fresh;
    // A refresh that cannot be had leaves the keys that are held.
    const orKept = (keys: Promise<Jwks>) => (fresh ? keys.catch(() => fresh) : keys);
    if (pending) return orKept(pending);
    if (failed && now - failed.at < failureWait) {
      if (fresh) return fresh;
      throw failed.error;
    }
    return orKept(fetchKeys());
  };
}

/** A failed fetch of the key set as the `no-key` error every caller gets. */
function asNoKey(error: unknown, timeoutMs: number): FluxWebhookError {
  if (error instanceof FluxWebhookError) return error;
  const timedOut = (error as { name?: string } | null)?.name === "TimeoutError";
  const reason = timedOut ? `no answer within ${timeoutMs} ms` : ((error as { cause?: { code?: string } }).cause?.code ?? (error as Error)?.message ?? String(error));
  return new FluxWebhookError("no-key", `webhook: fal's JWKS could not be fetched (${reason})`);
}

/** A JWKS answer with at least one Ed25519 key, else a `no-key` error (never a TypeError). */
async function readJwks(response: Response): Promise<Jwks> {
  if (!response.ok) throw new FluxWebhookError("no-key", `webhook: fal's JWKS answered ${response.status}`);
  // A key set is a few hundred bytes: 1 MiB is room enough, and a server sending without end is cut there.
  const text = await readBody(response, 1024 * 1024).catch(() => "");
  const body = (() => {
    try {
      return JSON.parse(text) as Partial<Jwks>;
    } catch {
      return undefined;
    }
  })();
  const keys = Array.isArray(body?.keys) ? body.keys.filter((k) => k?.kty === "OKP" && k.crv === "Ed25519" && typeof k.x === "string") : [];
  if (!keys.length) throw new FluxWebhookError("no-key", "webhook: fal's JWKS answer holds no Ed25519 key");
  return { keys };
}

/** A header by name, any case, from fetch's Headers or Node's header object. */
function header(headers: HeaderSource, name: WebhookHeader): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16));
}
