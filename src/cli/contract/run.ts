// A contract run against a server that claims to implement the spec, in Schemathesis' order:
// 1. coverage (./coverage.ts): every constraint of every operation's body, query and headers at
//    its boundaries and broken one at a time; deterministic, whatever `examples` says;
// 2. random (./cases.ts): `examples` valid and invalid bodies with parameters, seeded;
// 3. stateful (./jobs.ts): up to `examples` jobs (at most `maxJobs`) submitted and followed through
//    the URLs their answers give;
// 4. the job operations' own requests (logs, no key, a wrong method) on a followed job.
// Every answer is judged by the checks (./checks.ts). Billable requests (any POST to the sync call
// or the submit: fal may bill even one it refuses) are counted against `maxPaid`.
import fc from "fast-check";
import { endpointPath } from "../../core/endpoint.js";
import { invalidBody, validBody, type ObjectSchema } from "./cases.js";
import { checkNames, type CheckName } from "./checks.js";
import { coverageRequests, parametersOf, requiredParameters, type CoverageRequest } from "./coverage.js";
import type { ContractDocuments } from "./documents.js";
import { maxJobs, send, type ContractOptions, type ContractReport, type Probe } from "./exchange.js";
import { followJob, type JobUrls } from "./jobs.js";

export { maxJobs, type CheckTally, type ContractOptions, type ContractReport } from "./exchange.js";
export { contractDocuments, type ContractDocuments } from "./documents.js";

const exampleJobId = "8a1f4c2e-5b7d-4e0a-9c3b-2d6f1e8a7b90";
const jobOperations = ["getQueueStatus", "streamQueueStatus", "getQueueResult", "cancelQueueRequest"] as const;

export async function runContract(options: ContractOptions): Promise<ContractReport> {
  const report: ContractReport = { results: {}, paid: 0, skipped: 0, coverage: {}, jobs: { followed: 0, throughAnswerUrls: 0 } };
  const { documents } = options;
  // The operations that take a JSON body (the sync call, the submit, the storage upload's initiate).
  for (const [operation, body] of Object.entries(documents.operationBodies)) {
    const server = serverOf(operation, options);
    if (!server) continue; // no storage server given: its operation is left out (the table says which ran)
    const url = server + endpointPath(documents.endpointIds, documents.operationResponses[operation]!.path, options.endpointId);
    // A request with no key or a wrong method carries the required query, so that only the key or the method is wrong.
    const withRequired = withParameters(documents, operation, url, requiredParameters(documents, operation).query).url;
    for (const probe of coverageProbes(documents, operation, url, report)) await send(probe, options, report);
    for (const probe of randomProbes(operation, url, options)) await send(probe, options, report);
    for (const probe of refusalProbes(documents, operation, withRequired, JSON.stringify(body.example))) await send(probe, options, report);
  }
  const bodies = fc.sample(validBody(documents.inputSchema), { numRuns: Math.min(Math.max(options.examples, 1), maxJobs), seed: options.seed });
  const jobs = await Promise.all(bodies.map((body, i) => followJob(JSON.stringify(body), `job #${i}`, options, report)));
  const job = jobs.find((urls): urls is JobUrls => urls !== undefined);
  // At once: each only reads, and a stream that never ends costs its time limit once, not once per probe.
  await Promise.all(jobOperations.flatMap((operation) => jobOperationProbes(operation, job, options, report)).map((probe) => send(probe, options, report)));
  return report;
}

/** The server of an operation's document: fal.run's, the queue's or storage's role. */
function serverOf(operation: string, options: ContractOptions): string | undefined {
  const document = options.documents.operationResponses[operation]?.document;
  return document === "sync" ? options.syncUrl : document === "queue" ? options.queueUrl : options.storageUrl;
}

/** A coverage request as a probe of `operation` at `url`, counted in the report's coverage figures by the caller. */
function coverageProbe(documents: ContractDocuments, operation: string, url: string, request: CoverageRequest): Probe {
  const withQuery = new URL(url);
  for (const [name, value] of Object.entries(request.query)) withQuery.searchParams.set(name, value);
  return {
    operation,
    kind: request.kind,
    method: documents.operationResponses[operation]!.method,
    url: withQuery.href,
    body: request.body,
    headers: request.headers,
    auth: true,
    label: `coverage: ${request.label}`,
  };
}

