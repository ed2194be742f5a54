// The stateful phase of a contract run: jobs submitted and followed as fal runs them, through the
// URLs the submit's answer gives (Schemathesis' links). Each job: its status at once (it must be
// known, and its code must agree with its state), its result while it has not completed (it must
// not be served), its status stream with logs (it must reach COMPLETED no later than the status
// says so, and end soon after), then its status, result and cancel once it has completed.
import { validateRequestId } from "../../../generated/validators.js";
import { maxAnswerBytes, readBody } from "../../core/read-body.js";
import { sameOrigin } from "../../core/credentials.js";
import { endpointPath } from "../../core/endpoint.js";
import { jobState, type Answer } from "./checks.js";
import { asEventStream, isEventStream, judge, send, tally, watchStream, type ContractOptions, type ContractReport, type Probe, type StreamWatch } from "./exchange.js";

/** Where a job is followed: its status, stream, result and cancel URLs. */
export interface JobUrls {
  id: string;
  status: string;
  stream: string;
  result: string;
  cancel: string;
}

/** How often a status is read while its stream is watched: fal-js polls every 500 ms. */
const pollMs = 500;

/**
 * The job's URLs from the submit's answer: each URL it gives on the queue target's own origin (the
 * key goes with it), else the document's path for it. Gives undefined when the answer names no
 * job, and whether every URL came from the answer.
 */
export function jobUrls(answer: Answer, { queueUrl, endpointId, documents }: ContractOptions): { urls: JobUrls; fromAnswer: boolean } | undefined {
  let submitted: Record<string, unknown>;
  try {
    submitted = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const id = submitted?.request_id;
  if (!validateRequestId(id)) return undefined;
  const origin = new URL(queueUrl).origin;
  const given = (name: string) => {
    const url = submitted[name];
    return typeof url === "string" && sameOrigin(url, origin) ? url : undefined;
  };
  const path = (operation: string) => endpointPath(documents.endpointIds, documents.operationResponses[operation]!.path, endpointId);
  const fromDocument = (operation: string) => queueUrl + path(operation).replace("{request_id}", encodeURIComponent(id));
  const statusUrl = given("status_url");
  const stream = statusUrl ? new URL(statusUrl) : undefined;
  if (stream) stream.pathname += "/stream";
  const urls = {
    id,
    status: statusUrl ?? fromDocument("getQueueStatus"),
    stream: stream?.href ?? fromDocument("streamQueueStatus"),
    result: given("response_url") ?? fromDocument("getQueueResult"),
    cancel: given("cancel_url") ?? fromDocument("cancelQueueRequest"),
  };
  return { urls, fromAnswer: Boolean(statusUrl && given("response_url") && given("cancel_url")) };
}

const withLogs = (url: string) => {
  const withQuery = new URL(url);
  withQuery.searchParams.set("logs", "1");
  return withQuery.href;
};

const isDone = (answer: Answer | undefined) => answer !== undefined && answer.status === 200 && jobState(answer.text) === "COMPLETED";
const isWaiting = (answer: Answer | undefined) => answer !== undefined && ["IN_QUEUE", "IN_PROGRESS"].includes(jobState(answer.text) ?? "");

/** Submits one job with `body` and follows it to its end; gives its URLs when the submit was taken. */
export async function followJob(body: string, label: string, options: ContractOptions, report: ContractReport): Promise<JobUrls | undefined> {
  const { documents } = options;
  const submitUrl = options.queueUrl + endpointPath(documents.endpointIds, documents.operationResponses[documents.submit]!.path, options.endpointId);
  const submitted = await send({ operation: documents.submit, kind: "positive", method: "POST", url: submitUrl, body, auth: true, label }, options, report);
  if (!submitted || submitted.status < 200 || submitted.status >= 300) return undefined;
  const job = jobUrls(submitted, options);
  if (!job) return undefined;
  report.jobs.followed++;
  if (job.fromAnswer) report.jobs.throughAnswerUrls++;
  const { urls } = job;
  const probe = (operation: string, url: string, what: string): Probe => ({
    operation,
    kind: "positive",
    method: documents.operationResponses[operation]!.method,
    url,
    auth: true,
    label: `job ${urls.id}, ${what}`,
  });

  const first = await send(probe("getQueueStatus", withLogs(urls.status), "just submitted"), options, report);
  tally(report, probe("getQueueStatus", urls.status, "just submitted"), "job_available_after_submit", first?.status === 404 ? "the status URL of a job the submit accepted answered 404" : undefined);
  if (isWaiting(first)) await resultTooEarly(urls, probe, options, report);
  await watchJob(urls, probe, options, report);

  const last = await send(probe("getQueueStatus", withLogs(urls.status), "after its stream"), options, report);
  if (isDone(last)) {
    const failed = (JSON.parse(last!.text) as { error?: unknown }).error;
    const result = await send(probe("getQueueResult", urls.result, "completed"), options, report);
    if (result && !failed) {
      const served = result.status >= 200 && result.status < 300;
      tally(report, probe("getQueueResult", urls.result, "completed"), "result_after_completion", served ? undefined : `a job COMPLETED with no error answered ${result.status}`);
    }
  }
  await send(probe("cancelQueueRequest", urls.cancel, "after it ended"), options, report);
  return urls;
}

/**
 * The result read while the job has not completed, then the status again: a job never goes back
 * from COMPLETED, so a result served while the second status still says it waits or runs was
 * served before completion. Without the second read, a job that completed in between would be a
 * false alarm.
 */
async function resultTooEarly(urls: JobUrls, probe: (operation: string, url: string, what: string) => Probe, options: ContractOptions, report: ContractReport) {
  // Observed, not a positive request: the right answer is the spec's 400 (not completed).
  const early: Probe = { ...probe("getQueueResult", urls.result, "before it completed"), kind: "observe" };
  const fetched = await send(early, options, report);
  const after = await send(probe("getQueueStatus", urls.status, "after an early result"), options, report);
  if (!fetched || !after || !isWaiting(after)) return;
  const served = fetched.status >= 200 && fetched.status < 300;
  tally(report, early, "result_not_before_completion", served ? `served ${fetched.status} while the status said ${jobState(after.text)}` : undefined);
}

/**
 * The job's status read every {@link pollMs} (each answer judged) until `stop()`; `completed`
 * settles when one says COMPLETED.
 */
function pollStatus(urls: JobUrls, probe: (operation: string, url: string, what: string) => Probe, options: ContractOptions, report: ContractReport) {
  const stopped = new AbortController();
  let completed: () => void = () => undefined;
  const completion = new Promise<void>((resolve) => (completed = resolve));
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        stopped.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (stopped.signal.aborted) return;
      if (isDone(await send(probe("getQueueStatus", urls.status, "while its stream is open"), options, report))) return completed();
    }
  })();
  return { completed: completion, stop: () => (stopped.abort(), loop) };
}

