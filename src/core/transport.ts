// One HTTP call of the queue with its timeout and retries (what is safe to send again, and when),
// and the errors for a 2xx body that cannot be used, shared with the sync call.
import { FluxError, FluxResponseError, FluxSubmitUncertainError, type FluxIssue } from "./errors.js";
import { apiError, networkError, neverSent, parseErrorBody } from "./errors-from-answers.js";
import { BodyReadError, maxAnswerBytes, readBody } from "./read-body.js";
import { backoff, retryAfterMs, sleep, type RetryPolicy } from "./retry.js";
import { timeLimit } from "./time-limit.js";
import type { FetchLike } from "./types.js";

/** What every call of a client shares. */
export interface Transport {
  fetch: FetchLike;
  /** `Authorization`, when there is a key. */
  headers: Record<string, string>;
  /** Whether calls carry a key (a 401 without one says how to give it). */
  hasKey: boolean;
  retry: RetryPolicy;
  requestTimeoutMs: number;
}

export interface Call<T> {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /**
   * Text, or bytes (an upload's `PUT`: a Blob is streamed by fetch, and read again by a retry), or
   * a function that makes a stream of them anew for each attempt (an upload that counts what it sent).
   */
  body?: string | Uint8Array<ArrayBuffer> | Blob | (() => ReadableStream<Uint8Array>);
  /** Safe to send again (GET, PUT cancel). Default true. */
  idempotent?: boolean;
  /** The most the answer may hold; see {@link maxAnswerBytes}. Default: `maxAnswerBytes.small`. */
  maxBytes?: number;
  /** Not idempotent: the job an answer that arrived only in part names, if it does. */
  recoverRequestId?: (partial: string) => string | undefined;
  /**
   * Not idempotent: an abort of `signal` does not cut the request once it is on its way (its
   * answer is awaited, so that the caller can cancel the job it names); it stops waits between attempts.
   */
  finishOnAbort?: boolean;
  /**
   * Statuses by which the server refused the call without acting on it (the spec's
   * `x-job-created: false`): a call that is not idempotent may be sent again after them.
   */
  refusedStatuses?: readonly number[];
  /** The operation's error statuses and whether a retry can help (the spec's `x-retryable`). */
  retryableByStatus: Readonly<Record<string, boolean>>;
  /** This call's own time limit per request and retries, overriding the transport's. */
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
  /** The queue job concerned, named in every error. */
  jobId?: string | undefined;
  signal?: AbortSignal | undefined;
  /** A non-2xx answer to read as an answer rather than an error. */
  accept?: (status: number, text: string) => boolean;
  /** The body (and its status) as the caller's type; a FluxResponseError with `retryable` set asks for another read. */
  parse: (text: string, status: number, headers: Headers) => T;
  /** Told the answer that was parsed (the one that succeeded), for `withResponse`. */
  onAnswer?: ((response: Response) => void) | undefined;
}

/**
 * Sends one call: a request per attempt, each with its own timeout. An idempotent call is retried
 * with backoff on the statuses the spec marks `x-retryable` (unless `X-Fal-Retryable: false` or
 * the spec's `x-final-when` headers say otherwise), on a connection failure, a timeout or a body
 * cut short. A call that is not idempotent is retried only when it provably did nothing: the
 * request never left (connection refused), or the server refused it (`refusedStatuses`); any other
 * failure after it left is a {@link FluxSubmitUncertainError}: it may have acted.
 */
export async function send<T>(transport: Transport, call: Call<T>): Promise<T> {
  const idempotent = call.idempotent ?? true;
  for (let attempt = 0; ; attempt++) {
    let failure: FluxError;
    let wait: number | undefined;
    const limitMs = call.timeoutMs ?? transport.requestTimeoutMs;
    const limit = timeLimit(limitMs, [call.finishOnAbort ? undefined : call.signal]);
    const { signal } = limit;
    let partial = "";
    try {
      const response = await transport.fetch(call.url, {
        method: call.method,
        headers: call.headers ?? transport.headers,
        ...(typeof call.body === "function" ? { body: call.body(), duplex: "half" } : { body: call.body }),
        signal,
        // A redirect is an error (failures.ts), never followed: it would take the key where the answer says.
        redirect: "manual",
      });
      const text = await readBody(response, call.maxBytes ?? maxAnswerBytes.small).catch((error: unknown) => {
        if (!(error instanceof BodyReadError)) throw error;
        if (error.tooLarge) throw new FluxResponseError(`fal's answer to ${call.method} ${new URL(call.url).pathname}: ${error.message}`, undefined, [], call.jobId);
        partial = error.partial;
        throw error.cause ?? error;
      });
      if (response.ok || call.accept?.(response.status, text)) {
        try {
          const parsed = call.parse(text, response.status, response.headers);
          call.onAnswer?.(response);
          return parsed;
        } catch (error) {
          if (!(error instanceof FluxResponseError && error.retryable && idempotent)) throw error;
          failure = error;
        }
      } else {
        const answer = apiError(response, parseErrorBody(text), call.retryableByStatus, transport.hasKey, call.jobId);
        const resendable = idempotent || call.refusedStatuses?.includes(response.status);
        if (!(resendable && answer.retryable)) throw answer;
        failure = answer;
        wait = retryAfterMs(response.headers.get("retry-after"));
      }
    } catch (error) {
      if (error instanceof FluxError) throw error;
      if (call.signal?.aborted && !call.finishOnAbort) throw call.signal.reason;
      failure = networkError(error, call.url, {
        timedOutAfterMs: limit.expired ? limitMs : undefined,
        jobId: call.jobId,
      });
      if (!idempotent && (limit.expired || !neverSent(error))) throw uncertain(failure, call.recoverRequestId?.(partial));
      if (!idempotent && call.signal?.aborted) throw call.signal.reason;
    } finally {
      limit.clear();
    }
    const delay = wait ?? backoff(transport.retry, attempt);
    if (attempt >= (call.maxRetries ?? transport.retry.maxRetries) || delay > transport.retry.maxDelayMs) throw failure;
    await sleep(delay, call.signal);
  }
}

/** A call that may have acted on the server but whose answer was lost: it says so, with the job if the answer's first part named it. */
function uncertain(failure: FluxError, requestId: string | undefined): FluxSubmitUncertainError {
  return new FluxSubmitUncertainError(
    `${failure.message}. The submit may have reached fal: the job may exist and be billed, so it was not sent again. ` +
      (requestId
        ? `Its answer named job ${requestId}: follow it (client.follow, flux-i2i --live --follow ${requestId}).`
        : "Check fal's request history (https://fal.ai/dashboard) before sending it again."),
    { cause: failure, requestId },
  );
}

/** JSON, or a FluxResponseError: retryable by default, since a body that is not JSON was most likely cut short. */
export function parseJson(text: string, what: string, requestId: string | undefined, retryable = true): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    throw new FluxResponseError(
      `fal's answer to ${what} is not JSON (${(error as Error).message}): ${JSON.stringify(shown)}`,
      text,
      [],
      requestId,
      retryable,
    );
  }
}

/** A 2xx body that breaks the spec, as a FluxResponseError listing each broken rule. */
export function offSpecAnswer(what: string, body: unknown, issues: FluxIssue[], requestId: string | undefined): FluxResponseError {
  return new FluxResponseError(
    `fal's answer to ${what} does not match the spec: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`,
    body,
    issues,
    requestId,
  );
}
