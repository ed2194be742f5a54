// flux-i2i/proxy: the server half of a browser app, on the Fetch API (Request in, Response out), so
// that any framework speaking it (Next.js, Hono, Bun, Deno, Workers; node:http with a few lines)
// can mount it. The browser sends its calls here with no key; the proxy checks each against this
// endpoint's routes, asks the app whether the caller may spend, adds the key and streams fal's
// answer back unchanged: status codes, headers, the status event stream.
//
// Two ways in: fal's own convention (the real URL in `x-fal-target-url`, what `@fal-ai/client`
// sends with `proxyUrl`), and paths (`BASE/run/...` and `BASE/queue/...`, what this package's
// client sends with `baseUrl` / `queueUrl` pointed here).
import { defaultBaseUrl, defaultQueueUrl, operationResponses } from "../generated/spec.js";
import { validateRequestId } from "../generated/validators.js";
import { authorizationHeader, resolveCredentials, secretForms } from "./credentials.js";
import { BodyReadError, readBytes } from "./read-body.js";
import type { FetchLike } from "./types.js";

export interface FalProxyOptions {
  /** fal's key. Default: `FAL_KEY`, else `FAL_KEY_ID` + `FAL_KEY_SECRET`. */
  credentials?: string;
  /**
   * Whether this caller may spend your fal account, asked before anything is forwarded: check your
   * app's session here. `false` answers 401; a Response is answered as it is. Default: everyone,
   * which only a route that is not public may rely on.
   */
  authorize?: (request: Request) => boolean | Response | Promise<boolean | Response>;
  /** Where the path-based routes are mounted. Default `/api/fal`: `/api/fal/run/...`, `/api/fal/queue/...`. */
  basePath?: string;
  /** Origins (`https://app.example.com`), or a test of one, allowed to call from a browser on another origin. Default: none (same origin only). */
  allowedOrigins?: readonly string[] | ((origin: string) => boolean);
  /**
   * The largest request body forwarded. Default 20 MiB: a 10 MiB image sent inline as a data URI
   * is about 13.4 MiB of base64 (the command line's own limit), with room for the rest.
   */
  maxBodyBytes?: number;
  /** fal's servers. Default: the spec's (`https://fal.run`, `https://queue.fal.run`); a test points them at a fake. */
  runUrl?: string;
  queueUrl?: string;
  fetch?: FetchLike;
}

export const targetUrlHeader = "x-fal-target-url";

/** The handler: `(request: Request) => Promise<Response>`. */
export function createFalProxy(options: FalProxyOptions = {}): (request: Request) => Promise<Response> {
  const key = resolveCredentials(options.credentials);
  const basePath = (options.basePath ?? "/api/fal").replace(/\/+$/, "");
  const upstreams = { run: options.runUrl ?? defaultBaseUrl, queue: options.queueUrl ?? defaultQueueUrl };
  const maxBodyBytes = options.maxBodyBytes ?? 20 * 1024 * 1024;
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const routes = { pattern: new RegExp(`^${escapeRegExp(basePath)}/(run|queue)(/.*)$`), upstreams };
  const forms = key ? secretForms(key) : [];
  // Made once: a key no header can carry fails here, when the app starts, not on a user's call.
  const authorization = key ? authorizationHeader(key, "Key") : "";

  return async (request) => {
    const cors = corsHeaders(request, options.allowedOrigins ?? []);
    const refuse = (status: number, message: string) => json(status, { detail: message }, cors);
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
    if (!key) return refuse(500, "the proxy has no fal key: set FAL_KEY on the server");

    const target = targetOf(request, routes);
    if (typeof target === "string") return refuse(target === "not found" ? 404 : 403, `not forwarded: ${target}`);
    const allowed = allowedRoute(target.kind, request.method, target.url.pathname);
    if (allowed !== true) return refuse(allowed === "method" ? 405 : 403, `not forwarded: ${request.method} ${target.url.pathname} is not a route of this endpoint`);

    const verdict = options.authorize ? await options.authorize(request) : true;
    if (verdict instanceof Response) return verdict;
    if (!verdict) return refuse(401, "not allowed to call fal");

    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await boundedBody(request, maxBodyBytes);
    if (body === "too large") return refuse(413, `the request body is larger than ${maxBodyBytes} bytes`);

    const upstream = await fetchImpl(target.url.href, {
      method: request.method,
      headers: forwardedHeaders(request.headers, authorization),
      body,
      signal: request.signal,
    }).catch(() => undefined);
    if (!upstream) return refuse(502, "fal could not be reached");
    return passThrough(upstream, cors, forms);
  };
}

type Kind = "run" | "queue";

/** The fal URL a request is for: from `x-fal-target-url`, or from its path under `basePath`; a string says why not. */
function targetOf(request: Request, { pattern, upstreams }: { pattern: RegExp; upstreams: Record<Kind, string> }): { kind: Kind; url: URL } | string {
  const incoming = new URL(request.url);
  const named = request.headers.get(targetUrlHeader);
  if (named) {
    let url: URL;
    try {
      url = new URL(named);
    } catch {
      return "the target URL is not a URL";
    }
    const kind = (Object.keys(upstreams) as Kind[]).find((k) => new URL(upstreams[k]).origin === url.origin);
    return kind ? { kind, url } : `${url.origin} is not fal's`;
  }
  const match = pattern.exec(incoming.pathname);
  if (!match) return "not found";
  const kind = match[1] as Kind;
  return { kind, url: new URL(`${upstreams[kind].replace(/\/+$/, "")}${match[2]}${incoming.search}`) };
}

/**
 * Whether `method path` is a route of this endpoint on that server (the spec's paths, a job's id
 * of the spec's form): true, "method" for a known path with another method, or false.
 */
