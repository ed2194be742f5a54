// fal's queue (openapi/queue.yaml) for one endpoint (its generated entry): submit, status, result,
// cancel (sent by src/core/transport.ts).
// Queue calls follow the URLs fal's submit answer carries, which openapi-fetch's path templates
// cannot express, so they go through `send`; their types come from generated/queue.ts.
import { queueOperations, ruleMessages } from "../../generated/spec.js";
import {
  validateCancelAnswer,
  validateCancelNotFound,
  validateQueueStatus,
  validateQueueSubmitted,
  validateRequestId,
} from "../../generated/validators.js";
import { sameOrigin } from "../core/credentials.js";
import { endpointPath } from "../core/endpoint.js";
import { withUploadedImage, type UploadContext } from "../storage/upload.js";
import { platformParameters } from "../core/platform-options.js";
import { parseErrorBody } from "../core/errors-from-answers.js";
import { callHeaders } from "../core/call-controls.js";
import { FluxSubmitUncertainError, FluxValidationError, type FluxResponseError } from "../core/errors.js";
import { maxAnswerBytes } from "../core/read-body.js";
import { offSpecAnswer, parseJson, send, type Transport } from "../core/transport.js";
import { withExactSeed } from "../core/seed.js";
import { checkOutput, issuesOf, serializeInput } from "../core/validation.js";
import type {
  AnswerObserver,
  CancelResult,
  QueueCalls,
  QueueCallOptions,
  QueueEndpoint,
  QueueJob,
  QueueStatus,
  QueueSubmitted,
  SubmitOptions,
} from "../core/types.js";

/** What the queue calls share with the client that made them. */
export interface QueueContext extends Transport {
  /** Without a trailing slash. */
  queueUrl: string;
  /** The endpoint's entry (generated/endpoints.ts): its submit, ids and rules. */
  endpoint: QueueEndpoint;
  /** The id the submit names the endpoint by; the spec's paths are mapped to it (endpoint.ts). */
  endpointId: string;
  /** Where an image given as bytes is uploaded before the submit (upload.ts). */
  upload: UploadContext;
  validateResponse: boolean;
  /** How long a status stream that said COMPLETED may stay open for its connection to be used again. */
  streamDrainMs: number;
  /** Whether a text holds any form of the key (the client's setup; the key itself stays there). */
  carriesKey: (text: string) => boolean;
  /** The one redaction (a status handed to a callback leaves the client there). */
  redact: <T>(value: T) => T;
}

type OperationId = keyof typeof queueOperations;
type UrlKind = "status_url" | "response_url" | "cancel_url";

/** How many submitted jobs' URLs a client remembers, so a long-lived client does not grow without bound. */
const rememberedJobs = 1000;

/** What became of a submit whose caller gave up (its signal aborted) while it was on its way. */
export interface AbandonedSubmit {
  /** The job fal's answer named, when one came (then cancelled). */
  requestId?: string | undefined;
  /** What the cancel said; undefined if it failed. */
  cancel?: CancelResult["status"] | undefined;
  /** The submit's own failure, when no answer named a job. */
  error?: unknown;
}

/** Told what became of a submit its caller gave up on (`subscribe` explains its timeout with it). */
export interface AbandonObserver {
  onAbandoned?: (outcome: AbandonedSubmit) => void;
}

/** The queue, plus what `subscribe` needs of it. */
export interface QueueInternals extends Omit<QueueCalls, "submit"> {
  /** `submit`, which also tells what became of it when its caller gives up. */
  submit(input: unknown, options?: SubmitOptions & AnswerObserver & AbandonObserver): Promise<QueueSubmitted>;
  /** The job's status URL, as `status` would request it. */
  statusUrl(job: QueueJob): string;
}

export function createQueue(ctx: QueueContext): QueueInternals {
  const urls = jobUrls(ctx);
  const status = (job: QueueJob, options: StatusOptions = {}) => requestStatus(ctx, urls.urlOf(job, "status_url", "getQueueStatus"), job, options);
  const result = (job: QueueJob, options: QueueCallOptions & AnswerObserver = {}) =>
    requestResult(ctx, urls.urlOf(job, "response_url", "getQueueResult"), job, options);
  const cancel = (job: QueueJob, options: QueueCallOptions & AnswerObserver = {}) =>
    requestCancel(ctx, urls.urlOf(job, "cancel_url", "cancelQueueRequest"), job, options);

  async function submit(given: unknown, options: SubmitOptions & AnswerObserver & AbandonObserver = {}): Promise<QueueSubmitted> {
    const { signal } = options;
    if (!signal) return urls.remember(await sendSubmit(ctx, given, options));
    const outcome = await sendSubmit(ctx, given, options).then(
      (job) => ({ job, id: job.request_id }),
      (error: unknown) => ({ error, id: error instanceof FluxSubmitUncertainError ? error.requestId : undefined }),
    );
    if (signal.aborted) {
      // Best effort, bounded: the caller is gone, and a job left running would be billed for nothing.
      const cancelled = outcome.id
        ? await cancel(outcome.id, { signal: AbortSignal.timeout(Math.min(ctx.requestTimeoutMs, 10_000)) }).catch(() => undefined)
        : undefined;
      options.onAbandoned?.({ requestId: outcome.id, cancel: cancelled?.status, error: "error" in outcome ? outcome.error : undefined });
      throw signal.reason;
    }
    if ("error" in outcome) throw outcome.error;
    return urls.remember(outcome.job);
  }

  const statusUrl = (job: QueueJob) => urls.urlOf(job, "status_url", "getQueueStatus");
  return { submit, status, result, cancel, statusUrl };
}

