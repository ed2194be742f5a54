// A server of our own that implements both documents (fal.run's sync call on one port, the queue on
// another) as the spec says, separate from the fake queue of the client's tests, with one realistic
// bug at a time switched on: the hidden-bug suite of `flux-i2i contract`
// (test/full/contract-bugs.test.ts, npm run bench:contract). Its jobs move on events, never on
// time: a job waits until its status is first read, then runs until its stream is opened or its
// status is read a third time, then has completed; so what a contract run can see of a job's life is
// the same on a busy machine.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { endpointIds, operationParameters, operationResponses } from "../../generated/spec.js";
import { imageToImageExamples } from "../../generated/endpoints.js";
import {
  validateImageToImageInput,
  validateRequestId,
  validateImageToImageParameters,
  validateSubmitImageToImageParameters,
  type ValidationIssue,
  type Validator,
} from "../../generated/validators.js";
import { endpointPath } from "../../src/core/endpoint.js";
import type { EndpointId } from "../../src/image-to-image.js";

/** Each bug and what it does; the suite proves each one is caught at `--examples 1`. */
export const contractBugs = {
  "strength-up-to-1.5": "accepts a strength up to 1.5 (the maximum is 1)",
  "num-images-up-to-5": "accepts num_images 5 (the maximum is 4)",
  "steps-minimum-12": "refuses num_inference_steps 10 and 11 (the minimum is 10)",
  "file-urls-accepted": "accepts file:// and local-path image URLs",
  "fractional-seed-accepted": "accepts a seed of 1.5",
  "whole-strength-refused": "refuses a strength that is a whole number (1)",
  "fraction-written-integer-refused": "refuses an integer written with a fraction (40.0)",
  "big-seed-refused": "refuses a seed past 2^53",
  "null-seed-refused": "refuses seed: null",
  "empty-prompt-refused": "refuses an empty prompt",
  "acceleration-high-refused": 'refuses acceleration "high"',
  "unknown-properties-accepted": "accepts a property the schema does not have",
  "missing-prompt-accepted": "accepts a body with no prompt",
  "priority-unchecked": "accepts any X-Fal-Queue-Priority",
  "timeout-bound-inclusive": "accepts X-Fal-Request-Timeout 0.1 (the bound is exclusive)",
  "negative-queue-length-accepted": "accepts fal_max_queue_length -1",
  "webhook-unchecked": "accepts a fal_webhook that is not a URI",
  "logs-true-refused": "refuses logs=true and logs=false (takes 0 and 1 only)",
  "stream-logs-unchecked": "the status stream accepts any logs value",
  "missing-auth-on-status": "answers a status asked with no key",
  "completed-with-202": "answers 202 for a COMPLETED status",
  "in-progress-with-200": "answers 200 for an IN_PROGRESS status",
  "result-before-completion": "serves the result before the job has completed",
  "unknown-right-after-submit": "answers 404 for the first status of a job just submitted",
  "stream-without-completed": "the status stream never sends COMPLETED",
  "stream-never-ends": "the status stream stays open after COMPLETED",
  "broken-status-url": "the submit answers a status_url that leads nowhere",
  "cancel-completed-409": "answers a cancel of a completed job with 409",
} as const;
export type ContractBug = keyof typeof contractBugs;

export interface ContractServerOptions {
  bug?: ContractBug;
  /** The answer to a cancel of a completed job: fal's docs' 400 ALREADY_COMPLETED, or its generated files' 200 {success}. */
  cancelAnswer?: "outcome" | "success";
  /** The URLs of a submit's answer: the document's paths, paths of its own (then only those work), or none (ids only). */
  jobUrls?: "document" | "own" | "none";
  /** The id it answers to (its paths follow it, as src/core/endpoint.ts maps them); default: the documents' own. */
  endpointId?: EndpointId;
  /** Pad a job's result to about this many bytes (an inline image), to show that a large valid result passes. */
  outputBytes?: number;
}

export interface ContractServer {
  syncUrl: string;
  queueUrl: string;
  close(): Promise<void>;
}

type State = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";
interface Job {
  state: State;
  statusReads: number;
}
type Issue = Pick<ValidationIssue, "instancePath" | "keyword">;
type Parameter = { name: string; in: string; schema: { type?: string | readonly string[]; enum?: readonly unknown[] } };

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
const refuse = (res: ServerResponse, issues: Issue[], where: string) =>
  json(res, 422, { detail: issues.map((issue) => ({ loc: [where, ...issue.instancePath.split("/").filter(Boolean)], msg: issue.keyword, type: issue.keyword })) });
