// flux-i2i/proxy: the server half of a browser app, on the Fetch API (Request in, Response out), so
// that any framework speaking it (Next.js, Hono, Bun, Deno, Workers) mounts it as it is, and
// node:http or Express through `toNodeHandler`. The browser sends its calls here with no key; the
// proxy checks each against this endpoint's routes, refuses other sites, asks the app whether the
// caller may spend, adds the key and streams fal's answer back: status codes, headers, the status
// event stream, with every form of the key cut out.
//
// It sits on the open internet with the key behind it, so it answers every request, however
// broken, and never lets a failure escape to its host: a refusal is a 4xx, a failure of its own or
// of fal's a 500 or 502 with a generic body.
//
// Two ways in: fal's own convention (the real URL in `x-fal-target-url`, what `@fal-ai/client`
// sends with `proxyUrl`), and paths (`BASE/run/...`, `BASE/queue/...` and `BASE/storage/...`, what
// this package's client sends with `baseUrl` / `queueUrl` pointed here). fal storage's upload
// initiate call is let through as `@fal-ai/server-proxy` lets it (`libs/proxy/src/config.ts`), so
// that fal's client uploads a `Blob` through it; the bytes then go by `PUT` straight to the signed
// URL fal answered, never through here.
import { defaultBaseUrl, defaultQueueUrl, defaultStorageUrl, endpointIds, operationResponses, storageUpload } from "../../generated/spec.js";
import { validateRequestId } from "../../generated/validators.js";
import { assertSafeTransport, authorizationHeader, resolveCredentials } from "../core/credentials.js";
import { endpointPath } from "../core/endpoint.js";
import { BodyReadError, maxAnswerBytes, readBytes } from "../core/read-body.js";
import { redactText, streamRedactor } from "../core/redaction.js";
import type { FetchLike, OperationId } from "../core/types.js";

export { toNodeHandler, type NodeHandlerOptions } from "./node-handler.js";
export type { OperationId } from "../core/types.js";

/** What a request will be forwarded as: what `authorize` decides on. */
export interface ProxyTarget {
  /** The spec's operation: the endpoint's sync call (fal.run) and submit, `getQueueStatus`, `streamQueueStatus`, `getQueueResult` or `cancelQueueRequest`. */
  operationId: OperationId;
  method: string;
  /** The fal URL it goes to. */
  url: string;
  /** The job's id, for an operation on a job. */
  requestId?: string;
}

export interface FalProxyOptions {
  /** fal's key. Default: `FAL_KEY`, else `FAL_KEY_ID` + `FAL_KEY_SECRET`. */
  credentials?: string;
  /**
   * Whether this caller may spend your fal account, asked before anything is forwarded and told
   * what will be (`target`): check your app's session here, from the headers (a cookie, a token);
   * the body is forwarded as it came and must not be read. Only `true` lets the request through; a
   * Response (of any realm: told by its shape) is answered as it is; anything else (`false`, `"no"`,
   * `{ allowed: false }`) refuses it with 401, and a throw or rejection with 500. Default: everyone,
   * which only a route that is not public may rely on.
   */
  authorize?: (request: Request, target: ProxyTarget) => unknown;
  /** Where the path-based routes are mounted. Default `/api/fal`: `/api/fal/run/...`, `/api/fal/queue/...`. */
  basePath?: string;
  /**
   * Origins (`https://app.example.com`), or a test of one, whose pages may call from another
   * origin. A request whose `Origin` is neither one of these nor the proxy's own host is refused
   * (403) before `authorize`. Default: none (same host only).
   */
  allowedOrigins?: readonly string[] | ((origin: string) => boolean);
  /**
   * The largest request body forwarded, counted as it arrives. Default 20 MiB: a 10 MiB image sent
   * inline as a data URI is about 13.4 MiB of base64 (the command line's own limit), with room.
   */
  maxBodyBytes?: number;
  /**
   * The most of an answer passed on, counted after fetch has inflated it. Default 128 MiB, the
   * client's own cap on a result (four large images inline); past it the answer is cut.
   */
  maxAnswerBytes?: number;
  /** fal's servers. Default: the spec's (`https://fal.run`, `https://queue.fal.run`, `https://rest.fal.ai`); a test points them at a fake. https, or plain http on this machine only. */
  runUrl?: string;
  queueUrl?: string;
  /** fal storage's server, for the upload's initiate call (openapi/storage.yaml). */
  storageUrl?: string;
  fetch?: FetchLike;
  /**
   * Told of each failure answered with a 500 or 502 (or a stream cut short), for your logs: the
   * caller only sees a generic message. What it throws is ignored.
   */
  onError?: (error: unknown) => void;
}

