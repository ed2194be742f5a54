// fal's webhook signature (openapi/queue.yaml, `webhooks`): ED25519 over the request id, user id,
// timestamp and the body's SHA-256, with a key of fal's JWKS. WebCrypto, so it runs in Node 20+,
// browsers and edge runtimes alike.
import type { components, operations } from "../generated/queue.js";
import { webhookVerification } from "../generated/spec.js";
import { validateWebhookPayload } from "../generated/validators.js";
import type { FetchLike, ImageToImageOutput } from "./types.js";
import { FluxWebhookError } from "./errors.js";
import { withExactSeed } from "./seed.js";
import { issuesOf } from "./validation.js";

type SpecPayload = components["schemas"]["WebhookPayload"];
/** What fal POSTs to a webhook; an `OK` payload's `seed` is exact, like every output of this client. */
export type WebhookPayload = Omit<SpecPayload, "payload"> & {
  payload?: ImageToImageOutput | components["schemas"]["ValidationErrorBody"] | null;
};

/** A JSON Web Key Set; fal's holds ED25519 keys (`kty: "OKP"`, `crv: "Ed25519"`, `x`). */
export interface Jwks {
  keys: { kty?: string; crv?: string; x?: string; kid?: string }[];
}

export interface VerifyWebhookOptions {
  /** fal's keys: the JWKS document, or a function that returns it (see {@link createJwksCache}). */
  jwks: Jwks | (() => Promise<Jwks>);
  /** The time to check the timestamp against, in ms. Default: now. */
  now?: number;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;
/** The webhook's headers as the spec names them: a renamed one there fails to compile here. */
type WebhookHeader = keyof operations["imageToImageWebhook"]["parameters"]["header"];

/**
 * Checks that a webhook came from fal and is fresh, then returns its typed payload. `rawBody` must
 * be the bytes as received: a body parsed and serialized again no longer matches its signature.
 * @throws FluxWebhookError, whose `reason` says which check failed
 */
export async function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: HeaderSource,
  options: VerifyWebhookOptions,
): Promise<WebhookPayload> {
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

  const jwks = typeof options.jwks === "function" ? await options.jwks() : options.jwks;
  const keys = (jwks?.keys ?? []).filter((k) => k.kty === "OKP" && k.crv === "Ed25519" && k.x);
  if (!keys.length) throw new FluxWebhookError("no-key", "webhook: the JWKS has no Ed25519 key");
  let valid = false;
  for (const jwk of signatureBytes ? keys : []) {
    const key = await crypto.subtle
      .importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"])
      .catch(() => undefined); // a malformed key in the set is no reason to refuse the others
    if (key && (await crypto.subtle.verify({ name: "Ed25519" }, key, signatureBytes!, message))) {
      valid = true;
      break;
    }
  }
  if (!valid) throw new FluxWebhookError("bad-signature", "webhook: the signature does not match any of fal's keys");

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
  withExactSeed(payload.payload, text);
  return payload;
}

export interface JwksCacheOptions {
  /** Default: the JWKS URL of the queue document's webhook. */
  url?: string;
  fetch?: FetchLike;
  /** Default: the spec's `x-jwks-max-age-seconds` (24 h), as long as fal says a copy may be kept. */
  maxAgeSeconds?: number;
}

/** fal's JWKS, fetched on first use and kept for `maxAgeSeconds`; pass it as `verifyWebhook`'s `jwks`. */
export function createJwksCache(options: JwksCacheOptions = {}): () => Promise<Jwks> {
  const url = options.url ?? webhookVerification.jwksUrl;
  const maxAge = (options.maxAgeSeconds ?? webhookVerification.jwksMaxAgeSeconds) * 1000;
  let cached: { at: number; jwks: Promise<Jwks> } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at > maxAge) {
      const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
      const jwks = fetchImpl(url).then(async (response) => {
        if (!response.ok) throw new FluxWebhookError("no-key", `webhook: fal's JWKS answered ${response.status}`);
        return (await response.json()) as Jwks;
      });
      cached = { at: Date.now(), jwks };
      // A failed fetch is not kept: the next webhook tries again.
      jwks.catch(() => {
        if (cached?.jwks === jwks) cached = undefined;
      });
    }
    return cached.jwks;
  };
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