const issuesOf = (validate: Validator<unknown>, data: unknown): Issue[] =>
  validate(data) ? [] : (validate.errors ?? []).map(({ instancePath, keyword }) => ({ instancePath, keyword }));

/** A text from the wire as the value its schema's type reads it as (a number, a boolean), else as it is. */
function typed(text: string, type: Parameter["schema"]["type"]): unknown {
  const types = ([] as string[]).concat(type ?? "string");
  if ((types.includes("integer") || types.includes("number")) && text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
  if (types.includes("boolean") && (text === "true" || text === "false")) return text === "true";
  return text;
}

/** The operation's query and header parameters sent with `req`, as typed values by their names in the spec. */
function wireParameters(req: IncomingMessage, url: URL, parameters: readonly Parameter[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const parameter of parameters) {
    const text = parameter.in === "query" ? url.searchParams.get(parameter.name) : req.headers[parameter.name.toLowerCase()];
    if (typeof text === "string") out[parameter.name] = typed(text, parameter.schema.type);
  }
  return out;
}

/** One contract server's settings and jobs. */
interface ContractState {
  options: ContractServerOptions;
  bug: ContractServerOptions["bug"];
  /** The sync call's path, under the endpoint id asked for. */
  route: string;
  /** Where the jobs' URLs live: `/{app}/requests`. */
  requests: string;
  jobs: Map<string, Job>;
  nextJob: number;
  queueUrl: string;
}

export async function startContractServer(options: ContractServerOptions = {}): Promise<ContractServer> {
  const s: ContractState = {
    options,
    bug: options.bug,
    route: endpointPath(endpointIds, operationResponses.imageToImage.path, options.endpointId),
    requests: endpointPath(endpointIds, operationResponses.getQueueResult.path, options.endpointId).replace("/{request_id}", ""),
    jobs: new Map(),
    nextJob: 0,
    queueUrl: "",
  };
  const servers: Server[] = [];
  const syncUrl = await listen(servers, (req, res, url, body) => handleSync(s, req, res, url, body));
  s.queueUrl = await listen(servers, (req, res, url, body) => {
    if (url.pathname !== s.route) return handleJob(s, req, res, url);
    if (req.method !== "POST") return json(res, 405, { detail: "Method not allowed" });
    if (!req.headers.authorization) return json(res, 401, { detail: "No user found for Key ID and Secret" });
    return handleSubmit(s, req, res, url, body);
  });
  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { syncUrl, queueUrl: s.queueUrl, close: async () => void (await Promise.all(servers.map(close))) };
}

/** A server on 127.0.0.1 that hands `handler` each request with its whole body; a handler that throws answers 500. */
async function listen(servers: Server[], handler: (req: IncomingMessage, res: ServerResponse, url: URL, body: string) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        handler(req, res, new URL(req.url ?? "/", "http://127.0.0.1"), Buffer.concat(chunks).toString("utf8"));
      } catch (error) {
        json(res, 500, { detail: String(error) });
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The job's output; `padded`, with an inline image of `outputBytes` (a result near the client's cap). */
function outputOf(s: ContractState, padded = false) {
  return {
    images: [
      {
        url: padded && s.options.outputBytes ? `data:image/jpeg;base64,${"A".repeat(s.options.outputBytes)}` : "https://v3.fal.media/files/rabbit/a.jpeg",
        width: 1024,
        height: 768,
        content_type: "image/jpeg",
      },
    ],
    timings: { inference: 0.1 },
    seed: 42,
    has_nsfw_concepts: [false],
    prompt: imageToImageExamples.minimal.prompt,
  };
}

/** The body's issues as the spec finds them, bent by the bug switched on. */
function bodyIssues(s: ContractState, text: string): Issue[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [{ instancePath: "", keyword: "json" }];
  }
  let issues = issuesOf(validateImageToImageInput as Validator<unknown>, body);
  const input = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const drop = (path: string, keyword?: string) => (issues = issues.filter((i) => !(i.instancePath === path && (!keyword || i.keyword === keyword))));
  const add = (path: string, keyword: string) => issues.push({ instancePath: path, keyword });
  if (s.bug === "strength-up-to-1.5" && typeof input.strength === "number" && input.strength <= 1.5) drop("/strength", "maximum");
  if (s.bug === "num-images-up-to-5" && input.num_images === 5) drop("/num_images", "maximum");
  if (s.bug === "steps-minimum-12" && typeof input.num_inference_steps === "number" && input.num_inference_steps < 12) add("/num_inference_steps", "minimum");
  if (s.bug === "file-urls-accepted" && typeof input.image_url === "string" && /^(file:|\/)/.test(input.image_url)) drop("/image_url", "pattern");
  if (s.bug === "fractional-seed-accepted" && typeof input.seed === "number") drop("/seed");
  if (s.bug === "whole-strength-refused" && Number.isInteger(input.strength)) add("/strength", "type");
  if (s.bug === "fraction-written-integer-refused" && /"(num_inference_steps|num_images|seed)":\s*-?\d+\.0\b/.test(text)) add("/num_inference_steps", "type");
  if (s.bug === "big-seed-refused" && typeof input.seed === "number" && Math.abs(input.seed) > Number.MAX_SAFE_INTEGER) add("/seed", "maximum");
  if (s.bug === "null-seed-refused" && input.seed === null) add("/seed", "type");
  if (s.bug === "empty-prompt-refused" && input.prompt === "") add("/prompt", "minLength");
  if (s.bug === "acceleration-high-refused" && input.acceleration === "high") add("/acceleration", "enum");
  if (s.bug === "unknown-properties-accepted") issues = issues.filter((i) => i.keyword !== "additionalProperties");
  if (s.bug === "missing-prompt-accepted" && !("prompt" in input)) issues = issues.filter((i) => i.keyword !== "required");
  return issues;
}

