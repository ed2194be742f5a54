// createFluxClient: the sync call (./sync.ts) and fal's queue (./queue.ts, ./subscribe.ts) on one
// object, with one key and one redaction.
import type { Client } from "openapi-fetch";
import type { paths } from "../generated/image-to-image.js";
import { defaultQueueUrl } from "../generated/spec.js";
import { answerCopy, parseBaseUrl, redacting, resolveCredentials } from "./credentials.js";
import { observedFetch } from "./call-controls.js";
import { createQueue } from "./queue.js";
import { retryPolicy, type RetryOptions } from "./retry.js";
import { createSubscribe, type FollowOptions, type SubscribeOptions } from "./subscribe.js";
import { createSyncClient, keyHeaders, type CallOptions, type SyncClientOptions } from "./sync.js";
import type { FluxQueue, ImageToImageInput, ImageToImageOutput, QueueCallOptions, QueueJob, WithResponse, WithResponseCall } from "./types.js";

export type { CallOptions };

export interface FluxClientOptions extends SyncClientOptions {
  /** The queue's server. Default: the queue document's, `https://queue.fal.run`. Same transport rule as `baseUrl`. */
  queueUrl?: string;
  /** Retries of queue calls (see {@link RetryOptions} for the defaults); `false` for none. The sync call is never retried. */
  retry?: RetryOptions | false;
  /**
   * Time limit of each queue HTTP request, body included, and the longest a status stream may stay
   * silent. Default 60 000 ms: generous for a submit carrying a large data URI, whose timeout cannot
   * be retried (the job may exist).
   */
  requestTimeoutMs?: number;
}

export interface FluxClient {
  /**
   * Runs FLUX.1 [dev] image-to-image synchronously. The input is checked against the spec first:
   * a bad one throws {@link FluxValidationError} and nothing is sent.
   * @throws FluxValidationError | FluxApiError | FluxResponseError | FluxNetworkError
   */
  imageToImage: WithResponseCall<[input: ImageToImageInput, options?: CallOptions], ImageToImageOutput>;
  /**
   * Runs a job through fal's queue: submits it, follows its status stream (polling if the stream
   * fails) and returns the output as soon as the job completes. A job that fails throws the same
   * {@link FluxApiError} as a sync call; an abort or `timeout` cancels the job on fal's side.
   */
  subscribe: WithResponseCall<[input: ImageToImageInput, options?: SubscribeOptions], ImageToImageOutput>;
  /**
   * Follows a job already on the queue (its id from `onEnqueue` or `queue.submit`, perhaps in a
   * process that has since died) to its output, as `subscribe` does after its submit. Nothing is
   * submitted; an abort or `timeout` cancels the job.
   */
  follow: WithResponseCall<[job: QueueJob, options?: FollowOptions], ImageToImageOutput>;
  /** fal's queue, call by call. */
  readonly queue: FluxQueue;
  /** The openapi-fetch client itself, typed by the spec, with the same base URL and credentials. */
  readonly raw: Client<paths>;
  readonly baseUrl: string;
  readonly queueUrl: string;
}

export function createFluxClient(options: FluxClientOptions = {}): FluxClient {
  const queueUrl = (options.queueUrl ?? defaultQueueUrl).replace(/\/+$/, "");
  parseBaseUrl(queueUrl, "queueUrl");
  const sync = createSyncClient(options);
  const fetchImpl = observedFetch(options.fetch ?? ((input, init) => globalThis.fetch(input, init)), options);
  const key = resolveCredentials(options.credentials);
  const queueContext = {
    fetch: fetchImpl,
    headers: keyHeaders(key, options.authScheme ?? "Key", [queueUrl]),
    key,
    queueUrl,
    retry: retryPolicy(options.retry),
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    validateResponse: options.validateResponse ?? true,
  };
  const { submit, status, result, cancel, ...internals } = createQueue(queueContext);
  const { subscribe, follow } = createSubscribe(queueContext, { submit, status, result, cancel, ...internals });

  /**
   * A public call: everything it returns or throws passes the one redaction (src/credentials.ts),
   * and `.withResponse(...)` gives the data with the last answer that succeeded and the request id.
   */
  const publicCall = <A extends [unknown, (QueueCallOptions & { onEnqueue?: (id: string) => void })?], T>(
    call: (...args: A) => Promise<T>,
    fallbackId: (args: A, data: T) => string | undefined,
  ): WithResponseCall<A, T> => {
    const withResponse = async (...args: A): Promise<WithResponse<T>> => {
      let answer: Response | undefined;
      let enqueued: string | undefined;
      const [first, options = {}] = args;
      const data = await call(...([first, { ...options, onAnswer: (r: Response) => (answer = r), onEnqueue: (id: string) => ((enqueued = id), options.onEnqueue?.(id)) }] as unknown as A));
      const requestId = answer?.headers.get("x-fal-request-id") ?? enqueued ?? fallbackId(args, data);
      return { data, requestId, response: answerCopy(answer ?? new Response(null), key) };
    };
    return Object.assign(redacting(call, key), { withResponse: redacting(withResponse, key) });
  };
  const jobId = (args: [QueueJob, unknown?]) => (typeof args[0] === "string" ? args[0] : args[0].request_id);
  const queue: FluxQueue = {
    submit: publicCall(submit, (_, data) => data.request_id),
    status: publicCall(status, jobId),
    result: publicCall(result, jobId),
    cancel: publicCall(cancel, jobId),
  };
  return {
    imageToImage: sync.imageToImage,
    subscribe: publicCall(subscribe, () => undefined),
    follow: publicCall(follow, jobId),
    queue,
    raw: sync.raw,
    baseUrl: sync.baseUrl,
    queueUrl,
  };
}