/** What `stream_reaches_completed` says of a watched stream. */
function reachedVerdict(watch: StreamWatch, endMs: number): string | undefined {
  if (watch.end === "no-completed") return `the status said COMPLETED; the stream sent no COMPLETED frame within ${endMs} ms`;
  if (watch.completed) return undefined;
  return watch.end === "broken" ? `the stream broke before COMPLETED: ${watch.error}` : "the stream ended before a COMPLETED frame";
}

/**
 * The status stream (with logs) watched while the status is polled: a stream that never sends
 * COMPLETED, or never ends, is cut `streamEndMs` after it should have, and named; a job that does
 * not complete within `jobTimeoutMs` is named too.
 */
async function watchJob(urls: JobUrls, probe: (operation: string, url: string, what: string) => Probe, options: ContractOptions, report: ContractReport) {
  const streamProbe = probe("streamQueueStatus", withLogs(urls.stream), "watched to its end");
  const observed: Probe = { ...streamProbe, kind: "observe" };
  const endMs = options.streamEndMs ?? 5_000;
  const jobTimeoutMs = options.jobTimeoutMs ?? 120_000;
  const stop = new AbortController();
  const polling = pollStatus(urls, probe, options, report);
  const deadline = setTimeout(() => stop.abort("job-time-limit"), jobTimeoutMs);
  try {
    const response = await fetch(streamProbe.url, { headers: { Authorization: `Key ${options.key}` }, signal: stop.signal, redirect: "manual" }).catch((error: unknown) => error as Error);
    if (response instanceof Error) return tally(report, streamProbe, "server_answered", `no answer: ${response.message}`);
    if (!response.ok || !response.body || !isEventStream(response)) {
      const text = await readBody(response, maxAnswerBytes.small).catch(() => "");
      await judge(observed, { status: response.status, headers: response.headers, text }, report, options.documents);
      return tally(report, streamProbe, "stream_reaches_completed", `answered ${response.status} ${response.headers.get("content-type") ?? ""}`.trim());
    }
    const watch = await watchStream(response.body, stop, { endMs, statusCompleted: polling.completed });
    // Its status, content type and every frame judged as any answer is.
    await judge(observed, { status: response.status, headers: response.headers, text: asEventStream(watch.frames) }, report, options.documents);
    const timedOut = stop.signal.reason === "job-time-limit";
    tally(report, streamProbe, "job_completes", timedOut ? `not COMPLETED within ${jobTimeoutMs / 1000} s` : undefined);
    if (timedOut) return;
    tally(report, streamProbe, "stream_reaches_completed", reachedVerdict(watch, endMs));
    if (watch.completed) tally(report, streamProbe, "stream_ends_after_completed", watch.end === "open-after-completed" ? `still open ${endMs} ms after its COMPLETED frame` : undefined);
  } finally {
    clearTimeout(deadline);
    stop.abort("done");
    await polling.stop();
  }
}
