// One HTTP call of the queue with its timeout and retries (what is safe to send again, and when),
// and the errors for a 2xx body that cannot be used, shared with the sync call.
import { FluxError, FluxResponseError, type FluxIssue } from "./errors.js";
import { apiError, networkError, neverSent, parseErrorBody } from "./failures.js";
import { backoff, retryAfterMs, sleep, type RetryPolicy } from "./retry.js";
import type { FetchLike } from "./types.js";

/** What every call of a client shares. */
export interface Transport {
  fetch: FetchLike;
  /** `Authorization`, when there is a key. */
  headers: Record<string, string>;
  key: string | undefined;
  retry: RetryPolicy;
  requestTimeoutMs: number;
}

export interface Call<T> {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Safe to send again (GET, PUT cancel). Default true. */
  idempotent?: boolean;
  /**
   * Statuses by which the server refused the call without acting on it (the spec's
   * `x-job-created: false`): a call that is not idempotent may be sent again after them.
   */
  refusedStatuses?: readonly number[];
  /** The operation's error statuses and whether a retry can help (the spec's `x-retryable`). */
  retryableByStatus: Readonly<Record<string, boolean>>;
  /** The queue job concerned, named in every error. */
  jobId?: string | undefined;
  signal?: AbortSignal | undefined;
  /** A non-2xx answer to read as an answer rather than an error. */
  accept?: (status: number, text: string) => boolean;
  /** The body (and its status) as the caller's type; a FluxResponseError with `retryable` set asks for another read. */
  parse: (text: string, status: number) => T;
}

/**
 * Sends one call: a request per attempt, each with its own timeout. An idempotent call is retried
 * with backoff on the statuses the spec marks `x-retryable` (unless `X-Fal-Retryable: false` or
 * the spec's `x-final-when` headers say otherwise), on a connection failure, a timeout or a body
 * cut short. A call that is not idempotent is retried only when it provably did nothing: the
 * request never left (connection refused), or the server refused it (`refusedStatuses`).
 */
export async function send<T>(transport: Transport, call: Call<T>): Promise<T> {
  const idempotent = call.idempotent ?? true;
  for (let attempt = 0; ; attempt++) {
    let failure: FluxError;
    let wait: number | undefined;
    const timeout = AbortSignal.timeout(transport.requestTimeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    try {
      const response = await transport.fetch(call.url, {
        method: call.method,
        headers: call.headers ?? transport.headers,
        body: call.body,
        signal,
      });
      const text = await response.text();
      if (response.ok || call.accept?.(response.status, text)) {
        try {
          return call.parse(text, response.status);
        } catch (error) {
          if (!(error instanceof FluxResponseError && error.retryable && idempotent)) throw error;
          failure = error;
        }
      } else {
        const answer = apiError(response, parseErrorBody(text), call.retryableByStatus, transport.key, call.jobId);
        const resendable = idempotent || call.refusedStatuses?.includes(response.status);
        if (!(resendable && answer.retryable)) throw answer;
        failure = answer;
        wait = retryAfterMs(response.headers.get("retry-after"));
      }
    } catch (error) {
      if (error instanceof FluxError) throw error;
      if (call.signal?.aborted) throw call.signal.reason;
      failure = networkError(error, call.url, transport.key, {
        timedOutAfterMs: timeout.aborted ? transport.requestTimeoutMs : undefined,
        jobId: call.jobId,
      });
      if (!(idempotent || (!timeout.aborted && neverSent(error)))) throw failure;
    }
    const delay = wait ?? backoff(transport.retry, attempt);
    if (attempt >= transport.retry.maxRetries || delay > transport.retry.maxDelayMs) throw failure;
    await sleep(delay, call.signal);
  }
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
export function mismatch(what: string, body: unknown, issues: FluxIssue[], requestId: string | undefined): FluxResponseError {
  return new FluxResponseError(
    `fal's answer to ${what} does not match the spec: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`,
    body,
    issues,
    requestId,
  );
}
