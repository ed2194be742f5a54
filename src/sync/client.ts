// flux-i2i/sync: the synchronous call alone (fal.run), for an app that needs no queue: what it
// ships is the call, its validators and openapi-fetch. createFluxClient builds on it.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "../../generated/image-to-image.js";
import { defaultBaseUrl, endpointIds, imageToImageParameters, retryableByStatus, syncPath } from "../../generated/spec.js";
import { validateRunParameters, type Validator } from "../../generated/validators.js";
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
import type { CallHeaders, EndpointId, FetchLike, ImageToImageInput, ImageToImageOutput, PlatformOptions, RunParameters, WithResponse, WithResponseCall } from "../core/types.js";
import { checkOutput, serializeInput } from "../core/validation.js";

type SpecInput = components["schemas"]["ImageToImageInput"];

export interface SyncClientOptions extends CallHooks {
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
   * Time limit of a sync call (`imageToImage`), from sending to the last byte of its answer.
   * Default 300 000 ms: room for a cold start and a wait for a runner, while a server that goes
   * silent cannot hang the caller for ever. The call is billed even when the limit cuts it.
   */
  syncTimeoutMs?: number;
  /**
   * The id the call names this endpoint by: the spec's `fal-ai/flux-1/dev/image-to-image` (the
   * default), or `fal-ai/flux/dev/image-to-image`, the one fal's docs page for the model prints.
   * Both are this endpoint, with the same input and output.
   */
  endpointId?: EndpointId;
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
  timeout?: number;
  /** Headers of this call's own: not `Authorization` (the key is the client's), nor a platform header (its option). */
  headers?: CallHeaders;
}

export interface SyncClient {
  /**
   * Runs FLUX.1 [dev] image-to-image synchronously. The input is checked against the spec first:
   * a bad one throws {@link FluxValidationError} and nothing is sent.
   * @throws FluxValidationError | FluxApiError | FluxResponseError | FluxNetworkError
   */
  imageToImage: WithResponseCall<[input: ImageToImageInput, options?: CallOptions], ImageToImageOutput>;
  /** The openapi-fetch client itself, typed by the spec, with the same base URL and credentials. */
  readonly raw: Client<paths>;
  readonly baseUrl: string;
}

const path = syncPath;
const runParameters = { validate: validateRunParameters as Validator<unknown>, locations: imageToImageParameters };

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
 * that middleware sees what it expects) and `callClient` (the call's: PreparedRequest, its answer's body
 * read with its cap and kept in `bodies` beside the bodiless Response openapi-fetch is handed). No
 * redirect is followed, on either: it would take the key where an answer points.
 */
function openapiClients(baseUrl: string, headers: Record<string, string>, fetchImpl: FetchLike, onEndpoint: (url: string) => string) {
  const raw = createClient<paths>({
    baseUrl,
    headers,
    fetch: (request: Request) => {
      const url = onEndpoint(request.url);
      return fetchImpl(url === request.url ? request : new Request(url, request), { redirect: "manual" });
    },
  });
  const bodies = new WeakMap<Response, string>();
  const callClient = createClient<paths>({
    baseUrl,
    headers,
    Request: PreparedRequest as unknown as typeof Request,
    fetch: async (request) => {
      const { url, init } = request as unknown as PreparedRequest;
      const response = await fetchImpl(onEndpoint(url), { ...init, redirect: "manual" });
      const text = await readBody(response, maxAnswerBytes.output);
      const bodiless = new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
      bodies.set(bodiless, text);
      return bodiless;
    },
  });
  return { raw, callClient, bodies };
}

/** The call's answer as its output: an error answer as FluxApiError, a body off the spec as FluxResponseError (not retryable: the call is billed), the seed exact. */
function outputOf(response: Response, text: string, keyGiven: boolean, validateResponse: boolean): ImageToImageOutput {
  const requestId = response.headers.get("x-fal-request-id") ?? undefined;
  if (!response.ok) throw apiError(response, parseErrorBody(text), retryableByStatus, keyGiven);
  // An empty body is left to the output check, which names what is missing.
  const data = text ? parseJson(text, "the call", requestId, false) : undefined;
  if (validateResponse) {
    const outputIssues = checkOutput(data);
    if (outputIssues.length) throw offSpecAnswer("the call", data, outputIssues, requestId);
  }
  const output = data as ImageToImageOutput;
  withExactSeed(output, text);
  return output;
}

