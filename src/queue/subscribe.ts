// subscribe: submit, follow the status stream (or poll), and fetch the result the moment the job completes.
import { queueOperations } from "../../generated/spec.js";
import { validateQueueStatus } from "../../generated/validators.js";
import { FluxApiError, FluxResponseError, FluxSubmitUncertainError, FluxTimeoutError, FluxValidationError } from "../core/errors.js";
import type { AbandonedSubmit, QueueContext, QueueInternals } from "./calls.js";
import { sleep } from "../core/retry.js";
import { sseData } from "../core/sse.js";
import { timeLimit, type TimeLimit } from "../core/time-limit.js";
import type { AnswerObserver, QueueCalls, QueueJob, QueueStatus, SubmitOptions } from "../core/types.js";

export interface SubscribeOptions extends Omit<SubmitOptions, "signal" | "timeout"> {
  /** Called with the request id as soon as fal has the job: keep it to fetch the result later if this process dies. */
  onEnqueue?: (requestId: string) => void;
  /** Called with every status fal reports. An exception thrown here ends the subscription and cancels the job. */
  onQueueUpdate?: (status: QueueStatus) => void;
  /** Ask for the job's log lines in each status. Default false. */
  logs?: boolean;
  /** Aborting cancels the job on fal's side, then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Milliseconds from the submit to the result, the whole subscription; past it the job is cancelled
   * and {@link FluxTimeoutError} thrown. Default: none. (Each HTTP request has its own limit, `requestTimeoutMs`.)
   */
  resultTimeoutMs?: number;
  /** @deprecated The same as `resultTimeoutMs`, its name before three limits had three names. */
  timeout?: number;
  /**
   * `stream` (default): fal's status event stream, which tells of completion at once and costs one
   * request; polling takes over if the stream cannot be opened or drops. `poll`: status requests
   * every `pollIntervalMs`.
   */
  mode?: "stream" | "poll";
  /** Between status requests when polling. Default 500 ms, what fal's own client uses. */
  pollIntervalMs?: number;
}

/** What the spec's stream path adds to the status path (`/stream`): fal's stream URL is its status URL plus this. */
const { getQueueStatus, streamQueueStatus } = queueOperations;
const streamSuffix = streamQueueStatus.path.slice(getQueueStatus.path.length);

/** How {@link FluxClient.follow} follows a job that is already on the queue. */
export type FollowOptions = Pick<SubscribeOptions, "onQueueUpdate" | "logs" | "signal" | "resultTimeoutMs" | "timeout" | "requestTimeoutMs" | "mode" | "pollIntervalMs" | "maxRetries" | "headers">;

export function createSubscribe(ctx: QueueContext, queue: QueueInternals) {
  /** From the job's submit (or, for `follow`, its id) to its output; aborts and timeouts cancel the job. */
  async function followToOutput(
    getJob: (signal: AbortSignal, onAbandoned: (outcome: AbandonedSubmit) => void) => Promise<QueueJob>,
    given: SubscribeOptions & AnswerObserver,
  ): Promise<unknown> {
    checkMode(given.mode);
    const options = withResultLimit(given);
    // Aborted when a callback throws, so that the job is cancelled like on any other abort.
    const callbackFailed = new AbortController();
    const limit = timeLimit(options.resultTimeoutMs, [options.signal, callbackFailed.signal]);
    try {
      return await followWithin(limit, callbackFailed, getJob, options);
    } finally {
      limit.clear();
    }
  }

  /** {@link followToOutput} within its limit (the caller's signal, `resultTimeoutMs`, a callback that failed). */
  async function followWithin(
    limit: TimeLimit,
    callbackFailed: AbortController,
    getJob: (signal: AbortSignal, onAbandoned: (outcome: AbandonedSubmit) => void) => Promise<QueueJob>,
    options: SubscribeOptions & AnswerObserver,
  ): Promise<unknown> {
    const { signal } = limit;
    let job: QueueJob;
    let abandoned: AbandonedSubmit | undefined;
    try {
      job = await getJob(signal, (outcome) => (abandoned = outcome));
    } catch (error) {
      if (limit.expired && !options.signal?.aborted) throw submitTimedOut(options.resultTimeoutMs!, abandoned);
      throw error;
    }
    const requestId = typeof job === "string" ? job : job.request_id;

    const guarded = guardedBy(callbackFailed);
    const report = guarded(options.onQueueUpdate);
    let lastCompleted: QueueStatus | undefined;
    const onQueueUpdate = (status: QueueStatus) => {
      if (status.status === "COMPLETED") lastCompleted = status;
      // A callback is an exit too: what it is handed goes through the one redaction (src/core/redaction.ts).
      report(ctx.redact(status));
    };
    try {
      guarded(options.onEnqueue)(requestId);
      // A failed job's result answers its error; its COMPLETED status may say why in words (`error`).
      const controls = { signal, requestTimeoutMs: options.requestTimeoutMs, maxRetries: options.maxRetries, headers: options.headers, onAnswer: options.onAnswer };
      const fetchResult = () => queue.result(job, controls).catch((error: unknown) => Promise.reject(withJobFailure(error, lastCompleted)));
      const streamed =
        options.mode !== "poll" && followStream(ctx, queue.statusUrl(job), requestId, onQueueUpdate, fetchResult, options.logs, signal);
      const completed = await streamed;
      if (completed) return await completed.result;
      await poll(queue, job, onQueueUpdate, options, signal);
      return await fetchResult();
    } catch (error) {
      if (!signal.aborted) throw error;
      // The caller gave up: stop the job so that it is not billed for nothing. Best effort, bounded.
      const cancel = await queue
        .cancel(job, { signal: AbortSignal.timeout(Math.min(ctx.requestTimeoutMs, 10_000)) })
        .catch(() => undefined);
      throw whyItStopped(callbackFailed.signal, options, requestId, cancel?.status);
    }
  }

  return {
    subscribe: (input: unknown, options: SubscribeOptions & AnswerObserver = {}) =>
      // The submit's own request keeps its own limit (`requestTimeoutMs`); the subscription's ends it too, through `signal`.
      followToOutput((signal, onAbandoned) => queue.submit(input, { ...options, timeout: undefined, signal, onAbandoned }).catch(jobFromUnreadableAnswer), options),
    follow: (job: QueueJob, options: FollowOptions & AnswerObserver = {}) => followToOutput(async () => job, options),
  };
}

