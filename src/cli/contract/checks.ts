// The contract checks, Schemathesis' set: each answer a server gives is judged against what the
// spec declares for its operation (the documents' `operationResponses`), and each kind of
// request against what it must get (valid data accepted, invalid refused, no key refused, a
// method the path does not have refused).
import { sseData } from "../../core/sse.js";
import type { ContractDocuments } from "./documents.js";

export const checkNames = [
  "server_answered",
  "response_size_within_limit",
  "not_a_server_error",
  "status_code_conformance",
  "content_type_conformance",
  "response_headers_conformance",
  "response_schema_conformance",
  "positive_data_acceptance",
  "negative_data_rejection",
  "missing_auth",
  "unsupported_method",
  "status_code_agrees_with_status",
  "job_available_after_submit",
  "result_not_before_completion",
  "result_after_completion",
  "stream_reaches_completed",
  "stream_ends_after_completed",
  "job_completes",
] as const;
export type CheckName = (typeof checkNames)[number];

/** What each check asks of an answer, for `flux-i2i contract --help`. */
export const checkQuestions: Record<CheckName, string> = {
  server_answered: "an answer came, before the request's time limit",
  response_size_within_limit: "the body fits the client's cap for the operation (128 MiB for an output, 8 MiB otherwise)",
  not_a_server_error: "the status is not a 5xx",
  status_code_conformance: "the status is one the spec declares for the operation",
  content_type_conformance: "the content type is one the spec declares for the status",
  response_headers_conformance: "each declared header with a set of values has one of them",
  response_schema_conformance: "the body (each frame of a stream) matches the declared schema",
  positive_data_acceptance: "a valid request gets a 2xx, or an answer the spec declares an outcome (x-outcome)",
  negative_data_rejection: "a request with one constraint broken gets a 4xx",
  missing_auth: "a request with no key gets 401",
  unsupported_method: "a method the path does not have gets 405 or 404",
  status_code_agrees_with_status: "a status answers 202 while IN_QUEUE or IN_PROGRESS and 200 when COMPLETED",
  job_available_after_submit: "a job the submit accepted is known to its status URL",
  result_not_before_completion: "no result is served while the status says the job has not completed",
  result_after_completion: "a job COMPLETED without error serves its result",
  stream_reaches_completed: "the status stream sends COMPLETED (no later than the status says so)",
  stream_ends_after_completed: "the status stream ends soon after its COMPLETED frame",
  job_completes: "a submitted job completes within the job time limit",
};

/** An answer as the checks need it: its status, headers and body text. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** One check's verdict on one answer: undefined when it passed, else why not. */
export type Verdict = string | undefined;

type Responses = Readonly<Record<string, { content: Readonly<Record<string, string | null>>; headers: Readonly<Record<string, readonly string[] | null>> }>>;

function declared(documents: ContractDocuments, operation: string, status: number) {
  return (documents.operationResponses[operation]?.responses as Responses | undefined)?.[String(status)];
}