function allowedRoute(kind: Kind, method: string, path: string): true | "method" | false {
  let pathKnown = false;
  for (const operation of Object.values(operationResponses)) {
    const onServer = operation.path.includes("{request_id}") || operation.path.startsWith("/fal-ai/flux-1/requests") ? "queue" : undefined;
    const servers: Kind[] = onServer ? ["queue"] : ["run", "queue"];
    if (!servers.includes(kind) || !matchesPath(operation.path, path)) continue;
    // The sync path on the queue server is the submit; on fal.run, the sync call: both POST.
    pathKnown = true;
    if (operation.method === method) return true;
  }
  return pathKnown ? "method" : false;
}

function matchesPath(template: string, path: string): boolean {
  const [prefix, suffix = ""] = template.split("{request_id}");
  if (suffix === "" && !template.includes("{request_id}")) return path === template;
  if (!path.startsWith(prefix!) || !path.endsWith(suffix)) return false;
  const id = decodeURIComponentSafe(path.slice(prefix!.length, path.length - suffix.length));
  return id !== undefined && validateRequestId(id);
}

function decodeURIComponentSafe(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** fal's headers of the caller (`x-fal-*`, but the target URL) and the body's type, with the key. */
function forwardedHeaders(incoming: Headers, authorization: string): Headers {
  const headers = new Headers({ Authorization: authorization });
  incoming.forEach((value, name) => {
    if ((name.startsWith("x-fal-") && name !== targetUrlHeader) || name === "content-type" || name === "accept") headers.set(name, value);
  });
  return headers;
}

/** The body, or "too large" past the cap (as soon as Content-Length says so). */
async function boundedBody(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | "too large" | undefined> {
  if (!request.body) return undefined;
  // A declared length within the cap is held to by the server that reads it: read whole, in native code.
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared >= 0 && declared <= maxBytes) return new Uint8Array(await request.arrayBuffer());
  return readBytes(request, maxBytes).catch((error: unknown) => {
    if (error instanceof BodyReadError && error.tooLarge) return "too large" as const;
    throw error;
  });
}

/**
 * fal's answer as it came: status, headers (but those fetch has already acted on), and the body
 * streamed (the status stream arrives event by event), with any form of the key fal echoes cut
 * out on the way, even one split across chunks.
 */
async function passThrough(upstream: Response, cors: Headers, forms: string[]): Promise<Response> {
  const headers = new Headers(cors);
  upstream.headers.forEach((value, name) => {
    if (!["content-encoding", "content-length", "transfer-encoding", "connection", "set-cookie"].includes(name)) headers.set(name, value);
  });
  const init = { status: upstream.status, statusText: upstream.statusText, headers };
  // The status stream goes through event by event, and so does an answer of unknown or large size;
  // a small one of known length (JSON, mostly) is read whole and cleaned at once, which is cheaper.
  const length = Number(upstream.headers.get("content-length") ?? Number.NaN);
  if (!upstream.body || (upstream.headers.get("content-type") ?? "").includes("text/event-stream") || !(length <= 1024 * 1024)) {
    return new Response(upstream.body ? upstream.body.pipeThrough(redactingStream(forms)) : null, init);
  }
  const text = await upstream.text();
  return new Response(scrub(text, forms), init);
}

/** `text` with every form of the key replaced. */
function scrub(text: string, forms: string[]): string {
  return forms.reduce((out, form) => (out.includes(form) ? out.split(form).join("[redacted]") : out), text);
}

/**
 * A text stream with every form of the key replaced. Only a chunk's tail that could begin a form
 * waits for the next chunk (in case a key spans them): the rest, a status event's closing blank
 * line included, goes on at once, or the event would wait for the stream's end.
 */
function redactingStream(forms: string[]): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  return new TransformStream({
    transform(chunk, controller) {
      const text = scrub(pending + decoder.decode(chunk, { stream: true }), forms);
      pending = text.slice(text.length - startOfFormAtEnd(text, forms));
      const ready = text.slice(0, text.length - pending.length);
      if (ready) controller.enqueue(encoder.encode(ready));
    },
    flush(controller) {
      const rest = scrub(pending + decoder.decode(), forms);
      if (rest) controller.enqueue(encoder.encode(rest));
    },
  });
}

/** The length of the longest end of `text` that is the start of a form (and not a whole one): 0 mostly. */
function startOfFormAtEnd(text: string, forms: string[]): number {
  for (let length = Math.min(text.length, Math.max(0, ...forms.map((form) => form.length - 1))); length > 0; length--) {
    const end = text.slice(text.length - length);
    if (forms.some((form) => form.length > length && form.startsWith(end))) return length;
  }
  return 0;
}

/** CORS for an allowed origin: the request id readable by the page, fal's headers sendable. */
function corsHeaders(request: Request, allowedOrigins: readonly string[] | ((origin: string) => boolean)): Headers {
  const headers = new Headers();
  const origin = request.headers.get("origin");
  const allowed = typeof allowedOrigins === "function" ? (o: string) => allowedOrigins(o) : (o: string) => allowedOrigins.includes(o);
  if (!origin || !allowed(origin)) return headers;
  headers.set("Access-Control-Allow-Origin", origin);
  headers.set("Vary", "Origin");
  headers.set("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS");
  headers.set("Access-Control-Allow-Headers", request.headers.get("access-control-request-headers") ?? "content-type, x-fal-target-url");
  headers.set("Access-Control-Expose-Headers", "x-fal-request-id, x-fal-error-type, x-fal-retryable, x-fal-request-timeout-type, retry-after");
  return headers;
}

function json(status: number, body: unknown, cors: Headers): Response {
  const headers = new Headers(cors);
  headers.set("Content-Type", "application/json");
  return new Response(JSON.stringify(body), { status, headers });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