/** A caller's callback that, when it throws, aborts `failed` (so the job is cancelled) and throws on. */
const guardedBy =
  (failed: AbortController) =>
  <T>(callback: ((value: T) => void) | undefined) =>
  (value: T) => {
    try {
      callback?.(value);
    } catch (error) {
      failed.abort(error);
      throw error;
    }
  };

/** The options with the subscription's limit under its name (`timeout` is its deprecated alias). */
function withResultLimit<O extends SubscribeOptions>(options: O): O {
  return { ...options, resultTimeoutMs: options.resultTimeoutMs ?? options.timeout, timeout: undefined };
}

/** Before the job exists: a mode the client does not have would otherwise be taken as "stream". */
function checkMode(mode: unknown): void {
  if (mode === undefined || mode === "stream" || mode === "poll") return;
  throw new FluxValidationError([{ field: "mode", rule: "enum", message: `must be "stream" or "poll", got ${JSON.stringify(mode)}`, params: { allowedValues: ["stream", "poll"] } }]);
}

/** What a subscription that stopped (its job cancelled) throws: the failed callback's error, the caller's abort reason, or its timeout. */
function whyItStopped(callbackFailed: AbortSignal, options: SubscribeOptions, requestId: string, cancelled: string | undefined): unknown {
  if (callbackFailed.aborted) return callbackFailed.reason;
  if (options.signal?.aborted) return options.signal.reason;
  return new FluxTimeoutError(
    cancelled === "ALREADY_COMPLETED"
      ? `the job completed but its result did not arrive within ${options.resultTimeoutMs} ms: fetch it with queue.result("${requestId}")`
      : `the job did not complete within ${options.resultTimeoutMs} ms and was cancelled`,
    { requestId },
  );
}

/**
 * `subscribe`'s `resultTimeoutMs` ran out before the submit was answered (the subscription's signal
 * ends the submit's request too): what became of it, each case on its own, with the job's id when what arrived of the
 * answer named it, and the submit's failure as `cause`.
 */
function submitTimedOut(timeoutMs: number, outcome: AbandonedSubmit | undefined): FluxTimeoutError {
  const late = `the submit did not complete within ${timeoutMs} ms`;
  const id = outcome?.requestId;
  if (id) {
    const then =
      outcome.cancel === "ALREADY_COMPLETED"
        ? `it had already completed: fetch its result with queue.result("${id}")`
        : outcome.cancel
          ? "it was cancelled"
          : `cancelling it failed: cancel it with queue.cancel("${id}"), or follow it with client.follow("${id}")`;
    return new FluxTimeoutError(`${late}; what arrived of its answer named job ${id}, and ${then}`, { requestId: id, cause: outcome.error });
  }
  if (!outcome) return new FluxTimeoutError(`${late}: it had not been sent (the image's upload was under way), so nothing was submitted`);
  if (outcome.error instanceof FluxSubmitUncertainError) {
    return new FluxTimeoutError(
      `${late} and its answer did not come in time: the job may exist and be billed; check fal's request history (https://fal.ai/dashboard) before sending it again`,
      { cause: outcome.error },
    );
  }
  // Never sent, or refused (429) and the wait before sending it again ran past the time limit.
  return new FluxTimeoutError(`${late}; fal made no job of it, so nothing was submitted`, { cause: outcome.error });
}

