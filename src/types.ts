// The types the client's modules share: the spec's (generated/), with what the client adds to them
// (exact seeds, the fetch it is handed, the queue's calls). The bottom of src/'s import graph: this
// file imports only generated/, so every module can import it and none has to reach up to another
// for a type (scripts/check-imports.mjs keeps it so).
import type { components as syncComponents } from "../generated/image-to-image.js";
import type { components as queueComponents, operations } from "../generated/queue.js";

/** A seed as this client gives it: a number when it is at most 2^53, else a bigint holding it exactly. */
export type Seed = number | bigint;

type SpecInput = syncComponents["schemas"]["ImageToImageInput"];
type SpecOutput = syncComponents["schemas"]["ImageToImageOutput"];

/** The request body of the spec; `seed` may also be a bigint, sent with every digit. */
export type ImageToImageInput = Omit<SpecInput, "seed"> & { seed?: Seed | null };
/** The 200 body of the spec; `seed` is exact: a bigint when it is above 2^53, as fal's seeds usually are. */
export type ImageToImageOutput = Omit<SpecOutput, "seed"> & { seed: Seed };

/** What the client calls to send a request: `globalThis.fetch` or a caller's own (a test's fake, a proxy's). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export type QueueSubmitted = queueComponents["schemas"]["QueueSubmitted"];
export type QueueStatus = queueComponents["schemas"]["QueueStatus"];
export type CancelResult = queueComponents["schemas"]["CancellationRequested"] | queueComponents["schemas"]["AlreadyCompleted"];
/** The submit's header parameters, named as in the spec. */
type SubmitHeaders = NonNullable<operations["submitImageToImage"]["parameters"]["header"]>;
/** The submit's query and header parameters, named as in the spec. */
export type SubmitParameters = SubmitHeaders & NonNullable<operations["submitImageToImage"]["parameters"]["query"]>;
export type QueuePriority = NonNullable<SubmitHeaders["X-Fal-Queue-Priority"]>;

/** A job: its request id, or the submit answer (whose URLs are then followed). */
export type QueueJob = string | (Pick<QueueSubmitted, "request_id"> & Partial<QueueSubmitted>);

export interface SubmitOptions {
  /** fal POSTs the result here when the job completes; check it with `verifyWebhook`. */
  webhookUrl?: string;
  /** `X-Fal-Queue-Priority`; fal's default is `normal`. */
  priority?: QueuePriority;
  /** `X-Fal-Request-Timeout`: seconds the job may wait for a runner before fal ends it with a 504. */
  startTimeout?: SubmitHeaders["X-Fal-Request-Timeout"];
  signal?: AbortSignal;
}

export interface QueueCallOptions {
  signal?: AbortSignal;
}

export interface FluxQueue {
  /**
   * Puts a job on fal's queue. The input is checked first; nothing is sent if it is bad. A submit
   * is billed, so it is re-sent only when the connection was refused (provably never sent),
   * never after a reset or a timeout: such an error says the job may exist.
   */
  submit(input: ImageToImageInput, options?: SubmitOptions): Promise<QueueSubmitted>;
  /** The job's status; `logs: true` asks for its log lines. Retried on 429, 502-504 and connection errors. */
  status(job: QueueJob, options?: QueueCallOptions & { logs?: boolean }): Promise<QueueStatus>;
  /** The output of a completed job. A job that failed throws the same `FluxApiError` as a sync call. */
  result(job: QueueJob, options?: QueueCallOptions): Promise<ImageToImageOutput>;
  /** Asks fal to cancel the job. A job that had completed answers `ALREADY_COMPLETED` (not an error). */
  cancel(job: QueueJob, options?: QueueCallOptions): Promise<CancelResult>;
}
