// fal's queue (openapi/queue.yaml): submit, status, result, cancel (sent by src/request.ts).
// Queue calls follow the URLs fal's submit answer carries, which openapi-fetch's path templates
// cannot express, so they go through `send`; their types come from generated/queue.ts.
import { queueOperations } from "../generated/spec.js";
import {
  validateAlreadyCompleted,
  validateCancellationRequested,
  validateQueueStatus,
  validateQueueSubmitted,
  validateSubmitParameters,
} from "../generated/validators.js";
import { redact } from "./credentials.js";
import { FluxValidationError, type FluxIssue } from "./errors.js";
import { parseErrorBody } from "./failures.js";
import { mismatch, parseJson, send, type Transport } from "./request.js";
import { forValidation, stringifyExact, withExactSeed } from "./seed.js";
import { checkInput, checkOutput, issuesOf } from "./validation.js";
import type {
  CancelResult,
  FluxQueue,
  ImageToImageInput,
  ImageToImageOutput,
  QueueCallOptions,
  QueueJob,
  QueueStatus,
  QueueSubmitted,
  SubmitOptions,
  SubmitParameters,
} from "./types.js";

/** What the queue calls share with the client that made them. */
export interface QueueContext extends Transport {
  /** Without a trailing slash. */
  queueUrl: string;
  validateResponse: boolean;
}

type OperationId = keyof typeof queueOperations;
type UrlKind = "status_url" | "response_url" | "cancel_url";

/** The submit option behind each query or header parameter, for messages. */
const optionOf: Record<string, string> & Record<keyof SubmitParameters, keyof SubmitOptions> = {
  fal_webhook: "webhookUrl",
  "X-Fal-Queue-Priority": "priority",
  "X-Fal-Request-Timeout": "startTimeout",
};

/** How many submitted jobs' URLs a client remembers, so a long-lived client does not grow without bound. */
const rememberedJobs = 1000;

/** The queue, plus what `subscribe` needs of it. */
export interface QueueInternals extends FluxQueue {
  /** The job's status URL, as `status` would request it. */
  statusUrl(job: QueueJob): string;
}

