// A contract run against a server that claims to implement the spec: for each operation, generated
// valid and invalid requests (seeded), a request with no key and one with a method the path does
// not have; every answer judged by the checks (./checks.ts). Billable requests (any POST to the
// sync call or the submit: fal may bill even one it refuses) are counted against `maxPaid`.
import fc from "fast-check";
import { imageToImageExamples, operationResponses } from "../../../generated/spec.js";
import { validateRequestId } from "../../../generated/validators.js";
import { BodyReadError, readBody } from "../../read-body.js";
import { invalidBody, validBody } from "./cases.js";
import type { OperationId } from "../../types.js";
import { answerChecks, checkNames, requestVerdict, type Answer, type CheckName } from "./checks.js";

export interface ContractOptions {
  /** The sync document's server (fal.run's role) and the queue's. */
  syncUrl: string;
  queueUrl: string;
  /** Sent as `Authorization: Key ...` (never printed). */
  key: string;
  /** Valid and invalid bodies an operation that takes one gets, each. */
  examples: number;
  seed: number;
  /** At most this many billable requests; undefined: no cap (a mock). */
  maxPaid?: number;
  /** Each request's time limit; a status stream is read until then at most. Default 30 000 ms. */
  timeoutMs?: number;
}

export interface CheckTally {
  passed: number;
  failed: number;
  /** The first failures, each with the request that caused it. */
  failures: string[];
}

export interface ContractReport {
  results: Partial<Record<OperationId, Partial<Record<CheckName, CheckTally>>>>;
  /** Billable requests sent, and those left out by `maxPaid`. */
  paid: number;
  skipped: number;
}

type Kind = "positive" | "negative" | "no-auth" | "wrong-method";
interface Probe {
  operation: OperationId;
  kind: Kind;
  method: string;
  url: string;
  body?: string;
  auth: boolean;
  /** What it is, in a failure's message. */
  label: string;
}

const exampleJobId = "8a1f4c2e-5b7d-4e0a-9c3b-2d6f1e8a7b90";
const keptFailures = 5;

export async function runContract(options: ContractOptions): Promise<ContractReport> {
  const report: ContractReport = { results: {}, paid: 0, skipped: 0 };
  const jobIds: string[] = [];
  for (const operation of ["imageToImage", "submitImageToImage"] as const) {
    for (const probe of bodyProbes(operation, options)) {
      const answer = await send(probe, options, report);
      if (answer && operation === "submitImageToImage" && probe.kind === "positive") collectJobId(answer, jobIds);
    }
  }
  const ids = jobIds.length ? jobIds.slice(0, 3) : [exampleJobId];
  for (const probe of jobProbes(ids, options)) await send(probe, options, report);
  return report;
}

/** The requests of an operation that takes a body: generated valid and invalid bodies, no key, a wrong method. */
function bodyProbes(operation: "imageToImage" | "submitImageToImage", options: ContractOptions): Probe[] {
  const base = operation === "imageToImage" ? options.syncUrl : options.queueUrl;
  const url = base + operationResponses[operation].path;
  const sample = <T>(arbitrary: fc.Arbitrary<T>) => fc.sample(arbitrary, { numRuns: options.examples, seed: options.seed });
  return [
    ...sample(validBody()).map((body, i) => ({ operation, kind: "positive" as const, method: "POST", url, body: JSON.stringify(body), auth: true, label: `valid body #${i}` })),
    ...sample(invalidBody()).map(({ body, mutation }) => ({ operation, kind: "negative" as const, method: "POST", url, body: JSON.stringify(body), auth: true, label: mutation })),
    { operation, kind: "no-auth", method: "POST", url, body: JSON.stringify(imageToImageExamples.minimal), auth: false, label: "no Authorization" },
    { operation, kind: "wrong-method", method: "DELETE", url, auth: true, label: "DELETE" },
  ];
}

