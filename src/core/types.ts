// The types the client's modules share: the spec's (generated/), with what the client adds to them
// (exact seeds, the fetch it is handed, the queue's calls). The bottom of src/'s import graph: this
// file imports only generated/, so every module can import it and none has to reach up to another
// for a type (scripts/check-imports.mjs keeps it so).
import type { components as queueComponents } from "../../generated/queue.js";
import type { operationResponses, platformHeaders } from "../../generated/spec.js";
import type { Validator } from "../../generated/validators.js";

/** An operation of the spec, by its `operationId`: `getQueueStatus`, `cancelQueueRequest`, an endpoint's sync call and submit, ... */
export type OperationId = keyof typeof operationResponses;

/** A seed as this client gives it: a number when it is at most 2^53, else a bigint holding it exactly. */
export type Seed = number | bigint;

/** An image as the caller may hold it, besides a URL or data URI: its bytes, which the client uploads to fal storage first. */
export type ImageBytes = Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * An endpoint's input as the client takes it: the spec's, with an exact `seed` (a bigint is sent
 * with every digit) and `image_url` also as bytes (a `Blob` or `File`, an `ArrayBuffer` or typed
 * array, a web or Node stream), uploaded to fal storage before the call.
 */
export type ClientInput<Spec> = {
  [K in keyof Spec]: K extends "seed" ? Seed | Extract<Spec[K], null> : K extends "image_url" ? Spec[K] | ImageBytes : Spec[K];
};
/** An endpoint's output as the client gives it: `seed` exact, a bigint when it is above 2^53, as fal's seeds usually are. */
export type ClientOutput<Spec> = { [K in keyof Spec]: K extends "seed" ? Seed : Spec[K] };

/** What the spec says of a broken rule (`x-<keyword>-message`, `x-<keyword>-hint`), by field and keyword. */
export type RuleMessages = Readonly<Record<string, Readonly<Record<string, { message?: string; hint?: string }>>>>;

/**
 * One of an endpoint's operations as generated/endpoints.ts gives it: its path (written with the
 * endpoint's first id), its parameters' validator and where each goes (`header` or `query`), per
 * error status whether a retry can help, and the statuses that refuse without making a job.
 */
export interface EndpointOperation {
  /** Its `operationId` in the documents (the contract run's name for it). */
  readonly operationId: string;
  readonly path: string;
  readonly validate: Validator<unknown>;
  readonly locations: Readonly<Record<string, string>>;
  readonly retryableByStatus: Readonly<Record<string, boolean>>;
  readonly refusedStatuses: readonly number[];
}

/** What every call needs of an endpoint (generated/endpoints.ts): its ids and the rules of its input and output. */
export interface EndpointRules<In = unknown, Out = unknown> {
  /** The id its documents' paths are written with, then its aliases (`x-endpoint`). */
  readonly ids: readonly [string, ...string[]];
  readonly validateInput: Validator<In>;
  /** The input's parameter names, to suggest one for a typo. */
  readonly inputParameters: readonly string[];
  readonly validateOutput: Validator<Out>;
  readonly ruleMessages: RuleMessages;
}

/** An endpoint as the sync call takes it. */
export interface SyncEndpoint<In = unknown, Out = unknown> extends EndpointRules<In, Out> {
  readonly run: EndpointOperation;
}

/** An endpoint as the queue takes it. */
export interface QueueEndpoint<In = unknown, Out = unknown> extends EndpointRules<In, Out> {
  readonly submit: EndpointOperation;
}

/** An endpoint with both calls: what createEndpointClient takes. */
export interface Endpoint<In = unknown, Out = unknown> extends SyncEndpoint<In, Out>, QueueEndpoint<In, Out> {}

/** What the client calls to send a request: `globalThis.fetch` or a caller's own (a test's fake, a proxy's). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export type QueueSubmitted = queueComponents["schemas"]["QueueSubmitted"];
export type QueueStatus = queueComponents["schemas"]["QueueStatus"];
/** What fal said a cancel did (the spec's `CancelOutcome`). */
export type CancelStatus = queueComponents["schemas"]["CancelOutcome"]["status"];

/** A cancel's outcome: every answer fal documents is one, none is an error. */
export interface CancelResult {
  /**
   * `OK`: removed from the queue, it never runs. `CANCELLATION_REQUESTED`: it was running and was
   * signalled; it may still complete. `ALREADY_COMPLETED`: too late; its result stays. `NOT_FOUND`:
   * fal does not know the job. fal's `{success: true}` form is read as `CANCELLATION_REQUESTED`
   * (it does not say whether the job had started), `{success: false}` as `ALREADY_COMPLETED` (the
   * one documented reason a cancel is not taken): both readings are inferences, `body` has the rest.
   */
  status: CancelStatus;
  /** The HTTP status of fal's answer (fal's material does not pair statuses with outcomes). */
  httpStatus: number;
  /** fal's answer as it came. */
  body: unknown;
}

/** fal's platform parameters as the queue document names them (`components.parameters`). */
type PlatformParameters = queueComponents["parameters"];
export type QueuePriority = NonNullable<PlatformParameters["QueuePriority"]>;

/**
 * A call's own headers. fal's platform headers that the spec names are not among them: each has an
 * option of its own (`startTimeoutSeconds` for `X-Fal-Request-Timeout`, ...), checked against the
 * spec before sending, so a raw one is a type error here and refused at run time.
 */