/** `setup`: the key and wrapped fetch a client shares between its halves (createFluxClient's); made here when alone. */
export function createSyncClient(options: SyncClientOptions = {}, setup?: ClientSetup): SyncClient {
  const baseUrl = options.baseUrl ?? defaultBaseUrl;
  parseBaseUrl(baseUrl);
  const client = setup ?? clientSetup(options);
  const fetchImpl = client.fetch;
  const headers = client.keyHeaders([baseUrl]);
  const validateResponse = options.validateResponse ?? true;
  const syncTimeoutMs = options.syncTimeoutMs ?? 300_000;
  // openapi-fetch knows the documents' path; under another id the same call goes to that id's path.
  const endpointId = checkedEndpointId(options.endpointId);
  const upload = uploadContext(options, client);
  const onEndpoint = (url: string) => {
    if (endpointId === endpointIds[0]) return url;
    const target = new URL(url);
    if (target.pathname.endsWith(path)) target.pathname = target.pathname.slice(0, -path.length) + endpointPath(path, endpointId);
    return target.href;
  };

  const { raw, callClient, bodies } = openapiClients(baseUrl, headers, fetchImpl, onEndpoint);

  async function imageToImage(given: ImageToImageInput, call: CallOptions = {}): Promise<WithResponse<ImageToImageOutput>> {
    // An image given as bytes is uploaded first, once the rest of the call is known to be good.
    const precheck = (checked: unknown) => void platformParameters(call, runParameters, client.carriesKey, serializeInput(checked).issues);
    const input = await withUploadedImage(given, upload, precheck, call.signal);
    const body = serializeInput(input);
    const platform = platformParameters(call, runParameters, client.carriesKey, body.issues);
    const limitMs = call.timeout ?? syncTimeoutMs;
    const extra = callHeaders(call.headers);
    const limit = timeLimit(limitMs, [call.signal]);

    const result = await callClient
      .POST(path, {
        // No params at all when no header is set: openapi-fetch then has nothing to merge.
        ...(Object.keys(platform.headers).length ? { params: { header: platform.headers as RunParameters } } : {}),
        ...(Object.keys(extra).length ? { headers: extra } : {}),
        body: input as SpecInput,
        // The bytes that were checked, not a second serialization of the object.
        bodySerializer: () => body.text,
        // Read as text so that a seed above 2^53 can be recovered from its digits.
        parseAs: "text",
        signal: limit.signal,
      })
      .catch((error: unknown) => {
        if (call.signal?.aborted) throw call.signal.reason;
        if (error instanceof BodyReadError && error.tooLarge) throw new FluxResponseError(`fal's answer to the call: ${error.message}`, undefined, [], undefined);
        const cause = error instanceof BodyReadError ? (error.cause ?? error) : error;
        throw networkError(cause, baseUrl, { timedOutAfterMs: limit.expired ? limitMs : undefined });
      })
      .finally(limit.clear);
    const { response } = result;
    return { data: outputOf(response, bodies.get(response) ?? "", client.hasKey, validateResponse), requestId: response.headers.get("x-fal-request-id") ?? undefined, response };
  }

  // The answer is copied (its key-free headers, no body) only for withResponse: a Response costs
  // about as much to build as the rest of the call's own work (npm run bench).
  const withResponse = client.redacting(async (input: ImageToImageInput, call?: CallOptions) => {
    const { data, requestId, response } = await imageToImage(input, call);
    return { data, requestId, response: client.answerCopy(response) };
  });
  const outputOnly = client.redacting(async (input: ImageToImageInput, call?: CallOptions) => (await imageToImage(input, call)).data);
  return { imageToImage: Object.assign(outputOnly, { withResponse }), raw, baseUrl };
}