export const targetUrlHeader = "x-fal-target-url";

/** A small answer of known length is read whole and cleaned in one pass, which is cheaper than streaming it. */
const wholeAnswerBytes = 1024 * 1024;

type Kind = "run" | "queue" | "storage";

/** What every request shares: made once, when the proxy is. */
interface Settings {
  key: string | undefined;
  authorization: string;
  routes: { pattern: RegExp; upstreams: Record<Kind, string> };
  originAllowed: (origin: string) => boolean;
  authorize: FalProxyOptions["authorize"];
  maxBodyBytes: number;
  maxAnswerBytes: number;
  fetch: FetchLike;
  report: (error: unknown) => void;
}

/** The handler: `(request: Request) => Promise<Response>`. It always resolves, with an answer to every request. */
export function createFalProxy(options: FalProxyOptions = {}): (request: Request) => Promise<Response> {
  const key = resolveCredentials(options.credentials);
  const basePath = (options.basePath ?? "/api/fal").replace(/\/+$/, "");
  const upstreams = { run: options.runUrl ?? defaultBaseUrl, queue: options.queueUrl ?? defaultQueueUrl, storage: options.storageUrl ?? defaultStorageUrl };
  // The key goes where the client would send it: https, or plain http to this machine (a fake).
  for (const url of Object.values(upstreams)) assertSafeTransport(url);
  const allowed = options.allowedOrigins ?? [];
  const settings: Settings = {
    key,
    // Made once: a key no header can carry fails here, when the app starts, not on a user's call.
    authorization: key ? authorizationHeader(key, "Key") : "",
    routes: { pattern: new RegExp(`^${escapeRegExp(basePath)}/(run|queue|storage)(/.*)$`), upstreams },
    originAllowed: typeof allowed === "function" ? allowed : (origin) => allowed.includes(origin),
    authorize: options.authorize,
    maxBodyBytes: options.maxBodyBytes ?? 20 * 1024 * 1024,
    maxAnswerBytes: options.maxAnswerBytes ?? maxAnswerBytes.output,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    report: (error) => {
      try {
        options.onError?.(error);
      } catch {
        // A logger's failure is not the caller's.
      }
    },
  };
  return async (request) => {
    try {
      return await handle(request, settings);
    } catch (error) {
      settings.report(error);
      return json(500, { detail: "the proxy could not handle this request" }, new Headers());
    }
  };
}

async function handle(request: Request, s: Settings): Promise<Response> {
  // Another site's page must not spend the key: its Origin is refused before anything else.
  const origin = request.headers.get("origin");
  const crossSite = origin !== null && !sameHost(origin, request.url);
  if (crossSite && !s.originAllowed(origin)) return json(403, { detail: "not forwarded: a request from another site whose origin is not allowed" }, new Headers());
  const cors = crossSite ? corsHeaders(request, origin) : new Headers();
  const refuse = (status: number, message: string) => json(status, { detail: message }, cors);
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
  if (!s.key) return refuse(500, "the proxy has no fal key: set FAL_KEY on the server");

  const target = targetOf(request, s.routes);
  if ("refusal" in target) return refuse(target.status, `not forwarded: ${target.refusal}`);
  const wrongType = bodyTypeRefusal(request);
  if (wrongType) return refuse(415, `not forwarded: ${wrongType}`);

  const verdict = await decide(s, request, target);
  if (verdict instanceof Response) return verdict;
  if (verdict !== true) return verdict === "failed" ? refuse(500, "not forwarded: the check of this caller failed") : refuse(401, "not allowed to call fal");

  const body = await requestBody(request, s.maxBodyBytes);
  if (typeof body === "object" && "refusal" in body) return refuse(body.status, body.refusal);

  let upstream: Response;
  try {
    upstream = await s.fetch(target.url, {
      method: request.method,
      headers: forwardedHeaders(request.headers, s.authorization),
      body,
      signal: request.signal,
      // A redirect is passed back, never followed: it would take the key past the routes above.
      redirect: "manual",
    });
  } catch (error) {
    // A caller that went away aborted the call itself: nothing failed.
    if (!request.signal.aborted) s.report(error);
    return refuse(502, "fal could not be reached");
  }
  return passThrough(upstream, cors, { ...s, report: (error) => request.signal.aborted || s.report(error) });
}

