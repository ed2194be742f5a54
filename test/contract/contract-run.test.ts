// The contract run (flux-i2i contract's engine) against the Prism mocks, which implement the spec
// and pass every check, and against a local server that breaks the spec in one way per check,
// which each check catches.
import type { IncomingMessage, ServerResponse } from "node:http";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { runContractCommand } from "../../src/cli/contract.js";
import { endpointIds, operationParameters } from "../../generated/spec.js";
import { validateImageToImageParameters } from "../../generated/validators.js";
import { checkNames } from "../../src/cli/contract/checks.js";
import { checksRun, contractDocuments, runContract, type ContractReport } from "../../src/cli/contract/run.js";
import { imageToImage } from "../../generated/endpoints.js";
import { checkInput } from "../../src/image-to-image.js";
import { startContractServer } from "../support/contract-server.js";
import { startLocalServer, type LocalServer } from "../support/local-server.js";
import { firstExample } from "../support/spec.js";

const prismUrl = inject("prismUrl");
const prismQueueUrl = inject("prismQueueUrl");
const prismStorageUrl = inject("prismStorageUrl");
const base = { documents: contractDocuments(imageToImage), key: "contract-test", examples: 8, seed: 7 };

const failedChecks = (report: ContractReport) =>
  Object.entries(report.results).flatMap(([operation, byCheck]) =>
    Object.entries(byCheck ?? {}).filter(([, tally]) => tally!.failed).map(([check]) => `${check} ${operation}`),
  );

let server: LocalServer | undefined;
afterEach(() => server?.close());

describe("runContract", () => {
  it("against the mocks, which implement the spec: every check runs, and passes", async () => {
    const report = await runContract({ ...base, syncUrl: prismUrl, queueUrl: prismQueueUrl, storageUrl: prismStorageUrl });
    expect(failedChecks(report)).toEqual([]);
    expect(Object.keys(report.results).sort()).toEqual(
      ["cancelQueueRequest", "getQueueResult", "getQueueStatus", "imageToImage", "initiateUpload", "streamQueueStatus", "submitImageToImage"].sort(),
    );
    expect(report.coverage.initiateUpload).toBeGreaterThan(5);
    // Every check but a job's own runs on the sync call; a job's own ran on the jobs followed.
    const jobChecks = ["status_code_agrees_with_status", "job_available_after_submit", "result_not_before_completion", "result_after_completion", "stream_reaches_completed", "stream_ends_after_completed", "job_completes"];
    expect(Object.keys(report.results.imageToImage!).sort()).toEqual(checkNames.filter((check) => !jobChecks.includes(check)).sort());
    expect(checksRun(report)).toEqual(checkNames.filter((check) => check !== "result_not_before_completion")); // Prism's jobs have always completed
    expect(report.jobs).toEqual({ followed: base.examples, throughAnswerUrls: 0 }); // Prism's answers name queue.fal.run, where the key is not sent
    expect(report.coverage.submitImageToImage).toBeGreaterThan(100);
  });

  /** A fal.run that answers every request with `answer`: a broken implementation of the sync document. */
  async function syncServerAnswering(answer: (res: ServerResponse, auth: boolean, method: string, body: string, req: IncomingMessage) => void) {
    // Its own server, closed by itself: these tests run at once, and an afterEach would close the others'.
    // The queue's part of each run goes to our honest local server, four times quicker than Prism.
    const sync = await startLocalServer((req, res, body) => answer(res, Boolean(req.headers.authorization), req.method!, body, req));
    const queue = await startContractServer();
    try {
      const report = await runContract({ ...base, syncUrl: sync.url, queueUrl: queue.queueUrl, examples: 4 });
      expect(failedChecks(report).filter((failure) => !failure.endsWith(" imageToImage"))).toEqual([]);
      return failedChecks(report).filter((failure) => failure.endsWith(" imageToImage"));
    } finally {
      await Promise.all([sync.close(), queue.close()]);
    }
  }
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));
  const output = firstExample(200);
  /** The headers the sync call takes, read as their schemas type them. */
  const headerParameters = (req: IncomingMessage) =>
    Object.fromEntries(
      operationParameters.imageToImage.flatMap(({ name, schema }) => {
        const text = req.headers[name.toLowerCase()];
        return typeof text === "string" ? [[name, schema.type === "number" ? Number(text) : text]] : [];
      }),
    );
  /** The spec's answers: 200 for a valid body and headers, 422 for an invalid one, 401 with no key, 405 for another method. */
  const conforming = (res: ServerResponse, auth: boolean, method: string, body: string, req: IncomingMessage) => {
    if (method !== "POST") return res.writeHead(405).end();
    if (!auth) return json(res, 401, { detail: "No user found for Key ID and Secret" });
    // The spec's own rules decide, as a correct implementation's would.
    const valid = checkInput(JSON.parse(body)).length === 0 && validateImageToImageParameters(headerParameters(req));
    return valid ? json(res, 200, output) : json(res, 422, { detail: [{ loc: ["body"], msg: "bad", type: "x" }] });
  };

  it.each([
    ["not_a_server_error", (res: ServerResponse) => json(res, 500, { detail: "boom" })],
    ["status_code_conformance", (res: ServerResponse) => json(res, 418, { detail: "a teapot" })],
    ["content_type_conformance", (res: ServerResponse) => res.writeHead(200, { "Content-Type": "text/html" }).end("<html>ok</html>")],
    ["response_headers_conformance", (res: ServerResponse) => json(res, 429, { detail: "slow down" }, { "X-Fal-Retryable": "maybe" })],
    ["response_schema_conformance", (res: ServerResponse) => json(res, 200, { ...(output as object), images: "not a list" })],
    ["positive_data_acceptance", (res: ServerResponse) => json(res, 422, { detail: [{ loc: ["body"], msg: "no", type: "x" }] })],
    ["negative_data_rejection", (res: ServerResponse) => json(res, 200, output)],
    ["missing_auth", (res: ServerResponse, auth: boolean, method: string, body: string, req: IncomingMessage) => (auth ? conforming(res, auth, method, body, req) : json(res, 200, output))],
    ["unsupported_method", (res: ServerResponse, auth: boolean, method: string, body: string, req: IncomingMessage) => (method === "POST" ? conforming(res, auth, method, body, req) : json(res, 200, output))],
    // At once: each has servers of its own.
  ] as const)("a server that breaks %s is caught by it", { concurrent: true }, async (check, answer) => {
    expect(await syncServerAnswering(answer)).toContain(`${check} imageToImage`);
  });

  it("a server that follows the spec passes, to show the breakages above are each the cause", async () => {
    expect(await syncServerAnswering(conforming)).toEqual([]);
  });

  it("a status stream with a frame off the spec (x-event-data's QueueStatus) fails response_schema_conformance", async () => {
    server = await startLocalServer((req, res) => {
      if (req.url!.endsWith("/status/stream")) {
        res.writeHead(200, { "Content-Type": "text/event-stream" }).end('data: {"status":"IN_QUEUE"}\n\ndata: {"status":"DONE"}\n\n');
      } else json(res, 404, { detail: "Request not found" });
    });
    const report = await runContract({ ...base, syncUrl: prismUrl, queueUrl: server.url, examples: 2 });
    expect(report.results.streamQueueStatus?.response_schema_conformance?.failures[0]).toMatch(/a frame: the body breaks QueueStatus/);
  });

  it("endpointId: the alias fal's docs page prints: every request goes to that id's paths, which a server of that id passes and one of the other id fails", async () => {
    const alias = endpointIds[1];
    const [underAlias, underDocumentsId] = await Promise.all([startContractServer({ endpointId: alias }), startContractServer()]);
    try {
      const run = (server: typeof underAlias) => runContract({ ...base, examples: 1, syncUrl: server.syncUrl, queueUrl: server.queueUrl, endpointId: alias });
      expect(failedChecks(await run(underAlias))).toEqual([]);
      expect(failedChecks(await run(underDocumentsId))).toContain("positive_data_acceptance imageToImage");
    } finally {
      await Promise.all([underAlias.close(), underDocumentsId.close()]);
    }
  });

  it("maxPaid caps the billable requests: POSTs to the sync call and the submit beyond it are not sent", async () => {
    const report = await runContract({ ...base, syncUrl: prismUrl, queueUrl: prismQueueUrl, maxPaid: 5 });
    expect(report.paid).toBe(5);
    expect(report.skipped).toBeGreaterThan(0);
  });
});