/** The parameters' issues: the spec's rules on the typed values, and a webhook that must be an absolute URL (a `format`, which the generated validators leave out). */
function parameterIssues(s: ContractState, values: Record<string, unknown>, validate: Validator<unknown>): Issue[] {
  let issues = issuesOf(validate, values);
  const webhook = values.fal_webhook;
  if (typeof webhook === "string" && !URL.canParse(webhook) && s.bug !== "webhook-unchecked") issues.push({ instancePath: "/fal_webhook", keyword: "format" });
  if (s.bug === "priority-unchecked") issues = issues.filter((i) => i.instancePath !== "/X-Fal-Queue-Priority");
  if (s.bug === "timeout-bound-inclusive" && values["X-Fal-Request-Timeout"] === 0.1) issues = issues.filter((i) => i.instancePath !== "/X-Fal-Request-Timeout");
  if (s.bug === "negative-queue-length-accepted") issues = issues.filter((i) => i.instancePath !== "/fal_max_queue_length");
  return issues;
}

function handleSync(s: ContractState, req: IncomingMessage, res: ServerResponse, url: URL, body: string) {
  if (url.pathname !== s.route) return json(res, 404, { detail: "Not found" });
  if (req.method !== "POST") return json(res, 405, { detail: "Method not allowed" });
  if (!req.headers.authorization) return json(res, 401, { detail: "No user found for Key ID and Secret" });
  const issues = bodyIssues(s, body);
  const parameters = parameterIssues(s, wireParameters(req, url, operationParameters.imageToImage), validateImageToImageParameters as Validator<unknown>);
  if (issues.length || parameters.length) return refuse(res, [...issues, ...parameters], issues.length ? "body" : "header");
  return json(res, 200, outputOf(s, ));
}

function handleSubmit(s: ContractState, req: IncomingMessage, res: ServerResponse, url: URL, body: string) {
  const issues = bodyIssues(s, body);
  const parameters = parameterIssues(s, wireParameters(req, url, operationParameters.submitImageToImage), validateSubmitImageToImageParameters as Validator<unknown>);
  if (issues.length || parameters.length) return refuse(res, [...issues, ...parameters], issues.length ? "body" : "query");
  const id = `job-${++s.nextJob}`;
  s.jobs.set(id, { state: "IN_QUEUE", statusReads: 0 });
  if (s.options.jobUrls === "none") return json(res, 200, { request_id: id, gateway_request_id: id });
  const base = `${s.queueUrl}${s.options.jobUrls === "own" ? "/own-jobs" : s.requests}/${id}`;
  const statusUrl = s.bug === "broken-status-url" ? `${base}/state` : `${base}/status`;
  return json(res, 200, { request_id: id, response_url: base, status_url: statusUrl, cancel_url: `${base}/cancel`, status: "IN_QUEUE", queue_position: 0 });
}

/** The job a path names and what is asked of it; undefined when the path is not one of the job paths this server answers. */
function jobPath(s: ContractState, pathname: string): { job?: Job; what: "status" | "stream" | "result" | "cancel" } | undefined {
  const suffix = (["/status/stream", "/status", "/cancel"] as const).find((end) => pathname.endsWith(end));
  const rest = pathname.slice(0, pathname.length - (suffix?.length ?? 0));
  const prefix = rest.slice(0, rest.lastIndexOf("/"));
  if (prefix !== (s.options.jobUrls === "own" ? "/own-jobs" : s.requests)) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(rest.slice(prefix.length + 1));
  } catch {
    return undefined; // a malformed escape names no job
  }
  const what = suffix ? ({ "/status": "status", "/status/stream": "stream", "/cancel": "cancel" } as const)[suffix] : "result";
  return { job: validateRequestId(id) ? s.jobs.get(id) : undefined, what };
}

