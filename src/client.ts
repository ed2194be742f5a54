import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "../generated/image-to-image.js";
import { defaultBaseUrl, defaultQueueUrl, retryableByStatus } from "../generated/spec.js";
import {
  assertSafeTransport,
  authorizationHeader,
  parseBaseUrl,
  redact,
  redactError,
  resolveCredentials,
  type AuthScheme,
} from "./credentials.js";
import { FluxResponseError, FluxValidationError } from "./errors.js";
import { apiError, networkError, parseErrorBody } from "./failures.js";
import { platformParameters } from "./platform-options.js";
import { createQueue } from "./queue.js";
import { BodyReadError, readBody } from "./read-body.js";
import { maxAnswerBytes, mismatch, parseJson } from "./request.js";
import { retryPolicy, type RetryOptions } from "./retry.js";
import { withExactSeed } from "./seed.js";
import { createSubscribe, type FollowOptions, type SubscribeOptions } from "./subscribe.js";
import type { FetchLike, FluxQueue, ImageToImageInput, ImageToImageOutput, PlatformOptions, QueueJob, RunParameters } from "./types.js";
import { checkOutput, serializeInput } from "./validation.js";

type SpecInput = components["schemas"]["ImageToImageInput"];

export interface FluxClientOptions {
  /** fal's API key (`key_id:key_secret`). Default: `FAL_KEY`, else `FAL_KEY_ID` + `FAL_KEY_SECRET`. */
  credentials?: string;
  /** Default: the spec's server, `https://fal.run`. Plain http is refused except to loopback. */
  baseUrl?: string;
  /** The queue's server. Default: the queue document's, `https://queue.fal.run`. Same transport rule. */
  queueUrl?: string;
  /** Default: `globalThis.fetch`. Called as `fetch(url, init)`. */
  fetch?: FetchLike;
  /** Default `Key`, what fal.run takes; `Bearer` for gateways that expect the seed document's form. */
  authScheme?: AuthScheme;
  /** Check each 200 body against the spec's output schema. Default true. */
  validateResponse?: boolean;
  /** Retries of queue calls (see {@link RetryOptions} for the defaults); `false` for none. The sync call is never retried. */
  retry?: RetryOptions | false;
  /**
   * Time limit of each queue HTTP request, body included, and the longest a status stream may stay
   * silent. Default 60 000 ms: generous for a submit carrying a large data URI, whose timeout cannot
   * be retried (the job may exist).
   */
  requestTimeoutMs?: number;
  /**
   * Time limit of a sync call (`imageToImage`), from sending to the last byte of its answer.
   * Default 300 000 ms: room for a cold start and a wait for a runner, while a server that goes
   * silent cannot hang the caller for ever. The call is billed even when the limit cuts it.
   */
  syncTimeoutMs?: number;
}

/** A sync call's options: fal's platform headers, a signal to abort it, and its own time limit. */
export interface CallOptions extends PlatformOptions {
  signal?: AbortSignal;
  /** This call's time limit; default: the client's `syncTimeoutMs`. */
  timeoutMs?: number;
}