/** Whether `origin` (a request's `Origin`) is the request's own host. The scheme is not compared: behind a TLS terminator the proxy sees http (Next.js's server actions compare the same way). */
function sameHost(origin: string, url: string): boolean {
  try {
    return new URL(origin).host === new URL(url).host;
  } catch {
    return false; // `Origin: null` (a sandboxed frame, a file) is no host's
  }
}

type Refusal = { refusal: string; status: number };

/** What a request is for: from its path under `basePath`, or from `x-fal-target-url`; refused when they disagree or it is no route of this endpoint. */
function targetOf(request: Request, { pattern, upstreams }: Settings["routes"]): ProxyTarget | Refusal {
  const incoming = new URL(request.url);
  const named = request.headers.get(targetUrlHeader);
  const match = pattern.exec(incoming.pathname);
  let url: URL;
  let kinds: Kind[];
  if (match) {
    kinds = [match[1] as Kind];
    url = new URL(`${upstreams[match[1] as Kind].replace(/\/+$/, "")}${match[2]}${incoming.search}`);
    // An authorize that reads the path must judge what is forwarded: the two may not differ.
    if (named !== null && parseUrl(named)?.href !== url.href) return { refusal: `${targetUrlHeader} names another URL than the path`, status: 400 };
  } else if (named !== null) {
    const parsed = parseUrl(named);
    if (!parsed) return { refusal: "the target URL is not a URL", status: 400 };
    url = parsed;
    // fal's server by the URL's origin (both, when a test points the two at one fake).
    kinds = (Object.keys(upstreams) as Kind[]).filter((k) => new URL(upstreams[k]).origin === parsed.origin);
  } else return { refusal: "not a route of this proxy", status: 404 };
  if (url.username || url.password) return { refusal: "the target URL carries a user name or password", status: 400 };
  if (!kinds.length) return { refusal: `${url.origin} is not fal's`, status: 403 };
  const routes = kinds.map((kind) => routeOf(kind, request.method, url.pathname));
  const route = routes.find((found) => typeof found === "object");
  if (typeof route !== "object") {
    return { refusal: `${request.method} ${url.pathname} is not a route of this endpoint`, status: routes.includes("method") ? 405 : 403 };
  }
  // Storage: exactly the URL fal's clients call and fal's own proxy allows, its query included.
  if (operationResponses[route.operationId].document === "storage" && url.search !== `?storage_type=${storageUpload.storageType}`) {
    return { refusal: `fal storage is reached with ?storage_type=${storageUpload.storageType} only`, status: 403 };
  }
  return { ...route, method: request.method, url: url.href };
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Each of fal's servers and the spec's document whose operations it serves. */
const documentOf = { run: "sync", queue: "queue", storage: "storage" } as const satisfies Record<Kind, string>;

/**
 * The routes on each of fal's servers, made once: every operation of its document under each of
 * the endpoint's ids (the path template a request is matched against).
 */
const routesOn = Object.fromEntries(
  (Object.keys(documentOf) as Kind[]).map((kind) => [
    kind,
    (Object.keys(operationResponses) as OperationId[])
      .filter((operationId) => operationResponses[operationId].document === documentOf[kind])
      .flatMap((operationId) => endpointIds.map((endpointId) => ({ operationId, method: operationResponses[operationId].method as string, template: endpointPath(endpointIds, operationResponses[operationId].path, endpointId) }))),
  ]),
) as Record<Kind, { operationId: OperationId; method: string; template: string }[]>;

/**
 * The operation `method path` is on that server (the spec's paths under any of the endpoint's ids,
 * a job's id of the spec's form), or "method" for a known path with another method, or "none".
 */
function routeOf(kind: Kind, method: string, path: string): Pick<ProxyTarget, "operationId" | "requestId"> | "method" | "none" {
  let pathKnown = false;
  for (const route of routesOn[kind]) {
    const requestId = matchPath(route.template, path);
    if (requestId === undefined) continue;
    pathKnown = true;
    if (route.method === method) return requestId ? { operationId: route.operationId, requestId } : { operationId: route.operationId };
  }
  return pathKnown ? "method" : "none";
}

/** undefined when `path` is not the template's; else the request id it names ("" when the template has none). */
function matchPath(template: string, path: string): string | undefined {
  if (!template.includes("{request_id}")) return path === template ? "" : undefined;
  const [prefix, suffix] = template.split("{request_id}") as [string, string];
  if (!path.startsWith(prefix) || !path.endsWith(suffix) || path.length <= prefix.length + suffix.length) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(path.slice(prefix.length, path.length - suffix.length));
  } catch {
    return undefined;
  }
  return validateRequestId(id) ? id : undefined;
}