const statusBody = (state: State, logs: boolean) => ({
  status: state,
  response_url: "https://queue.fal.run/fal-ai/flux-1/requests/job",
  ...(state === "IN_QUEUE" ? { queue_position: 0 } : {}),
  ...(logs && state !== "IN_QUEUE" ? { logs: [{ message: "Generating 1 image", level: "INFO", source: "user", timestamp: new Date(0).toISOString() }] } : {}),
  ...(state === "COMPLETED" ? { metrics: { inference_time: 0.1 } } : {}),
});

/** A status read sees the job's state, then moves it on: queued to running, and at the third read to completed. */
function readStatus(job: Job): State {
  const seen = job.state;
  job.statusReads++;
  if (job.state === "IN_QUEUE") job.state = "IN_PROGRESS";
  else if (job.statusReads >= 3) job.state = "COMPLETED";
  return seen;
}

function statusCode(s: ContractState, state: State): number {
  if (state === "COMPLETED") return s.bug === "completed-with-202" ? 202 : 200;
  return state === "IN_PROGRESS" && s.bug === "in-progress-with-200" ? 200 : 202;
}

function logsIssues(s: ContractState, values: Record<string, unknown>, what: string): Issue[] {
  if (s.bug === "stream-logs-unchecked" && what === "stream") return [];
  if (s.bug === "logs-true-refused" && typeof values.logs === "boolean") return [{ instancePath: "/logs", keyword: "enum" }];
  const allowed = operationParameters.getQueueStatus.find((p) => p.name === "logs")!.schema.enum as readonly unknown[];
  return "logs" in values && !allowed.includes(values.logs) ? [{ instancePath: "/logs", keyword: "enum" }] : [];
}

function handleJob(s: ContractState, req: IncomingMessage, res: ServerResponse, url: URL) {
  const target = jobPath(s, url.pathname);
  if (!target) return json(res, 404, { detail: "Not found" });
  if (req.method !== (target.what === "cancel" ? "PUT" : "GET")) return json(res, 405, { detail: "Method not allowed" });
  if (!req.headers.authorization && !(s.bug === "missing-auth-on-status" && target.what === "status")) return json(res, 401, { detail: "No user found for Key ID and Secret" });
  const { job, what } = target;
  if (what === "status" || what === "stream") {
    const values = wireParameters(req, url, operationParameters.getQueueStatus);
    const issues = logsIssues(s, values, what);
    if (issues.length) return refuse(res, issues, "query");
    if (!job || (s.bug === "unknown-right-after-submit" && what === "status" && job.statusReads++ === 0)) return json(res, 404, { detail: "Request not found" });
    const logs = values.logs === 1 || values.logs === true;
    if (what === "stream") return stream(s, res, job, logs);
    const state = readStatus(job);
    return json(res, statusCode(s, state), statusBody(state, logs));
  }
  if (!job) return what === "cancel" ? json(res, 404, { status: "NOT_FOUND" }) : json(res, 404, { detail: "Request not found" });
  if (what === "result") {
    if (job.state !== "COMPLETED" && s.bug !== "result-before-completion") return json(res, 400, { detail: "Request is still in progress" });
    return json(res, 200, outputOf(s, true));
  }
  if (job.state === "COMPLETED") {
    if (s.bug === "cancel-completed-409") return json(res, 409, { detail: "Conflict" });
    return s.options.cancelAnswer === "success" ? json(res, 200, { success: true }) : json(res, 400, { status: "ALREADY_COMPLETED" });
  }
  return job.state === "IN_QUEUE" ? json(res, 200, { status: "OK" }) : json(res, 202, { status: "CANCELLATION_REQUESTED" });
}

/** The status stream: the state now, the job running, then completed and the end (or a bug's way instead). */
function stream(s: ContractState, res: ServerResponse, job: Job, logs: boolean) {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  const frame = () => res.write(`data: ${JSON.stringify(statusBody(job.state, logs))}\n\n`);
  frame();
  res.write(": ping\n\n");
  if (job.state === "IN_QUEUE") {
    job.state = "IN_PROGRESS";
    frame();
  }
  setImmediate(() => {
    job.state = "COMPLETED";
    if (s.bug !== "stream-without-completed") frame();
    if (s.bug !== "stream-without-completed" && s.bug !== "stream-never-ends") return res.end();
    // Open until the client goes, with pings only.
    const ping = setInterval(() => res.write(": ping\n\n"), 200);
    res.on("close", () => clearInterval(ping));
  });
}

