// One request of a contract run and the judging of its answer: the paid cap, the time limit, the
// read's bound (the client's own caps), and every check's verdict tallied into the report.
import { maxAnswerBytes, BodyReadError, readBody } from "../../core/read-body.js";
import { sseData } from "../../core/sse.js";
import { answerChecks, jobState, requestVerdict, type Answer, type CheckName, type Verdict } from "./checks.js";
import type { ContractDocuments } from "./documents.js";

export interface ContractOptions {
  /** The documents the server is checked against: their tables, validators and endpoint (./documents.ts). */
  documents: ContractDocuments;
  /** The sync document's server (fal.run's role) and the queue's. */
  syncUrl: string;
  queueUrl: string;
  /** The storage document's server (rest.fal.ai's role); without it, the upload's initiate call is left out. */
  storageUrl?: string;
  /** Sent as `Authorization: Key ...` (never printed). */
  key: string;
  /** The id the requests name the endpoint by (its paths follow it); default: the documents' own. */
  endpointId?: string;
  /** Valid and invalid random requests an operation that takes a body gets, each; also the number of jobs followed (up to {@link maxJobs}). */
  examples: number;
  seed: number;
  /** At most this many billable requests; undefined: no cap (a mock). */
  maxPaid?: number;
  /** Each request's time limit. Default 30 000 ms. */
  timeoutMs?: number;
  /** How long a followed job may take to complete. Default 120 000 ms: a real job may wait in fal's queue. */
  jobTimeoutMs?: number;
  /**
   * How long a status stream may stay open after its COMPLETED frame, and may lag behind a status
   * that says COMPLETED. Default 5 000 ms: fal ends the stream after the COMPLETED frame (queue.yaml).
   */
  streamEndMs?: number;
}

/** Jobs followed at most, whatever `examples` says: each holds a stream open and polls its status, all at once. */
export const maxJobs = 20;

export interface CheckTally {
  passed: number;
  failed: number;
  /** The first failures, each with the request that caused it. */
  failures: string[];
}

export interface ContractReport {
  /** By operationId. */
  results: Partial<Record<string, Partial<Record<CheckName, CheckTally>>>>;
  /** Billable requests sent, and those left out by `maxPaid`. */
  paid: number;
  skipped: number;
  /** Requests sent by the coverage phase, by operation. */
  coverage: Partial<Record<string, number>>;
  /** Jobs followed, and how many of them through the URLs the submit's answer gave (the rest: the document's paths). */
  jobs: { followed: number; throughAnswerUrls: number };
}

/** What a request must get: accepted, refused, 401, 405; `observe`: only what every answer must be (an early result, a stream watched). */
export type Kind = "positive" | "negative" | "no-auth" | "wrong-method" | "observe";

export interface Probe {
  /** The operationId. */
  operation: string;
  kind: Kind;
  method: string;
  url: string;
  body?: string;
  headers?: Record<string, string>;
  auth: boolean;
  /** What it is, in a failure's message. */
  label: string;
}

const keptFailures = 5;

/** Counts a verdict of `check` on the answer to `probe`. */
export function tally(report: ContractReport, probe: Pick<Probe, "operation" | "method" | "url" | "label">, check: CheckName, verdict: Verdict) {
  const byCheck = (report.results[probe.operation] ??= {});
  const counts = (byCheck[check] ??= { passed: 0, failed: 0, failures: [] });
  if (verdict === undefined) counts.passed++;
  else {
    counts.failed++;
    if (counts.failures.length < keptFailures) counts.failures.push(`${probe.method} ${new URL(probe.url).pathname} (${probe.label}): ${verdict}`);
  }
}

// The upload's initiate call is not billed (an inference: fal documents no cost for it).
const isBillable = (probe: Probe, { run, submit }: ContractDocuments) => probe.method === "POST" && (probe.operation === run || probe.operation === submit);

/** Sends a probe (unless the paid cap stops it) and tallies every check of its answer; gives the answer when one came. */
export async function send(probe: Probe, options: ContractOptions, report: ContractReport): Promise<Answer | undefined> {
  const billable = isBillable(probe, options.documents);
  if (billable && options.maxPaid !== undefined && report.paid >= options.maxPaid) {
    report.skipped++;
    return undefined;
  }
  if (billable) report.paid++;
  const answer = await fetchAnswer(probe, options);
  if (answer.kind === "none") {
    tally(report, probe, "server_answered", answer.why);
    return undefined;
  }
  tally(report, probe, "server_answered", undefined);
  if (answer.kind === "too-large") {
    tally(report, probe, "response_size_within_limit", answer.why);
    return undefined;
  }
  tally(report, probe, "response_size_within_limit", undefined);
  await judge(probe, answer, report, options.documents);
  return answer;
}

