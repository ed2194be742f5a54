// fal's queue alone (queue.fal.run) for one endpoint, given as its generated entry: submit, status,
// result, cancel, and subscribe / follow on top of them, for an app that never makes the sync call.
// It ships no openapi-fetch and none of the sync call's code; src/client.ts puts it beside the sync
// client (../sync/client.ts), and src/image-to-image.ts binds it to this package's endpoint.
import { defaultQueueUrl } from "../../generated/spec.js";
import { clientSetup, type ClientSetup } from "../core/client-setup.js";
import { parseBaseUrl, type AuthScheme } from "../core/credentials.js";
import type { CallHooks } from "../core/call-controls.js";
import { createQueue } from "./calls.js";
import { retryPolicy, type RetryOptions } from "../core/retry.js";
import { createSubscribe, type FollowOptions, type SubscribeOptions } from "./subscribe.js";
import { checkedEndpointId } from "../core/endpoint.js";
import { uploadContext, uploadImage, type UploadOptions } from "../storage/upload.js";
import type { FetchLike, FluxQueue, ImageBytes, QueueCallOptions, QueueEndpoint, QueueJob, WithResponse, WithResponseCall } from "../core/types.js";

/** `Id`: the ids the endpoint answers to (its entry's `ids`). */
export interface QueueClientOptions<Id extends string = string> extends CallHooks {
  /** fal's API key (`key_id:key_secret`). Default: `FAL_KEY`, else `FAL_KEY_ID` + `FAL_KEY_SECRET`. */
  credentials?: string;
  /** The queue's server. Default: the queue document's, `https://queue.fal.run`. Plain http is refused except to loopback. */
  queueUrl?: string;
  /** Default: `globalThis.fetch`. Called as `fetch(url, init)`. */
  fetch?: FetchLike;
  /** Default `Key`, what fal's queue takes; `Bearer` for gateways that expect the seed document's form. */
  authScheme?: AuthScheme;
  /** Check each answer against the spec's schema for it. Default true. */
  validateResponse?: boolean;
  /** Retries of queue calls (see {@link RetryOptions} for the defaults); `false` for none. */
  retry?: RetryOptions | false;
  /**
   * Time limit of each queue HTTP request, body included, and the longest a status stream may stay
   * silent. Default 60 000 ms: generous for a submit carrying a large data URI, whose timeout cannot
   * be retried (the job may exist).
   */
  requestTimeoutMs?: number;
  /**
   * How long a status stream that has said COMPLETED may stay open (fal closes it) before it is
   * cut. Read to its end, its connection is used again by the next request; cut, it is closed, and
   * the next job opens a new one (a TLS handshake). The result never waits for it. Default: see
   * {@link defaultStreamDrainMs}.
   */
  streamDrainMs?: number;
  /**
   * The id the submit names the endpoint by: the one its documents are written with (the default),
   * or an alias of it (`x-endpoint`); a job's status, result and cancel URLs then live under that
   * id's app (`{owner}/{app}/requests/`).
   */
  endpointId?: Id;
  /**
   * fal storage's server, where an `image_url` given as bytes (a `Blob`, `File`, typed array or
   * stream) is uploaded before the submit. Default: the storage document's, `https://rest.fal.ai`.
   */
  storageUrl?: string;
}

/** `In`, `Out`: the endpoint's input and output as the client takes and gives them. */
export interface QueueClient<In = unknown, Out = unknown> {
  /**
   * Runs a job through fal's queue: submits it, follows its status stream (polling if the stream
   * fails) and returns the output as soon as the job completes. A job that fails throws the same
   * {@link FluxApiError} as a sync call; an abort or `resultTimeoutMs` cancels the job on fal's side.
   */
  subscribe: WithResponseCall<[input: In, options?: SubscribeOptions], Out>;
  /**
   * Follows a job already on the queue (its id from `onEnqueue` or `queue.submit`, perhaps in a
   * process that has since died) to its output, as `subscribe` does after its submit. Nothing is
   * submitted; an abort or `resultTimeoutMs` cancels the job.
   */
  follow: WithResponseCall<[job: QueueJob, options?: FollowOptions], Out>;
  /** fal's queue, call by call. */
  readonly queue: FluxQueue<In, Out>;
  readonly queueUrl: string;
  /**
   * fal storage, where `subscribe` and `queue.submit` upload an `image_url` given as bytes. Upload
   * one yourself to send its URL in many requests (a batch with one photo), or to follow its progress.
   */
  readonly storage: FluxStorage;
}