/** The operation's coverage requests as probes, counted in the report. */
function coverageProbes(documents: ContractDocuments, operation: string, url: string, report: ContractReport, only?: CoverageRequest["kind"]): Probe[] {
  const requests = coverageRequests(documents, operation).filter((request) => !only || request.kind === only);
  report.coverage[operation] = requests.length;
  return requests.map((request) => coverageProbe(documents, operation, url, request));
}

/** The operation's query and header parameters as one object schema (sent as text), for random sets of them. */
function parameterSchema(documents: ContractDocuments, operation: string): ObjectSchema {
  const parameters = parametersOf(documents, operation);
  return {
    properties: Object.fromEntries(parameters.map((p) => [p.name, p.schema])),
    required: parameters.filter((p) => p.required).map((p) => p.name),
    onTheWire: true,
  };
}

/** Random parameters put on a probe: query ones into its URL, header ones into its headers. */
function withParameters(documents: ContractDocuments, operation: string, url: string, parameters: Record<string, unknown>): Pick<Probe, "url" | "headers"> {
  const places = Object.fromEntries((documents.operationParameters[operation] ?? []).map((p) => [p.name, p.in]));
  const withQuery = new URL(url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters)) {
    if (places[name] === "query") withQuery.searchParams.set(name, String(value));
    else headers[name] = String(value);
  }
  return { url: withQuery.href, headers };
}

/**
 * `examples` valid requests (a valid body, valid parameters) and `examples` invalid ones (one
 * constraint broken, in the body or, every other time, in the parameters), seeded.
 */
function randomProbes(operation: string, url: string, options: ContractOptions): Probe[] {
  const { documents } = options;
  const sample = <T>(arbitrary: fc.Arbitrary<T>) => fc.sample(arbitrary, { numRuns: options.examples, seed: options.seed });
  const parameters = parameterSchema(documents, operation);
  const schema = documents.operationBodies[operation]!.schema as ObjectSchema;
  const method = "POST";
  const valid = sample(fc.tuple(validBody(schema), validBody(parameters))).map(([body, params], i): Probe => ({
    operation,
    kind: "positive",
    method,
    ...withParameters(documents, operation, url, params),
    body: JSON.stringify(body),
    auth: true,
    label: `valid request #${i}`,
  }));
  const invalid = sample(fc.tuple(invalidBody(schema), validBody(schema), validBody(parameters), invalidBody(parameters))).map(([broken, body, params, brokenParameters], i): Probe => {
    const inParameters = i % 2 === 1;
    return {
      operation,
      kind: "negative",
      method,
      ...withParameters(documents, operation, url, inParameters ? brokenParameters.body : params),
      body: JSON.stringify(inParameters ? body : broken.body),
      auth: true,
      label: inParameters ? `parameter ${brokenParameters.mutation}` : broken.mutation,
    };
  });
  return [...valid, ...invalid];
}

/** A request with no key and one with a method the path does not have. */
function refusalProbes(documents: ContractDocuments, operation: string, url: string, body?: string): Probe[] {
  const method = documents.operationResponses[operation]!.method;
  const wrong = method === "PUT" ? "GET" : "DELETE";
  return [
    { operation, kind: "no-auth", method, url, body, auth: false, label: "no Authorization" },
    { operation, kind: "wrong-method", method: wrong, url, auth: true, label: wrong },
  ];
}

/** The requests of a job operation on a followed job (the document's example id when none was followed): its parameters' coverage, no key, a wrong method. */
function jobOperationProbes(operation: (typeof jobOperations)[number], job: JobUrls | undefined, options: ContractOptions, report: ContractReport): Probe[] {
  const url = job
    ? { getQueueStatus: job.status, streamQueueStatus: job.stream, getQueueResult: job.result, cancelQueueRequest: job.cancel }[operation]
    : options.queueUrl + endpointPath(options.documents.endpointIds, options.documents.operationResponses[operation]!.path, options.endpointId).replace("{request_id}", exampleJobId);
  // With no job of its own, a status or stream of the example id may rightly be 404: only refusals are sent.
  return [...coverageProbes(options.documents, operation, url, report, job ? undefined : "negative"), ...refusalProbes(options.documents, operation, url)];
}

/** Every check that ran, in the order of `checkNames`. */
export function checksRun(report: ContractReport): CheckName[] {
  const ran = new Set(Object.values(report.results).flatMap((byCheck) => Object.keys(byCheck ?? {})));
  return checkNames.filter((check) => ran.has(check));
}
