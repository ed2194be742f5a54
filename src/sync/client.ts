// The synchronous call (fal.run) of one endpoint, given as its generated entry, for an app that needs
// no queue: what it ships is the call, its validators and openapi-fetch. src/client.ts builds on it,
// and src/image-to-image.ts binds it to this package's endpoint.
import createClient, { type Client } from "openapi-fetch";
import { defaultBaseUrl } from "../../generated/spec.js";
import { clientSetup, type ClientSetup } from "../core/client-setup.js";
import { parseBaseUrl, type AuthScheme } from "../core/credentials.js";
import { checkedEndpointId, endpointPath } from "../core/endpoint.js";
import { uploadContext, withUploadedImage } from "../storage/upload.js";
import { callHeaders, type CallHooks } from "../core/call-controls.js";
import { FluxResponseError } from "../core/errors.js";
import { apiError, networkError, parseErrorBody } from "../core/errors-from-answers.js";
import { platformParameters } from "../core/platform-options.js";
import { BodyReadError, maxAnswerBytes, readBody } from "../core/read-body.js";
import { offSpecAnswer, parseJson } from "../core/transport.js";
import { withExactSeed } from "../core/seed.js";
import { timeLimit } from "../core/time-limit.js";
import type { CallHeaders, FetchLike, PlatformOptions, SyncEndpoint, WithResponse, WithResponseCall } from "../core/types.js";
import { checkOutput, serializeInput } from "../core/validation.js";

/** `Id`: the ids the endpoint answers to (its entry's `ids`). */
export interface SyncClientOptions<Id extends string = string> extends CallHooks {
  /** fal's API key (`key_id:key_secret`). Default: `FAL_KEY`, else `FAL_KEY_ID` + `FAL_KEY_SECRET`. */
  credentials?: string;
  /** Default: the spec's server, `https://fal.run`. Plain http is refused except to loopback. */
  baseUrl?: string;
  /** Default: `globalThis.fetch`. Called as `fetch(url, init)`. */
  fetch?: FetchLike;
  /** Default `Key`, what fal.run takes; `Bearer` for gateways that expect the seed document's form. */
  authScheme?: AuthScheme;
  /** Check each 200 body against the spec's output schema. Default true. */
  validateResponse?: boolean;
  /**
   * Time limit of a sync call, from sending to the last byte of its answer.
   * Default 300 000 ms: room for a cold start and a wait for a runner, while a server that goes
   * silent cannot hang the caller for ever. The call is billed even when the limit cuts it.
   */
  syncTimeoutMs?: number;
  /**
   * The id the call names the endpoint by: the one its documents are written with (the default), or
   * an alias of it (`x-endpoint`): the same endpoint, with the same input and output.
   */
  endpointId?: Id;
  /**
   * fal storage's server, where an `image_url` given as bytes (a `Blob`, `File`, typed array or
   * stream) is uploaded before the call. Default: the storage document's, `https://rest.fal.ai`.
   */
  storageUrl?: string;
}

/** A sync call's options: fal's platform headers, a signal to abort it, its own time limit and headers. */
export interface CallOptions extends PlatformOptions {
  signal?: AbortSignal;
  /** This call's time limit in ms, from sending to the answer's last byte; default: the client's `syncTimeoutMs`. */
  syncTimeoutMs?: number;
  /** @deprecated The same as `syncTimeoutMs`, its name before three limits had three names. */
  timeout?: number;
  /** Headers of this call's own: not `Authorization` (the key is the client's), nor a platform header (its option). */
  headers?: CallHeaders;
}

/** `Paths`: the endpoint document's paths (openapi-typescript's), which type `raw`; `In`, `Out`: its input and output as the client takes and gives them. */
export interface SyncEndpointClient<Paths extends {}, In, Out> {
  /**
   * Runs the endpoint synchronously. The input is checked against the spec first: a bad one throws
   * {@link FluxValidationError} and nothing is sent.
   * @throws FluxValidationError | FluxApiError | FluxResponseError | FluxNetworkError
   */
  run: WithResponseCall<[input: In, options?: CallOptions], Out>;
  /** The openapi-fetch client itself, typed by the spec, with the same base URL and credentials. */
  readonly raw: Client<Paths>;
  readonly baseUrl: string;
}

/**
 * openapi-fetch builds a `Request` per call and fetch then copies it, which is most of
 * openapi-fetch's overhead (npm run bench). Passed as its documented `Request` option, this
 * stand-in only keeps the url and init for one `fetch(url, init)`. `raw` keeps the real `Request`,
 * so middleware there sees what it expects.
 */
class PreparedRequest {
  readonly method: string | undefined;
  constructor(
    readonly url: string,
    readonly init: RequestInit,
  ) {
    this.method = init.method;
  }
}

/**
 * The two openapi-fetch clients on the client's fetch: `raw` (the public one, real Requests, so
 * that middleware sees what it expects) and `callClient` (the call's: PreparedRequest; a success is
 * handed on unread, for the call to read with its cap (`parseAs: "stream"`), an error answer is read
 * here with the cap, since openapi-fetch would read it whole, its text kept in `errorTexts`). No
 * redirect is followed, on either: it would take the key where an answer points.
 */
function openapiClients(baseUrl: string, headers: Record<string, string>, fetchImpl: FetchLike, onEndpoint: (url: string) => string) {
  const raw = createClient({
    baseUrl,
    headers,
    fetch: (request: Request) => {
      const url = onEndpoint(request.url);
      return fetchImpl(url === request.url ? request : new Request(url, request), { redirect: "manual" });
    },
  });
  const errorTexts = new WeakMap<Response, string>();
  const callClient = createClient<AnyPaths>({
    baseUrl,
    headers,
    Request: PreparedRequest as unknown as typeof Request,
    fetch: async (request) => {
      const { url, init } = request as unknown as PreparedRequest;
      const response = await fetchImpl(onEndpoint(url), { ...init, redirect: "manual" });
      if (response.ok) return response;
      const text = await readBody(response, maxAnswerBytes.output);
      const bodiless = new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
      errorTexts.set(bodiless, text);
      return bodiless;
    },
  });
  return { raw, callClient, errorTexts };
}