export interface FluxClient {
  /**
   * Runs FLUX.1 [dev] image-to-image synchronously. The input is checked against the spec first:
   * a bad one throws {@link FluxValidationError} and nothing is sent.
   * @throws FluxValidationError | FluxApiError | FluxResponseError | FluxNetworkError
   */
  imageToImage(input: ImageToImageInput, options?: CallOptions): Promise<ImageToImageOutput>;
  /**
   * Runs a job through fal's queue: submits it, follows its status stream (polling if the stream
   * fails) and returns the output as soon as the job completes. A job that fails throws the same
   * {@link FluxApiError} as a sync call; an abort or `timeout` cancels the job on fal's side.
   */
  subscribe(input: ImageToImageInput, options?: SubscribeOptions): Promise<ImageToImageOutput>;
  /**
   * Follows a job already on the queue (its id from `onEnqueue` or `queue.submit`, perhaps in a
   * process that has since died) to its output, as `subscribe` does after its submit. Nothing is
   * submitted; an abort or `timeout` cancels the job.
   */
  follow(job: QueueJob, options?: FollowOptions): Promise<ImageToImageOutput>;
  /** fal's queue, call by call. */
  readonly queue: FluxQueue;
  /** The openapi-fetch client itself, typed by the spec, with the same base URL and credentials. */
  readonly raw: Client<paths>;
  readonly baseUrl: string;
  readonly queueUrl: string;
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

let warnedAboutBrowser = false;

export function createFluxClient(options: FluxClientOptions = {}): FluxClient {
  const baseUrl = options.baseUrl ?? defaultBaseUrl;
  const queueUrl = (options.queueUrl ?? defaultQueueUrl).replace(/\/+$/, "");
  parseBaseUrl(baseUrl);
  parseBaseUrl(queueUrl, "queueUrl");
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const key = resolveCredentials(options.credentials);
  const headers: Record<string, string> = {};
  if (key !== undefined) {
    assertSafeTransport(baseUrl);
    assertSafeTransport(queueUrl);
    headers.Authorization = authorizationHeader(key, options.authScheme ?? "Key");
    if (!warnedAboutBrowser && typeof window !== "undefined" && typeof document !== "undefined") {
      warnedAboutBrowser = true;
      console.warn(
        "flux-i2i: an API key is in use in a browser, where every visitor can read it. Keep the key on a " +
          "server and point baseUrl/queueUrl at a proxy there (see the README).",
      );
    }
  }
  const validateResponse = options.validateResponse ?? true;

  const raw = createClient<paths>({ baseUrl, headers, fetch: (request: Request) => fetchImpl(request) });
  const fast = createClient<paths>({
    baseUrl,
    headers,
    Request: PreparedRequest as unknown as typeof Request,
    fetch: async (request) => {
      const { url, init } = request as unknown as PreparedRequest;
      // The body is read here with its cap, so that an endless answer cannot fill memory, and kept
      // beside the answer handed to openapi-fetch, which then has no body of its own to read.
      const response = await fetchImpl(url, init);
      const text = await readBody(response, maxAnswerBytes.output);
      const bodiless = new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
      bodies.set(bodiless, text);
      return bodiless;
    },
  });
  /** The text of each answer `fast` received, by the Response it handed openapi-fetch. */
  const bodies = new WeakMap<Response, string>();
  const syncTimeoutMs = options.syncTimeoutMs ?? 300_000;

  async function imageToImage(input: ImageToImageInput, call: CallOptions = {}): Promise<ImageToImageOutput> {
    const body = serializeInput(input);
    const wire = platformParameters(call, "run", key, body.issues);
    const limitMs = call.timeoutMs ?? syncTimeoutMs;
    const deadline = AbortSignal.timeout(limitMs);

    const result = await fast
      .POST(path, {
        // No params at all when no header is set: openapi-fetch then has nothing to merge.
        ...(Object.keys(wire.headers).length ? { params: { header: wire.headers as RunParameters } } : {}),
        body: input as SpecInput,
        // The bytes that were checked, not a second serialization of the object.
        bodySerializer: () => body.text,
        // Read as text so that a seed above 2^53 can be recovered from its digits.
        parseAs: "text",
        signal: call.signal ? AbortSignal.any([call.signal, deadline]) : deadline,
      })
      .catch((error: unknown) => {
        if (call.signal?.aborted) throw call.signal.reason;
        if (error instanceof BodyReadError && error.tooLarge) throw new FluxResponseError(`fal's answer to the call: ${error.message}`, undefined, [], undefined);
        const cause = error instanceof BodyReadError ? (error.cause ?? error) : error;
        throw networkError(cause, baseUrl, key, { timedOutAfterMs: deadline.aborted ? limitMs : undefined });
      });
    const { response } = result;
    const text = bodies.get(response) ?? "";
    const requestId = response.headers.get("x-fal-request-id") ?? undefined;
    if (!response.ok) throw apiError(response, parseErrorBody(text), retryableByStatus, key);
    // Not retryable: the call is billed. An empty body is left to the output check, which names what is missing.
    const data = text ? parseJson(text, "the call", requestId, false) : undefined;
    if (validateResponse) {
      const outputIssues = checkOutput(data);
      if (outputIssues.length) throw mismatch("the call", data, outputIssues, requestId);
    }
    const output = data as ImageToImageOutput;
    withExactSeed(output, text);
    return output;
  }

  const queueContext = {
    fetch: fetchImpl,
    headers,
    key,
    queueUrl,
    retry: retryPolicy(options.retry),
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    validateResponse,
  };
  const { submit, status, result, cancel, ...internals } = createQueue(queueContext);
  const { subscribe, follow } = createSubscribe(queueContext, { submit, status, result, cancel, ...internals });

  /**
   * Everything a public call returns or throws passes here, the client's one redaction path: no
   * form of the key a server echoes reaches the caller, a log or a file.
   */
  const redacted =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return redact(await call(...args), key);
      } catch (error) {
        throw redactError(error, key);
      }
    };
  const queue: FluxQueue = { submit: redacted(submit), status: redacted(status), result: redacted(result), cancel: redacted(cancel) };
  return {
    imageToImage: redacted(imageToImage),
    subscribe: redacted(subscribe),
    follow: redacted(follow),
    queue,
    raw,
    baseUrl,
    queueUrl,
  };
}
