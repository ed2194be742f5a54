import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "../generated/image-to-image.js";
import { defaultBaseUrl, retryableByStatus } from "../generated/spec.js";
import {
  assertSafeTransport,
  authorizationHeader,
  parseBaseUrl,
  redact,
  resolveCredentials,
  type AuthScheme,
} from "./credentials.js";
import {
  FluxApiError,
  FluxNetworkError,
  FluxResponseError,
  FluxValidationError,
  type FalErrorBody,
} from "./errors.js";
import { checkInput, checkOutput } from "./validation.js";

export type ImageToImageInput = components["schemas"]["ImageToImageInput"];
export type ImageToImageOutput = components["schemas"]["ImageToImageOutput"];
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface FluxClientOptions {
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
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface FluxClient {
  /**
   * Runs FLUX.1 [dev] image-to-image synchronously. The input is checked against the spec first:
   * a bad one throws {@link FluxValidationError} and nothing is sent.
   * @throws FluxValidationError | FluxApiError | FluxResponseError | FluxNetworkError
   */
  imageToImage(input: ImageToImageInput, options?: CallOptions): Promise<ImageToImageOutput>;
  /** The openapi-fetch client itself, typed by the spec, with the same base URL and credentials. */
  readonly raw: Client<paths>;
  readonly baseUrl: string;
}

const path = "/fal-ai/flux-1/dev/image-to-image";

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

export function createFluxClient(options: FluxClientOptions = {}): FluxClient {
  const baseUrl = options.baseUrl ?? defaultBaseUrl;
  parseBaseUrl(baseUrl);
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const key = resolveCredentials(options.credentials);
  const headers: Record<string, string> = {};
  if (key !== undefined) {
    assertSafeTransport(baseUrl);
    headers.Authorization = authorizationHeader(key, options.authScheme ?? "Key");
  }
  const validateResponse = options.validateResponse ?? true;

  const raw = createClient<paths>({ baseUrl, headers, fetch: (request: Request) => fetchImpl(request) });
  const fast = createClient<paths>({
    baseUrl,
    headers,
    Request: PreparedRequest as unknown as typeof Request,
    fetch: (request) => fetchImpl((request as unknown as PreparedRequest).url, (request as unknown as PreparedRequest).init),
  });

  async function imageToImage(input: ImageToImageInput, call: CallOptions = {}): Promise<ImageToImageOutput> {
    const issues = checkInput(input);
    if (issues.length) throw new FluxValidationError(issues);

    const result = await fast.POST(path, { body: input, signal: call.signal }).catch((error: unknown) => {
      if (call.signal?.aborted) throw call.signal.reason;
      if (error instanceof SyntaxError) {
        throw new FluxResponseError(`fal's answer is not JSON: ${error.message}`, undefined, [], undefined);
      }
      throw networkError(error, baseUrl, key);
    });
    const { data, error, response } = result;
    const requestId = response.headers.get("x-fal-request-id") ?? undefined;
    if (!response.ok) throw apiError(response, redact(error as FalErrorBody | string | undefined, key), key !== undefined);
    if (validateResponse) {
      const outputIssues = checkOutput(data);
      if (outputIssues.length) {
        throw new FluxResponseError(
          `fal's answer does not match the spec: ${outputIssues.map((i) => `${i.field}: ${i.message}`).join("; ")}`,
          data,
          outputIssues,
          requestId,
        );
      }
    }
    return data as ImageToImageOutput;
  }

  return { imageToImage, raw, baseUrl };
}

function apiError(response: Response, body: FalErrorBody | string | undefined, hadKey: boolean): FluxApiError {
  const header = (name: string) => response.headers.get(name) ?? undefined;
  const retryable = header("x-fal-retryable");
  const bodyType = body !== null && typeof body === "object" && "error_type" in body ? body.error_type : undefined;
  return new FluxApiError({
    status: response.status,
    body: body === "" ? undefined : body,
    errorType: header("x-fal-error-type") ?? bodyType,
    requestId: header("x-fal-request-id"),
    retryable: retryable ? retryable === "true" : (retryableByStatus[response.status] ?? response.status >= 500),
    hint:
      response.status === 401 && !hadKey
        ? "no credentials were given: set FAL_KEY, or FAL_KEY_ID and FAL_KEY_SECRET, or pass credentials"
        : undefined,
  });
}

function networkError(error: unknown, baseUrl: string, key: string | undefined): FluxNetworkError {
  const cause = error as { message?: string; cause?: { code?: string; message?: string } };
  const reason = cause.cause?.code ?? cause.cause?.message ?? cause.message ?? String(error);
  return new FluxNetworkError(redact(`no answer from ${new URL(baseUrl).origin}: ${reason}`, key), { cause: error });
}