describe("flux-i2i contract --endpoint-id", () => {
  it("an id the spec does not list: exit 2 before anything is sent, naming the ids it does", async () => {
    const printed: string[] = [];
    const error = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void printed.push(args.join(" ")));
    try {
      expect(await runContractCommand(["--endpoint-id", "fal-ai/flux/schnell", "--target", "http://127.0.0.1:9"], imageToImage)).toBe(2);
    } finally {
      error.mockRestore();
    }
    expect(printed.join("\n")).toContain(`--endpoint-id: must be one of ${endpointIds.join(", ")}`);
  });
});

describe("flux-i2i contract --help", () => {
  it("lists every check with what it asks, so a failure's check name can be looked up", async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args.join(" ")));
    try {
      expect(await runContractCommand(["--help"], imageToImage)).toBe(0);
    } finally {
      log.mockRestore();
    }
    for (const check of checkNames) expect(printed.join("\n")).toMatch(new RegExp(`^  ${check} +\\S`, "m"));
  });
});

describe("flux-i2i contract against a server that echoes the key", () => {
  it("prints no form of it, and writes none into the JUnit file CI keeps", async () => {
    const key = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f:0123456789abcdef0123456789abcdef";
    const forms = [key, key.slice(37), Buffer.from(`Key ${key}`).toString("base64"), Buffer.from(key).toString("hex")];
    // A 429 whose body is not JSON (quoted by the schema check) and whose X-Fal-Retryable is off its enum (quoted by the header check).
    server = await startLocalServer((req, res) => {
      const echoed = String(req.headers.authorization ?? "").replace(/^Key /, "");
      const retryable = req.method === "POST" ? Buffer.from(`Key ${echoed}`).toString("base64") : Buffer.from(echoed).toString("hex");
      res.writeHead(429, { "Content-Type": "application/json", "X-Fal-Retryable": retryable }).end(`${echoed} is not a key we know`);
    });
    const dir = await mkdtemp(join(tmpdir(), "flux-contract-"));
    const printed: string[] = [];
    vi.stubEnv("FAL_KEY", key);
    const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args.join(" ")));
    const error = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void printed.push(args.join(" ")));
    try {
      const code = await runContractCommand(["--target", server.url, "--examples", "2", "--seed", "1", "--junit", join(dir, "junit.xml")], imageToImage);
      expect(code).toBe(1);
      const junit = await readFile(join(dir, "junit.xml"), "utf8");
      expect(server.requests.some((request) => request.headers.authorization === `Key ${key}`)).toBe(true);
      expect(`${printed.join("\n")}${junit}`).toContain("[redacted]"); // the failures quote the answers, cleaned
      for (const form of forms) expect(`${printed.join("\n")}\n${junit}`.toLowerCase()).not.toContain(form.toLowerCase());
    } finally {
      log.mockRestore();
      error.mockRestore();
      vi.unstubAllEnvs();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