/** The checks every answer gets, whatever was sent. */
export async function answerChecks(documents: ContractDocuments, operation: string, answer: Answer): Promise<[CheckName, Verdict][]> {
  const response = declared(documents, operation, answer.status);
  const mediaType = (answer.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const types = Object.keys(response?.content ?? {});
  return [
    ["not_a_server_error", answer.status >= 500 ? `answered ${answer.status}` : undefined],
    ["status_code_conformance", response ? undefined : `${answer.status} is not a status the spec declares for ${operation}`],
    [
      "content_type_conformance",
      !response || types.length === 0 || types.includes(mediaType) ? undefined : `${answer.status} came as ${mediaType || "no content type"}, the spec says ${types.join(" or ")}`,
    ],
    ["response_headers_conformance", response ? headerVerdict(response.headers, answer.headers) : undefined],
    ["response_schema_conformance", response && types.includes(mediaType) ? await schemaVerdict(documents, response.content[mediaType] ?? null, mediaType, answer.text) : undefined],
    ...(operation === "getQueueStatus" ? [["status_code_agrees_with_status", statusAgreement(answer)] as [CheckName, Verdict]] : []),
  ];
}

/** A declared header with a fixed set of values that came with another. */
function headerVerdict(declaredHeaders: Readonly<Record<string, readonly string[] | null>>, headers: Headers): Verdict {
  for (const [name, allowed] of Object.entries(declaredHeaders)) {
    const value = headers.get(name);
    if (value !== null && allowed && !allowed.includes(value)) return `header ${name}: ${JSON.stringify(value)} is not one of ${allowed.join(", ")}`;
  }
  return undefined;
}

/** The body against the declared schema; an event stream's frames (`events:TITLE`, the spec's `x-event-data`) each against theirs. */
async function schemaVerdict(documents: ContractDocuments, title: string | null, mediaType: string, text: string): Promise<Verdict> {
  if (title?.startsWith("events:") && mediaType === "text/event-stream") {
    for await (const data of sseData(new Blob([text]).stream())) {
      const verdict = jsonVerdict(documents, title.slice("events:".length), data);
      if (verdict) return `a frame: ${verdict}`;
    }
    return undefined;
  }
  return title ? jsonVerdict(documents, title, text) : undefined;
}

function jsonVerdict(documents: ContractDocuments, title: string, text: string): Verdict {
  const validate = documents.validators[`validate${title}`] as ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string; keyword: string }[] | null };
  if (typeof validate !== "function") return undefined; // a schema the package ships no validator for
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `the body is not JSON: ${JSON.stringify(text.slice(0, 80))}`;
  }
  if (validate(body)) return undefined;
  const first = validate.errors?.[0];
  return `the body breaks ${title}: ${first ? `${first.instancePath || "(body)"} ${first.keyword}` : "a rule"}`;
}

/** The statuses the spec marks as outcomes of the operation (`x-outcome`): answers, not failures. */
function isOutcome(documents: ContractDocuments, operation: string, status: number): boolean {
  return (declared(documents, operation, status) as { outcome?: boolean } | undefined)?.outcome === true;
}

/** What the kind of request sent requires of its answer's status. */
export function requestVerdict(documents: ContractDocuments, operation: string, kind: "positive" | "negative" | "no-auth" | "wrong-method" | "observe", status: number): [CheckName, Verdict] | undefined {
  if (kind === "observe") return undefined;
  if (kind === "positive") {
    const accepted = (status >= 200 && status < 300) || isOutcome(documents, operation, status);
    return ["positive_data_acceptance", accepted ? undefined : `valid data got ${status}`];
  }
  if (kind === "negative") return ["negative_data_rejection", status >= 400 && status < 500 ? undefined : `invalid data got ${status}`];
  if (kind === "no-auth") return ["missing_auth", status === 401 ? undefined : `a request with no key got ${status}, not 401`];
  return ["unsupported_method", status === 405 || status === 404 ? undefined : `a method the path does not have got ${status}, not 405`];
}

/** The job state a status answer's body names, if it names one. */
export function jobState(text: string): string | undefined {
  try {
    const state = (JSON.parse(text) as { status?: unknown } | null)?.status;
    return typeof state === "string" ? state : undefined;
  } catch {
    return undefined;
  }
}

/** A status answer whose code and body disagree: fal answers 202 while the job waits or runs, 200 once it has completed (queue.yaml). */
function statusAgreement(answer: Answer): Verdict {
  if (answer.status !== 200 && answer.status !== 202) return undefined;
  const state = jobState(answer.text);
  if (answer.status === 202 && state === "COMPLETED") return "202 with a COMPLETED status: 200 says a job has completed";
  if (answer.status === 200 && (state === "IN_QUEUE" || state === "IN_PROGRESS")) return `200 while ${state}: 202 says a job has not completed`;
  return undefined;
}