/**
 * Why a body may not be forwarded, or undefined. A POST carries JSON, and says so: a form or
 * `text/plain` (the types a page of another site may send without asking first) is refused, so
 * that no cross-site form can start a paid job even where the Origin check cannot see it. A PUT
 * (cancel) has no body; if it names a type, JSON.
 */
function bodyTypeRefusal(request: Request): string | undefined {
  const type = request.headers.get("content-type");
  const isJson = type !== null && /^application\/json\s*(;|$)/i.test(type.trim());
  if (request.method === "POST" && !isJson) return "a POST must be sent as Content-Type: application/json";
  if (request.method === "PUT" && type !== null && !isJson) return "a PUT's body, if any, must be application/json";
  return undefined;
}

/** `authorize`'s verdict: true, a Response of its own, "refused" for anything else, "failed" when it threw. */
async function decide(s: Settings, request: Request, target: ProxyTarget): Promise<true | Response | "refused" | "failed"> {
  if (!s.authorize) return true;
  let verdict: unknown;
  try {
    verdict = await s.authorize(request, target);
  } catch (error) {
    s.report(error);
    return "failed";
  }
  if (verdict === true) return true;
  if (isResponseLike(verdict)) return verdict instanceof Response ? verdict : await nativeCopy(verdict);
  return "refused";
}

type ResponseLike = Pick<Response, "status" | "statusText" | "arrayBuffer"> & { headers: { forEach(each: (value: string, name: string) => void): void } };

/** A Response by its shape, whatever realm made it (node-fetch's, undici's, another frame's): `instanceof` would let those through. */
function isResponseLike(value: unknown): value is ResponseLike {
  const candidate = value as Partial<ResponseLike> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.status === "number" &&
    typeof candidate.arrayBuffer === "function" &&
    typeof candidate.headers?.forEach === "function"
  );
}

/** A Response of another realm as one of this realm, with its status, status text, headers and body. */
async function nativeCopy(foreign: ResponseLike): Promise<Response> {
  const headers = new Headers();
  foreign.headers.forEach((value, name) => headers.append(name, value));
  const body = nullBodyStatuses.has(foreign.status) ? null : await foreign.arrayBuffer();
  return new Response(body, { status: foreign.status, statusText: foreign.statusText, headers });
}

const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);