/** openapi-fetch's view of a document's paths, for a call whose path comes from the entry at run time. */
type AnyPaths = Record<
  string,
  { post: { parameters: { header?: Record<string, string> }; requestBody: { content: { "application/json": unknown } }; responses: Record<number, unknown> } }
>;

/** The call's answer as its output: an error answer as FluxApiError, a body off the spec as FluxResponseError (not retryable: the call is billed), the seed exact. */
function outputOf(endpoint: SyncEndpoint, response: Response, text: string, keyGiven: boolean, validateResponse: boolean): unknown {
  const requestId = response.headers.get("x-fal-request-id") ?? undefined;
  if (!response.ok) throw apiError(response, parseErrorBody(text), endpoint.run.retryableByStatus, keyGiven);
  // An empty body is left to the output check, which names what is missing.
  const data = text ? parseJson(text, "the call", requestId, false) : undefined;
  if (validateResponse) {
    const outputIssues = checkOutput(endpoint, data);
    if (outputIssues.length) throw offSpecAnswer("the call", data, outputIssues, requestId);
  }
  withExactSeed(data, text);
  return data;
}

/**
 * The sync call of `endpoint` (a generated entry). `setup`: the key and wrapped fetch a client
 * shares between its halves (createEndpointClient's); made here when alone.
 */
export function createSyncClient<Paths extends {}, In, Out>(endpoint: SyncEndpoint, options: SyncClientOptions = {}, setup?: ClientSetup): SyncEndpointClient<Paths, In, Out> {
  const baseUrl = options.baseUrl ?? defaultBaseUrl;
  parseBaseUrl(baseUrl);
  const client = setup ?? clientSetup(options);
  const fetchImpl = client.fetch;
  const headers = client.keyHeaders([baseUrl]);
  const validateResponse = options.validateResponse ?? true;
  const syncTimeoutMs = options.syncTimeoutMs ?? 300_000;
  // openapi-fetch knows the documents' path; under another id the same call goes to that id's path.
  const endpointId = checkedEndpointId(endpoint.ids, options.endpointId);
  const { path } = endpoint.run;
  const upload = uploadContext(options, client);
  const onEndpoint = (url: string) => {
    if (endpointId === endpoint.ids[0]) return url;
    const target = new URL(url);
    if (target.pathname.endsWith(path)) target.pathname = target.pathname.slice(0, -path.length) + endpointPath(endpoint.ids, path, endpointId);
    return target.href;
  };

  const { raw, callClient, errorTexts } = openapiClients(baseUrl, headers, fetchImpl, onEndpoint);

  async function run(given: unknown, call: CallOptions = {}): Promise<WithResponse<unknown>> {
    // An image given as bytes is uploaded first, once the rest of the call is known to be good.
    const precheck = (checked: unknown) => void platformParameters(call, endpoint.run, client.carriesKey, serializeInput(endpoint, checked).issues);
    const input = await withUploadedImage(given, upload, precheck, call.signal);
    const body = serializeInput(endpoint, input);
    const platform = platformParameters(call, endpoint.run, client.carriesKey, body.issues);
    const limitMs = call.syncTimeoutMs ?? call.timeout ?? syncTimeoutMs;
    const extra = callHeaders(call.headers);
    const limit = timeLimit(limitMs, [call.signal]);

    const answer = await callClient
      .POST(path, {
        // No params at all when no header is set: openapi-fetch then has nothing to merge.
        ...(Object.keys(platform.headers).length ? { params: { header: platform.headers } } : {}),
        ...(Object.keys(extra).length ? { headers: extra } : {}),
        body: input,
        // The bytes that were checked, not a second serialization of the object.
        bodySerializer: () => body.text,
        // Left unread: read below as text, with its cap, so that a seed above 2^53 can be recovered from its digits.
        parseAs: "stream",
        signal: limit.signal,
      })
      .then(async ({ response }) => ({ response, text: errorTexts.get(response) ?? (await readBody(response, maxAnswerBytes.output)) }))
      .catch((error: unknown) => {
        if (call.signal?.aborted) throw call.signal.reason;
        if (error instanceof BodyReadError && error.tooLarge) throw new FluxResponseError(`fal's answer to the call: ${error.message}`, undefined, [], undefined);
        const cause = error instanceof BodyReadError ? (error.cause ?? error) : error;
        throw networkError(cause, baseUrl, { timedOutAfterMs: limit.expired ? limitMs : undefined });
      })
      .finally(limit.clear);
    const { response, text } = answer;
    const data = outputOf(endpoint, response, text, client.hasKey, validateResponse);
    return { data, requestId: response.headers.get("x-fal-request-id") ?? undefined, response };
  }

  // The answer is copied (its key-free headers, no body) only for withResponse: a Response costs
  // about as much to build as the rest of the call's own work (npm run bench).
  const withResponse = client.redacting(async (input: In, call?: CallOptions) => {
    const { data, requestId, response } = await run(input, call);
    // The entry's output validator checked it (unless validateResponse is off): it is the endpoint's `Out`.
    return { data: data as Out, requestId, response: client.answerCopy(response) };
  });
  const outputOnly = client.redacting(async (input: In, call?: CallOptions) => (await run(input, call)).data as Out);
  return { run: Object.assign(outputOnly, { withResponse }), raw: raw as unknown as Client<Paths>, baseUrl };
}