/** The requests about jobs: status (with and without logs), its stream, result, cancel; each also with no key and a wrong method. */
function jobProbes(ids: string[], options: ContractOptions): Probe[] {
  const probes: Probe[] = [];
  const urlOf = (operation: OperationId, id: string) => options.queueUrl + operationResponses[operation].path.replace("{request_id}", encodeURIComponent(id));
  for (const operation of ["getQueueStatus", "streamQueueStatus", "getQueueResult", "cancelQueueRequest"] as const) {
    const method = operationResponses[operation].method;
    for (const id of ids) probes.push({ operation, kind: "positive", method, url: urlOf(operation, id), auth: true, label: `job ${id}` });
    if (operation === "getQueueStatus") {
      probes.push({ operation, kind: "positive", method, url: `${urlOf(operation, ids[0]!)}?logs=1`, auth: true, label: "logs=1" });
      probes.push({ operation, kind: "negative", method, url: `${urlOf(operation, ids[0]!)}?logs=yes`, auth: true, label: "logs=yes" });
    }
    probes.push({ operation, kind: "no-auth", method, url: urlOf(operation, ids[0]!), auth: false, label: "no Authorization" });
    probes.push({ operation, kind: "wrong-method", method: method === "GET" ? "DELETE" : "GET", url: urlOf(operation, ids[0]!), auth: true, label: "a wrong method" });
  }
  return probes;
}

/** Sends a probe (unless the paid cap stops it) and tallies every check of its answer. */
async function send(probe: Probe, options: ContractOptions, report: ContractReport): Promise<Answer | undefined> {
  const billable = probe.method === "POST" && (probe.operation === "imageToImage" || probe.operation === "submitImageToImage");
  if (billable && options.maxPaid !== undefined && report.paid >= options.maxPaid) {
    report.skipped++;
    return undefined;
  }
  if (billable) report.paid++;
  const answer = await fetchAnswer(probe, options.key, options.timeoutMs ?? 30_000);
  let verdicts: [CheckName, string | undefined][];
  if (typeof answer === "string") verdicts = [["not_a_server_error", `no answer: ${answer}`]];
  else {
    // A method the path does not have gets no declared answer: only that it is refused, and not with a 5xx, is checked.
    const all = await answerChecks(probe.operation, answer);
    verdicts = probe.kind === "wrong-method" ? all.filter(([check]) => check === "not_a_server_error") : all;
    const required = requestVerdict(probe.kind, answer.status);
    if (required) verdicts.push(required);
  }
  for (const [check, verdict] of verdicts) tally(report, probe, check, verdict);
  return typeof answer === "string" ? undefined : answer;
}

async function fetchAnswer(probe: Probe, key: string, timeoutMs: number): Promise<Answer | string> {
  const headers: Record<string, string> = probe.body ? { "Content-Type": "application/json" } : {};
  if (probe.auth) headers.Authorization = `Key ${key}`;
  try {
    // A redirect is judged as the answer it is, never followed with the key.
    const response = await fetch(probe.url, { method: probe.method, headers, body: probe.body, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    const text = await readBody(response, 16 * 1024 * 1024).catch((error: unknown) => {
      // A status stream still open at the time limit: judge the frames that came.
      if (error instanceof BodyReadError && !error.tooLarge) return error.partial;
      throw error;
    });
    return { status: response.status, headers: response.headers, text };
  } catch (error) {
    return (error as Error).message;
  }
}

function tally(report: ContractReport, probe: Probe, check: CheckName, verdict: string | undefined) {
  const byCheck = (report.results[probe.operation] ??= {});
  const counts = (byCheck[check] ??= { passed: 0, failed: 0, failures: [] });
  if (verdict === undefined) counts.passed++;
  else {
    counts.failed++;
    if (counts.failures.length < keptFailures) counts.failures.push(`${probe.method} ${new URL(probe.url).pathname} (${probe.label}): ${verdict}`);
  }
}

function collectJobId(answer: Answer, ids: string[]) {
  try {
    const id = (JSON.parse(answer.text) as { request_id?: unknown }).request_id;
    if (validateRequestId(id)) ids.push(id);
  } catch {
    // not JSON: the schema check says so
  }
}

/** Every check that ran, in the order of `checkNames`. */
export function checksRun(report: ContractReport): CheckName[] {
  const ran = new Set(Object.values(report.results).flatMap((byCheck) => Object.keys(byCheck ?? {})));
  return checkNames.filter((check) => ran.has(check));
}