type StatusOptions = QueueCallOptions & AnswerObserver & { logs?: boolean };

/**
 * The URLs of the jobs a client submitted (the last {@link rememberedJobs}): a URL fal gave for a
 * job is used if it is on the queue's own origin (the key goes with it), else the spec's path.
 */
function jobUrls(ctx: QueueContext) {
  const jobs = new Map<string, Pick<QueueSubmitted, UrlKind>>();
  const queueOrigin = new URL(ctx.queueUrl).origin;
  return {
    remember(submitted: QueueSubmitted): QueueSubmitted {
      if (jobs.size >= rememberedJobs) jobs.delete(jobs.keys().next().value!);
      jobs.set(submitted.request_id, submitted);
      return submitted;
    },
    urlOf(job: QueueJob, kind: UrlKind, operation: OperationId): string {
      const id = idOf(job);
      const given = (typeof job === "string" ? undefined : job[kind]) ?? jobs.get(id)?.[kind];
      if (given && sameOrigin(given, queueOrigin)) return given;
      return ctx.queueUrl + endpointPath(ctx.endpoint.ids, queueOperations[operation].path, ctx.endpointId).replace("{request_id}", encodeURIComponent(id));
    },
  };
}

/**
 * The submit itself: an image given as bytes uploaded first (once the rest of the input is known
 * to be good), the body checked, then sent once; retried only after a refusal that made no job.
 */
async function sendSubmit(ctx: QueueContext, given: unknown, options: SubmitOptions & AnswerObserver): Promise<QueueSubmitted> {
  const { endpoint } = ctx;
  const precheck = (checked: unknown) => void platformParameters(options, endpoint.submit, ctx.carriesKey, serializeInput(endpoint, checked).issues);
  const input = await withUploadedImage(given, ctx.upload, precheck, options.signal);
  const body = serializeInput(endpoint, input);
  const platform = platformParameters(options, endpoint.submit, ctx.carriesKey, body.issues);
  const url = new URL(ctx.queueUrl + endpointPath(endpoint.ids, endpoint.submit.path, ctx.endpointId));
  for (const [name, value] of Object.entries(platform.query)) url.searchParams.set(name, value);
  if (options.signal?.aborted) throw options.signal.reason;
  return send(ctx, {
    retryableByStatus: endpoint.submit.retryableByStatus,
    method: "POST",
    url: url.href,
    headers: { ...callHeaders(options.headers), ...platform.headers, ...ctx.headers, "Content-Type": "application/json" },
    timeoutMs: options.requestTimeoutMs ?? options.timeout,
    maxRetries: options.maxRetries,
    onAnswer: options.onAnswer,
    body: body.text,
    idempotent: false,
    // A 429 is a refusal: no job exists, so sending the submit again cannot bill twice.
    refusedStatuses: endpoint.submit.refusedStatuses,
    recoverRequestId,
    // Aborted with the submit on its way, its answer is awaited so that the job it names is cancelled, not orphaned.
    finishOnAbort: true,
    signal: options.signal,
    parse: (text, _status, headers) => submitAnswer(text, headers),
  });
}

/**
 * A 2xx answer to the submit as the job it made. fal took the submit: the job exists and is billed
 * whatever the body says, so an answer that cannot be used is the uncertain error, with the job's
 * id if the body names one, else the x-fal-request-id header the spec declares.
 */
function submitAnswer(text: string, headers: Headers): QueueSubmitted {
  const named = recoverRequestId(text) ?? requestIdOf(headers.get("x-fal-request-id"));
  try {
    const body = parseJson(text, "the submit", named, false);
    if (!validateQueueSubmitted(body)) throw offSpecAnswer("the submit", body, issuesOf(validateQueueSubmitted, body), named);
    return body;
  } catch (error) {
    throw unusableSubmitAnswer(error as FluxResponseError, named);
  }
}

function requestStatus(ctx: QueueContext, statusUrl: string, job: QueueJob, options: StatusOptions): Promise<QueueStatus> {
  const url = new URL(statusUrl);
  if (options.logs) url.searchParams.set("logs", "1");
  return send(ctx, {
    retryableByStatus: queueOperations.getQueueStatus.retryableByStatus,
    method: "GET",
    url: url.href,
    jobId: idOf(job),
    ...callControls(options, ctx.headers),
    parse: (text) => {
      const body = parseJson(text, "a status request", idOf(job));
      if (!validateQueueStatus(body)) throw offSpecAnswer("a status request", body, issuesOf(validateQueueStatus, body), idOf(job));
      return body;
    },
  });
}