/** The request's body, at most `maxBytes` counted as they arrive (whatever Content-Length says), or why it is refused. */
async function requestBody(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | undefined | Refusal> {
  if (request.method === "GET" || request.method === "HEAD" || !request.body) return undefined;
  if (request.bodyUsed) return { refusal: "the request body was read before it could be forwarded (authorize must not read it)", status: 500 };
  try {
    return await readBytes(request, maxBytes);
  } catch (error) {
    if (error instanceof BodyReadError && error.tooLarge) return { refusal: `the request body is larger than ${maxBytes} bytes`, status: 413 };
    return { refusal: "the request body could not be read whole", status: 400 };
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

/**
 * Headers of fal's answer that are not passed on: those fetch has already acted on (the body is
 * inflated), hop-by-hop ones, cookies (fal's session is not the app's), and CORS (the proxy's own
 * decide what a page may read, not fal's `*`).
 */
const droppedHeaders = new Set(["content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer", "te", "proxy-authenticate", "set-cookie", "set-cookie2"]);

/**
 * fal's answer as it came: status, status text and headers (with every form of the key cut out),
 * and the body, small ones whole and cleaned at once, the status stream and large ones cleaned as
 * they pass, capped after inflation.
 */
async function passThrough(upstream: Response, cors: Headers, s: Settings): Promise<Response> {
  const headers = new Headers();
  upstream.headers.forEach((value, name) => {
    if (!droppedHeaders.has(name) && !name.startsWith("access-control-")) headers.append(name, redactText(value, s.key));
  });
  cors.forEach((value, name) => (name === "vary" ? headers.append(name, value) : headers.set(name, value)));
  const init = { status: upstream.status, statusText: redactText(upstream.statusText, s.key), headers };
  if (!upstream.body || nullBodyStatuses.has(upstream.status)) {
    await upstream.body?.cancel().catch(() => undefined);
    return new Response(null, init);
  }
  const eventStream = (upstream.headers.get("content-type") ?? "").includes("text/event-stream");
  const length = Number(upstream.headers.get("content-length") ?? Number.NaN);
  const compressed = !/^(identity)?$/i.test(upstream.headers.get("content-encoding")?.trim() ?? "");
  if (eventStream || compressed || !(length <= wholeAnswerBytes)) {
    return new Response(relay(upstream.body, { eventStream, key: s.key, maxBytes: s.maxAnswerBytes, report: s.report }), init);
  }
  let text: string;
  try {
    text = new TextDecoder().decode(await readBytes(upstream, wholeAnswerBytes));
  } catch (error) {
    s.report(error);
    return json(502, { detail: "fal's answer was cut short" }, cors);
  }
  return new Response(redactText(text, s.key), init);
}

/**
 * fal's body passed on as it arrives, redacted, at most `maxBytes` (counted inflated). When fal
 * cuts it, or it passes the cap, a status event stream ends cleanly (a client then polls, as it
 * would for any stream that ends early); any other body fails, so that the browser never takes a
 * body cut short for a whole one.
 */
function relay(
  body: ReadableStream<Uint8Array>,
  options: { eventStream: boolean; key: string | undefined; maxBytes: number; report: (error: unknown) => void },
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const redactor = streamRedactor(options.key);
  let bytes = 0;
  const stop = (controller: ReadableStreamDefaultController<Uint8Array>, error: unknown) => {
    options.report(error);
    const rest = redactor.flush();
    if (rest.byteLength) controller.enqueue(rest);
    if (options.eventStream) controller.close();
    else controller.error(error);
  };
  return new ReadableStream<Uint8Array>({
    // Reads until it has something to pass on: a pull that enqueues nothing is not called again.
    async pull(controller) {
      for (;;) {
        let read: ReadableStreamReadResult<Uint8Array>;
        try {
          read = await reader.read();
        } catch (error) {
          return stop(controller, error);
        }
        if (read.done) {
          const rest = redactor.flush();
          if (rest.byteLength) controller.enqueue(rest);
          return controller.close();
        }
        bytes += read.value.byteLength;
        if (bytes > options.maxBytes) {
          await reader.cancel().catch(() => undefined);
          return stop(controller, new Error(`fal's answer passed ${options.maxBytes} bytes`));
        }
        const clean = redactor.push(read.value);
        if (clean.byteLength) return controller.enqueue(clean);
      }
    },
    cancel: (reason) => reader.cancel(reason).catch(() => undefined),
  });
}

/** CORS for an allowed origin: the request id readable by the page, fal's headers sendable. */
function corsHeaders(request: Request, origin: string): Headers {
  const headers = new Headers();
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