export type CallHeaders = Record<string, string> & { [name in (typeof platformHeaders)[number]]?: never };

/** A job: its request id, or the submit answer (whose URLs are then followed). */
export type QueueJob = string | (Pick<QueueSubmitted, "request_id"> & Partial<QueueSubmitted>);

/**
 * fal's platform headers, the same on a sync call, a submit and a subscribe (fal's docs, "Platform
 * Headers"). Each is checked against the spec before anything is sent.
 */
export interface PlatformOptions {
  /**
   * `X-Fal-Request-Timeout`: seconds the request may wait for a runner to *start* it (fal's docs:
   * more than 0.1). Past it fal answers 504 with `X-Fal-Request-Timeout-Type: user`, which this
   * client never retries: the deadline was yours.
   */
  startTimeoutSeconds?: PlatformParameters["RequestTimeout"];
  /** `X-Fal-Runner-Hint`: fal prefers a runner that reports this hint (session affinity), else takes any. */
  runnerHint?: PlatformParameters["RunnerHint"];
  /**
   * `X-Fal-Object-Lifecycle-Preference`: seconds the generated images stay on fal's CDN; `null`
   * keeps them. Default: fal's own setting.
   */
  mediaExpirationSeconds?: number | null;
  /** `false` sends `X-Fal-Store-IO: 0`: fal keeps no copy of the request's JSON input and output. Default true. */
  storePayloads?: boolean;
}

export interface SubmitOptions extends PlatformOptions, Omit<QueueCallOptions, "signal"> {
  /** fal POSTs the result here when the job completes; check it with `verifyWebhook`. */
  webhookUrl?: string;
  /** `X-Fal-Queue-Priority`; fal's default is `normal`. */
  priority?: QueuePriority;
  /** `true` sends `x-fal-no-retry: 1`: fal does not retry the job itself (it otherwise does, up to 10 times). */
  disableFalRetries?: boolean;
  /** `fal_max_queue_length`: fal refuses the submit (429, no job) when the queue is longer than this. */
  maxQueueLength?: PlatformParameters["MaxQueueLength"];
  signal?: AbortSignal;
}

/** A call's result with what came with it: fal's request id and the HTTP answer (its body already read). */
export interface WithResponse<T> {
  data: T;
  /** `x-fal-request-id` of the answer; for a queue call without one, the job's id. */
  requestId: string | undefined;
  /** The answer's status and headers (a copy with no body; any form of the key in a header removed). */
  response: Response;
}

/** A call that also gives its answer: `call.withResponse(...)` resolves to {@link WithResponse}. */
export type WithResponseCall<A extends unknown[], T> = ((...args: A) => Promise<T>) & {
  withResponse(...args: A): Promise<WithResponse<T>>;
};

/** Told each answer that succeeded: what `withResponse` reads. Inside the client only, never on a public type. */
export interface AnswerObserver {
  onAnswer?: (response: Response) => void;
}

/** A call without its `withResponse`, its options open to an {@link AnswerObserver}: what the modules inside the client pass around. */
export type PlainCall<C> = C extends WithResponseCall<[infer F, (infer O)?], infer T> ? (first: F, options?: O & AnswerObserver) => Promise<T> : C;
/** The queue's calls inside the client, before the public ones are made of them (src/queue/client.ts). */
export type QueueCalls<In = unknown, Out = unknown> = { [K in keyof FluxQueue<In, Out>]: PlainCall<FluxQueue<In, Out>[K]> };

/** What every queue call may set for itself. */
export interface QueueCallOptions {
  signal?: AbortSignal;
  /** This call's time limit for each HTTP request, in ms, body included; default: the client's `requestTimeoutMs`. */
  requestTimeoutMs?: number;
  /** @deprecated The same as `requestTimeoutMs`, its name before three limits had three names. */
  timeout?: number;
  /** This call's retries; default: the client's `retry.maxRetries`. */
  maxRetries?: number;
  /** Headers of this call's own: not `Authorization` (the key is the client's), nor a platform header (its option). */
  headers?: CallHeaders;
}

/** fal's queue for one endpoint, call by call: `In` and `Out` are the client's input and output of it ({@link ClientInput}, {@link ClientOutput}). */
export interface FluxQueue<In = unknown, Out = unknown> {
  /**
   * Puts a job on fal's queue. The input is checked first; nothing is sent if it is bad. A submit
   * is billed, so it is re-sent only when it provably made no job: the connection was refused, or
   * fal refused it (429, with backoff honouring `Retry-After`); never after a reset or a timeout:
   * such an error says the job may exist.
   */
  submit: WithResponseCall<[input: In, options?: SubmitOptions], QueueSubmitted>;
  /** The job's status; `logs: true` asks for its log lines. Retried on 429, 502-504 and connection errors. */
  status: WithResponseCall<[job: QueueJob, options?: QueueCallOptions & { logs?: boolean }], QueueStatus>;
  /** The output of a completed job. A job that failed throws the same `FluxApiError` as a sync call. */
  result: WithResponseCall<[job: QueueJob, options?: QueueCallOptions], Out>;
  /** Asks fal to cancel the job. Every outcome fal documents is a {@link CancelResult}, not an error. */
  cancel: WithResponseCall<[job: QueueJob, options?: QueueCallOptions], CancelResult>;
}