/** Tallies every check of an answer to `probe`: what any answer must be, and what its kind of request requires. */
export async function judge(probe: Probe, answer: Answer, report: ContractReport, documents: ContractDocuments): Promise<void> {
  // A method the path does not have gets no declared answer: only that it is refused, and not with a 5xx, is checked.
  const all = await answerChecks(documents, probe.operation, answer);
  const verdicts = probe.kind === "wrong-method" ? all.filter(([check]) => check === "not_a_server_error") : all;
  const required = requestVerdict(documents, probe.operation, probe.kind, answer.status);
  if (required) verdicts.push(required);
  for (const [check, verdict] of verdicts) tally(report, probe, check, verdict);
}

type Fetched = (Answer & { kind: "answer" }) | { kind: "none"; why: string } | { kind: "too-large"; why: string };

/** The cap of an operation's answer: the client's own, so that a valid output of any size the client takes passes. */
const capOf = (operation: string, { run }: ContractDocuments) => (operation === run || operation === "getQueueResult" ? maxAnswerBytes.output : maxAnswerBytes.small);

async function fetchAnswer(probe: Probe, options: ContractOptions): Promise<Fetched> {
  const headers: Record<string, string> = { ...probe.headers, ...(probe.body ? { "Content-Type": "application/json" } : {}) };
  if (probe.auth) headers.Authorization = `Key ${options.key}`;
  const stop = new AbortController();
  try {
    // A redirect is judged as the answer it is, never followed with the key.
    const response = await fetch(probe.url, {
      method: probe.method,
      headers,
      body: probe.body,
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(options.timeoutMs ?? 30_000)]),
      redirect: "manual",
    });
    if (response.ok && response.body && isEventStream(response)) {
      // The job phase judges how a stream ends; here only its frames, up to COMPLETED, for a while at most.
      const watch = await watchStream(response.body, stop, { endMs: 0, readForMs: options.streamEndMs ?? 5_000 });
      return { kind: "answer", status: response.status, headers: response.headers, text: asEventStream(watch.frames) };
    }
    const text = await readBody(response, capOf(probe.operation, options.documents));
    return { kind: "answer", status: response.status, headers: response.headers, text };
  } catch (error) {
    if (error instanceof BodyReadError && error.tooLarge) return { kind: "too-large", why: error.message };
    return { kind: "none", why: `no answer: ${(error as Error).message}` };
  }
}

export const isEventStream = (response: Response) => /^text\/event-stream\b/i.test(response.headers.get("content-type") ?? "");

/** Frames written back as an event stream, for the schema check of each. */
export const asEventStream = (frames: string[]) => frames.map((data) => `data: ${data.replace(/\n/g, "\ndata: ")}\n\n`).join("");

/** How a watched status stream went. */
export interface StreamWatch {
  /** Each frame's data (the first 16 MiB of them). */
  frames: string[];
  /** A COMPLETED frame came. */
  completed: boolean;
  /**
   * `ended`: the server ended it; `open-after-completed`: still open `endMs` after its COMPLETED
   * frame; `no-completed`: no COMPLETED frame `endMs` after the status said COMPLETED;
   * `read-for`: read for `readForMs`, as asked; `time-limit`: the request's (or the caller's) time limit passed;
   * `broken`: the connection failed.
   */
  end: "ended" | "open-after-completed" | "no-completed" | "read-for" | "time-limit" | "broken";
  error?: string;
}

/**
 * Reads a status stream's frames until it ends or a bound cuts it (through `stop`, the request's
 * controller): `endMs` after its COMPLETED frame, `endMs` after `statusCompleted` settles with no
 * COMPLETED frame yet, or `readForMs` after it began.
 */
export async function watchStream(
  body: ReadableStream<Uint8Array>,
  stop: AbortController,
  options: { endMs: number; readForMs?: number; statusCompleted?: Promise<unknown> },
): Promise<StreamWatch> {
  const watch: StreamWatch = { frames: [], completed: false, end: "ended" };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  const cutAfter = (reason: StreamWatch["end"], ms: number) => {
    if (finished) return; // a status that completes after the stream ended sets no timer
    clearTimeout(timer);
    timer = setTimeout(() => stop.abort(reason), ms);
  };
  if (options.readForMs !== undefined) cutAfter("read-for", options.readForMs);
  options.statusCompleted?.then(
    () => watch.completed || cutAfter("no-completed", options.endMs),
    () => undefined,
  );
  let kept = 0;
  try {
    for await (const data of sseData(body, undefined, { maxEventLength: maxAnswerBytes.small })) {
      if (kept < 16 * 1024 * 1024) {
        watch.frames.push(data);
        kept += data.length;
      }
      if (!watch.completed && jobState(data) === "COMPLETED") {
        watch.completed = true;
        cutAfter("open-after-completed", options.endMs);
      }
    }
  } catch (error) {
    const reason: unknown = stop.signal.reason;
    const ours = ["open-after-completed", "no-completed", "read-for"] as const;
    if (stop.signal.aborted && ours.includes(reason as (typeof ours)[number])) watch.end = reason as (typeof ours)[number];
    else if (stop.signal.aborted || (error as Error).name === "TimeoutError") watch.end = "time-limit"; // the caller's own limit, or the request's
    else {
      watch.end = "broken";
      watch.error = (error as Error).message;
    }
  } finally {
    finished = true;
    clearTimeout(timer);
  }
  return watch;
}