export interface FluxStorage {
  /**
   * Uploads an image's bytes (a `Blob` or `File`, typed array, stream) as fal's clients do and gives
   * the file's URL, what `image_url` takes. Refused before anything is sent, as a FluxValidationError
   * on `image_url`: more than one upload takes, or not an image fal reads. A failed upload is a
   * FluxUploadError naming the file.
   */
  upload(image: ImageBytes, options?: UploadOptions): Promise<string>;
  /** Its server (`storageUrl`), without a trailing slash. */
  readonly storageUrl: string;
}

/**
 * 2 000 ms where Node's fetch runs (a server: undici returns a connection to its pool only once its
 * body is read to the end), 0 elsewhere: a browser has six connections a host, and streams left
 * open to drain took them all at eight jobs at once in `npm run bench:browser` (results 0.5-1 s
 * late); cut, a stream frees its connection at once.
 */
export function defaultStreamDrainMs(scope: { process?: { versions?: { node?: string } } } = globalThis as never): number {
  return scope.process?.versions?.node ? 2_000 : 0;
}

type QueueCallArgs = [unknown, (QueueCallOptions & { onEnqueue?: (id: string) => void })?];

/**
 * The queue client of `endpoint` (a generated entry). `setup`: the key and wrapped fetch a client
 * shares between its halves (createEndpointClient's); made here when alone.
 */
export function createQueueClient<In, Out>(endpoint: QueueEndpoint, options: QueueClientOptions = {}, setup?: ClientSetup): QueueClient<In, Out> {
  const queueUrl = (options.queueUrl ?? defaultQueueUrl).replace(/\/+$/, "");
  parseBaseUrl(queueUrl, "queueUrl");
  // One fetch for every call, uploads included, so that the hooks see them all.
  const client = setup ?? clientSetup(options);
  const queueContext = {
    fetch: client.fetch,
    headers: client.keyHeaders([queueUrl]),
    hasKey: client.hasKey,
    carriesKey: client.carriesKey,
    redact: client.redact,
    queueUrl,
    endpoint,
    endpointId: checkedEndpointId(endpoint.ids, options.endpointId),
    upload: uploadContext(options, client),
    retry: retryPolicy(options.retry),
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    streamDrainMs: options.streamDrainMs ?? defaultStreamDrainMs(),
    validateResponse: options.validateResponse ?? true,
  };
  const { submit, status, result, cancel, ...internals } = createQueue(queueContext);
  const { subscribe, follow } = createSubscribe(queueContext, { submit, status, result, cancel, ...internals });

  /**
   * A public call: everything it returns or throws passes the one redaction (src/core/redaction.ts),
   * and `.withResponse(...)` gives the data with the last answer that succeeded and the request id.
   */
  const publicCall = <A extends QueueCallArgs, T>(call: (...args: A) => Promise<T>, fallbackId: (args: A, data: T) => string | undefined): WithResponseCall<A, T> => {
    const withResponse = async (...args: A): Promise<WithResponse<T>> => {
      let answer: Response | undefined;
      let enqueued: string | undefined;
      const [first, callOptions = {}] = args;
      const observed = { ...callOptions, onAnswer: (r: Response) => (answer = r), onEnqueue: (id: string) => ((enqueued = id), callOptions.onEnqueue?.(id)) };
      const data = await call(...([first, observed] as unknown as A));
      const requestId = answer?.headers.get("x-fal-request-id") ?? enqueued ?? fallbackId(args, data);
      return { data, requestId, response: client.answerCopy(answer ?? new Response(null)) };
    };
    return Object.assign(client.redacting(call), { withResponse: client.redacting(withResponse) });
  };
  const jobId = (args: [QueueJob, unknown?]) => (typeof args[0] === "string" ? args[0] : args[0].request_id);
  const queueClient: QueueClient = {
    subscribe: publicCall(subscribe, () => undefined),
    follow: publicCall(follow, jobId),
    queue: {
      submit: publicCall(submit, (_, data) => data.request_id),
      status: publicCall(status, jobId),
      result: publicCall(result, jobId),
      cancel: publicCall(cancel, jobId),
    },
    queueUrl,
    storage: {
      upload: client.redacting((image: ImageBytes, uploadOptions?: UploadOptions) => uploadImage(image, queueContext.upload, uploadOptions)),
      storageUrl: queueContext.upload.storageUrl,
    },
  };
  // The entry's validators checked the input and output: they are the endpoint's `In` and `Out`.
  return queueClient as QueueClient<In, Out>;
}