export function createQueue(ctx: QueueContext): QueueInternals {
  const jobs = new Map<string, Pick<QueueSubmitted, UrlKind>>();
  const queueOrigin = new URL(ctx.queueUrl).origin;

  /** A URL fal gave for the job if it is on the queue's own origin (the key goes with it), else the spec's path. */
  function urlOf(job: QueueJob, kind: UrlKind, operation: OperationId): string {
    const id = typeof job === "string" ? job : job.request_id;
    const given = (typeof job === "string" ? undefined : job[kind]) ?? jobs.get(id)?.[kind];
    if (given && sameOrigin(given, queueOrigin)) return given;
    return ctx.queueUrl + queueOperations[operation].path.replace("{request_id}", encodeURIComponent(id));
  }

  async function submit(input: ImageToImageInput, options: SubmitOptions = {}): Promise<QueueSubmitted> {
    const parameters: SubmitParameters = {
      fal_webhook: options.webhookUrl,
      "X-Fal-Queue-Priority": options.priority,
      "X-Fal-Request-Timeout": options.startTimeout,
    };
    const given = Object.fromEntries(Object.entries(parameters).filter(([, value]) => value !== undefined));
    const issues = [...checkInput(forValidation(input)), ...checkSubmitParameters(given, ctx.key)];
    if (issues.length) throw new FluxValidationError(issues);

    const url = new URL(ctx.queueUrl + queueOperations.submitImageToImage.path);
    const headers: Record<string, string> = { ...ctx.headers, "Content-Type": "application/json" };
    const where: Record<string, string> = queueOperations.submitImageToImage.parameters;
    for (const [name, value] of Object.entries(given)) {
      if (where[name] === "query") url.searchParams.set(name, String(value));
      else headers[name] = String(value);
    }

    const submitted = await send(ctx, {
      retryableByStatus: queueOperations.submitImageToImage.retryableByStatus,
      method: "POST",
      url: url.href,
      headers,
      body: stringifyExact(input),
      idempotent: false,
      signal: options.signal,
      parse: (text) => {
        // Not retryable: fal may hold the job; recoverRequestId finds its id in a cut answer.
        const body = parseJson(text, "the submit", recoverRequestId(text), false);
        if (!validateQueueSubmitted(body)) {
          throw mismatch("the submit", body, issuesOf(validateQueueSubmitted, body), recoverRequestId(text));
        }
        return body;
      },
    });
    if (jobs.size >= rememberedJobs) jobs.delete(jobs.keys().next().value!);
    jobs.set(submitted.request_id, submitted);
    return submitted;
  }

  function status(job: QueueJob, options: QueueCallOptions & { logs?: boolean } = {}): Promise<QueueStatus> {
    const url = new URL(urlOf(job, "status_url", "getQueueStatus"));
    if (options.logs) url.searchParams.set("logs", "1");
    return send(ctx, {
      retryableByStatus: queueOperations.getQueueStatus.retryableByStatus,
      method: "GET",
      url: url.href,
      jobId: idOf(job),
      signal: options.signal,
      parse: (text) => {
        const body = parseJson(text, "a status request", idOf(job));
        if (!validateQueueStatus(body)) throw mismatch("a status request", body, issuesOf(validateQueueStatus, body), idOf(job));
        return body;
      },
    });
  }

  function result(job: QueueJob, options: QueueCallOptions = {}): Promise<ImageToImageOutput> {
    return send(ctx, {
      retryableByStatus: queueOperations.getQueueResult.retryableByStatus,
      method: "GET",
      url: urlOf(job, "response_url", "getQueueResult"),
      jobId: idOf(job),
      signal: options.signal,
      parse: (text) => {
        const body = parseJson(text, "a result request", idOf(job)) as ImageToImageOutput;
        if (ctx.validateResponse) {
          const issues = checkOutput(body);
          if (issues.length) throw mismatch("a result request", body, issues, idOf(job));
        }
        withExactSeed(body, text);
        return body;
      },
    });
  }

  function cancel(job: QueueJob, options: QueueCallOptions = {}): Promise<CancelResult> {
    return send(ctx, {
      retryableByStatus: queueOperations.cancelQueueRequest.retryableByStatus,
      method: "PUT",
      url: urlOf(job, "cancel_url", "cancelQueueRequest"),
      jobId: idOf(job),
      signal: options.signal,
      // 400 ALREADY_COMPLETED is an answer, not a failure: the result is still there.
      accept: (status, text) => status === 400 && validateAlreadyCompleted(parseErrorBody(text)),
      parse: (text) => {
        const body = parseJson(text, "a cancel request", idOf(job));
        if (validateCancellationRequested(body) || validateAlreadyCompleted(body)) return body;
        throw mismatch("a cancel request", body, issuesOf(validateCancellationRequested, body), idOf(job));
      },
    });
  }

  const statusUrl = (job: QueueJob) => urlOf(job, "status_url", "getQueueStatus");
  return { submit, status, result, cancel, statusUrl };
}

function idOf(job: QueueJob): string {
  return typeof job === "string" ? job : job.request_id;
}

function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

/** A submit whose answer could not be read may still have created a job: find its id if the text shows one. */
function recoverRequestId(text: string): string | undefined {
  return /"request_id"\s*:\s*"([^"\\/?#\s]+)"/.exec(text)?.[1];
}

function checkSubmitParameters(parameters: Record<string, unknown>, key: string | undefined): FluxIssue[] {
  const issues = issuesOf(validateSubmitParameters, parameters).map((issue) => ({
    ...issue,
    field: optionOf[issue.field] ?? issue.field,
  }));
  const webhook = parameters.fal_webhook;
  if (typeof webhook === "string") {
    let url: URL | undefined;
    try {
      url = new URL(webhook);
    } catch {
      // reported below
    }
    if (!url || !/^https?:$/.test(url.protocol)) {
      issues.push({ field: "webhookUrl", rule: "format", message: "must be an absolute http(s) URL", params: { format: "uri" } });
    } else if (key && webhook.includes(key)) {
      issues.push({ field: "webhookUrl", rule: "secret", message: "contains the API key; fal would store it in the job", params: {} });
    }
  }
  return issues.map((issue) => redact(issue, key));
}