function requestResult(ctx: QueueContext, url: string, job: QueueJob, options: QueueCallOptions & AnswerObserver): Promise<unknown> {
  return send(ctx, {
    maxBytes: maxAnswerBytes.output,
    retryableByStatus: queueOperations.getQueueResult.retryableByStatus,
    method: "GET",
    url,
    jobId: idOf(job),
    ...callControls(options, ctx.headers),
    parse: (text) => {
      const body = parseJson(text, "a result request", idOf(job));
      if (ctx.validateResponse) {
        const issues = checkOutput(ctx.endpoint, body);
        if (issues.length) throw offSpecAnswer("a result request", body, issues, idOf(job));
      }
      withExactSeed(body, text);
      return body;
    },
  });
}

function requestCancel(ctx: QueueContext, url: string, job: QueueJob, options: QueueCallOptions & AnswerObserver): Promise<CancelResult> {
  const { outcomeStatuses } = queueOperations.cancelQueueRequest;
  return send(ctx, {
    retryableByStatus: queueOperations.cancelQueueRequest.retryableByStatus,
    method: "PUT",
    url,
    jobId: idOf(job),
    ...callControls(options, ctx.headers),
    // An answer of a status the spec marks `x-outcome` (ALREADY_COMPLETED's 400, NOT_FOUND's 404)
    // is a result, not a failure, when its body is a cancel's; a proxy's 404 page stays an error.
    accept: (status, text) => (outcomeStatuses as readonly number[]).includes(status) && isCancelAnswer(parseErrorBody(text), status),
    parse: (text, status) => cancelResult(parseJson(text, "a cancel request", idOf(job)), status, idOf(job)),
  });
}

/** A queue call's own controls as `send` takes them: its signal, time limit, retries and headers (the key's last, so none replaces it). */
function callControls(options: QueueCallOptions & AnswerObserver, clientHeaders: Record<string, string>) {
  return {
    signal: options.signal,
    timeoutMs: options.requestTimeoutMs ?? options.timeout,
    maxRetries: options.maxRetries,
    headers: { ...callHeaders(options.headers), ...clientHeaders },
    onAnswer: options.onAnswer,
  };
}

/**
 * The job's id, refused (before it is put in a URL) when it is not one path segment of the form
 * the spec's `RequestId` allows: `..` from a tampered journal or answer would walk the URL's path.
 */
function idOf(job: QueueJob): string {
  const id: unknown = typeof job === "string" ? job : job?.request_id;
  if (validateRequestId(id)) return id;
  const message = ruleMessages["/request_id"]?.pattern?.message ?? "is not a request id";
  throw new FluxValidationError([{ field: "requestId", rule: "pattern", message: `${message}, got ${JSON.stringify(id)}`, params: {} }]);
}

/** Whether a body is a cancel's answer for its status (a 404 may also be fal's `{detail}` form). */
function isCancelAnswer(body: unknown, httpStatus: number): boolean {
  return validateCancelAnswer(body) || (httpStatus === 404 && validateCancelNotFound(body));
}

/** fal's answer to a cancel, in either form it takes, as a {@link CancelResult}. */
function cancelResult(body: unknown, httpStatus: number, jobId: string): CancelResult {
  if (httpStatus === 404 && validateCancelNotFound(body)) return { status: "NOT_FOUND", httpStatus, body };
  if (!validateCancelAnswer(body)) throw offSpecAnswer("a cancel request", body, issuesOf(validateCancelAnswer, body), jobId);
  if ("status" in body) return { status: body.status, httpStatus, body };
  // fal's `{success}` form: see CancelResult for why these readings.
  return { status: body.success ? "CANCELLATION_REQUESTED" : "ALREADY_COMPLETED", httpStatus, body };
}

/** A submit whose answer could not be read may still have created a job: find its id if the text shows one. */
function recoverRequestId(text: string): string | undefined {
  const found = /"request_id"\s*:\s*"([^"\\/?#\s]+)"/.exec(text)?.[1];
  return requestIdOf(found);
}

/** `value` if it is a request id the spec allows (one URL path segment), else undefined. */
function requestIdOf(value: string | null | undefined): string | undefined {
  return validateRequestId(value) ? (value as string) : undefined;
}

/**
 * A submit fal took (2xx) whose answer cannot be used (not JSON, off the spec): the job exists and
 * is billed, so it is the uncertain error, never one that invites sending it again, with the job's
 * id when the answer named it. `cause` keeps the answer (`body`) and what is wrong with it.
 */
function unusableSubmitAnswer(error: FluxResponseError, requestId: string | undefined): FluxSubmitUncertainError {
  return new FluxSubmitUncertainError(
    `fal took the submit, but ${error.message.replace(/^fal's answer to the submit /, "its answer ")}. The job exists and is billed: ` +
      (requestId
        ? `it is job ${requestId}; follow it (client.follow, flux-i2i --live --follow ${requestId}) rather than sending it again.`
        : "nothing in the answer named it; check fal's request history (https://fal.ai/dashboard) before sending it again."),
    { cause: error, requestId },
  );
}