/**
 * fal took the submit (and will bill the job) but its answer broke the spec or was cut short:
 * when what arrived still named the job, subscribe follows it along the spec's paths rather than
 * throwing a paid job away; otherwise the error stands (it says the job may exist).
 */
function jobFromUnreadableAnswer(error: unknown): string {
  if ((error instanceof FluxResponseError || error instanceof FluxSubmitUncertainError) && error.requestId) return error.requestId;
  throw error;
}

/** The result's error with the failure its COMPLETED status reported, when it reported one. */
function withJobFailure(error: unknown, completed: QueueStatus | undefined): unknown {
  if (!(error instanceof FluxApiError) || completed?.status !== "COMPLETED" || !completed.error) return error;
  const { status, body, errorType, requestId, retryable, timeoutType, hint } = error;
  const jobFailure = { error: completed.error, errorType: completed.error_type ?? undefined };
  return new FluxApiError({ status, body, errorType, requestId, retryable, timeoutType, hint, jobFailure });
}

/**
 * Follows the job's status stream until a COMPLETED event, then starts fetching the result at once
 * and gives its promise; the stream is left to end (see sseData's drainMs).
 * False when the stream could not be opened, ended early, went quiet for `requestTimeoutMs` or
 * failed: the caller then polls.
 */
async function followStream(
  ctx: QueueContext,
  statusUrl: string,
  requestId: string,
  onQueueUpdate: (status: QueueStatus) => void,
  fetchResult: () => Promise<unknown>,
  logs: boolean | undefined,
  signal: AbortSignal,
): Promise<{ result: Promise<unknown> } | false> {
  const url = new URL(statusUrl);
  url.pathname += streamSuffix;
  if (logs) url.searchParams.set("logs", "1");
  const stop = new AbortController();
  let completed = false;
  let idle: ReturnType<typeof setTimeout> | undefined;
  // Reset by whole events and comments only (sseData's onAlive): bytes with no line end cannot keep a dead stream open.
  const stillAlive = () => {
    clearTimeout(idle);
    idle = setTimeout(() => stop.abort(), ctx.requestTimeoutMs);
  };
  try {
    stillAlive();
    const response = await ctx.fetch(url.href, {
      headers: { ...ctx.headers, Accept: "text/event-stream" },
      // Joined as the calls' time limits are (core/time-limit.ts): AbortSignal.any costs about 21 µs a job on Node 20.
      signal: timeLimit(undefined, [signal, stop.signal]).signal,
      redirect: "manual",
    });
    if (!response.ok || !response.body || !response.headers.get("content-type")?.includes("text/event-stream")) {
      await response.body?.cancel().catch(() => undefined);
      return false;
    }
    // After COMPLETED, the rest of the stream is read to its end (fal closes it) rather than cut,
    // so that its connection goes back to the pool: cut, it would be closed, and every job would
    // open a new one (a TLS handshake against fal). The result does not wait for this.
    for await (const data of sseData(response.body, stillAlive, { drainMs: ctx.streamDrainMs })) {
      let status: unknown;
      try {
        status = JSON.parse(data);
      } catch {
        continue;
      }
      if (!validateQueueStatus(status)) continue;
      // A frame that names another job is not this one's news, least of all its COMPLETED.
      const namedJob = (status as { request_id?: unknown }).request_id;
      if (namedJob !== undefined && namedJob !== requestId) continue;
      onQueueUpdate(status);
      if (status.status === "COMPLETED") {
        completed = true;
        return { result: fetchResult() };
      }
    }
    return false;
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    return false;
  } finally {
    clearTimeout(idle);
    if (!completed) stop.abort();
  }
}

async function poll(
  queue: QueueCalls,
  job: QueueJob,
  onQueueUpdate: (status: QueueStatus) => void,
  options: SubscribeOptions,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    const status = await queue.status(job, { logs: options.logs, signal, requestTimeoutMs: options.requestTimeoutMs, maxRetries: options.maxRetries, headers: options.headers });
    onQueueUpdate(status);
    if (status.status === "COMPLETED") return;
    await sleep(options.pollIntervalMs ?? 500, signal);
  }
}
