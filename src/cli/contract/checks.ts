// The contract checks, Schemathesis' set: each answer a server gives is judged against what the
// spec declares for its operation (generated/spec.ts `operationResponses`), and each kind of
// request against what it must get (valid data accepted, invalid refused, no key refused, a
// method the path does not have refused).
import { operationResponses } from "../../../generated/spec.js";
import * as validators from "../../../generated/validators.js";
import { sseData } from "../../sse.js";
import type { OperationId } from "../../types.js";

export const checkNames = [
  "not_a_server_error",
  "status_code_conformance",
  "content_type_conformance",
  "response_headers_conformance",
  "response_schema_conformance",
  "positive_data_acceptance",
  "negative_data_rejection",
  "missing_auth",
  "unsupported_method",
] as const;
export type CheckName = (typeof checkNames)[number];

/** An answer as the checks need it: its status, headers and body text. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** One check's verdict on one answer: undefined when it passed, else why not. */
export type Verdict = string | undefined;

type Responses = Readonly<Record<string, { content: Readonly<Record<string, string | null>>; headers: Readonly<Record<string, readonly string[] | null>> }>>;

function declared(operation: OperationId, status: number) {
  return (operationResponses[operation].responses as Responses)[String(status)];
}

/** The checks every answer gets, whatever was sent. */
export async function answerChecks(operation: OperationId, answer: Answer): Promise<[CheckName, Verdict][]> {
  const response = declared(operation, answer.status);
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
    ["response_schema_conformance", response && types.includes(mediaType) ? await schemaVerdict(response.content[mediaType] ?? null, mediaType, answer.text) : undefined],
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
async function schemaVerdict(title: string | null, mediaType: string, text: string): Promise<Verdict> {
  if (title?.startsWith("events:") && mediaType === "text/event-stream") {
    for await (const data of sseData(new Blob([text]).stream())) {
      const verdict = jsonVerdict(title.slice("events:".length), data);
      if (verdict) return `a frame: ${verdict}`;
    }
    return undefined;
  }
  return title ? jsonVerdict(title, text) : undefined;
}

function jsonVerdict(title: string, text: string): Verdict {
  const validate = (validators as Record<string, unknown>)[`validate${title}`] as ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string; keyword: string }[] | null };
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

/** What the kind of request sent requires of its answer's status. */
export function requestVerdict(kind: "positive" | "negative" | "no-auth" | "wrong-method", status: number): [CheckName, Verdict] | undefined {
  if (kind === "positive") return ["positive_data_acceptance", status >= 200 && status < 300 ? undefined : `valid data got ${status}`];
  if (kind === "negative") return ["negative_data_rejection", status >= 400 && status < 500 ? undefined : `invalid data got ${status}`];
  if (kind === "no-auth") return ["missing_auth", status === 401 ? undefined : `a request with no key got ${status}, not 401`];
  return ["unsupported_method", status === 405 || status === 404 ? undefined : `a method the path does not have got ${status}, not 405`];
}
