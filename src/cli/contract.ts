// flux-i2i contract: the contract checks against a server that claims to implement the spec (the
// mocks by default, fal itself with --live and a cap on paid calls), a table of checks by
// operation, JUnit XML for CI, exit 1 on any failure.
import { writeFile } from "node:fs/promises";
import { defaultBaseUrl, defaultQueueUrl, defaultStorageUrl, documentFiles } from "../../generated/spec.js";
import { assertSafeTransport, resolveCredentials } from "../core/credentials.js";
import { ExtraMissingError, specPath, startPrismMock, type PrismMock } from "../testing/mock.js";
import { redact } from "../core/redaction.js";
import { checkNames, checkQuestions } from "./contract/checks.js";
import { toJunit } from "./contract/junit.js";
import { parseFlags } from "./parse-flags.js";
import { checksRun, contractDocuments, maxJobs, runContract, type ContractReport } from "./contract/run.js";
import type { DocumentTables } from "./contract/documents.js";
import type { Endpoint } from "../core/types.js";
import { terminalSafe } from "./terminal-text.js";

/** The command's usage; `ids` are the endpoint's (the documents' id, then its aliases). */
const usageOf = (ids: readonly string[]) => `Usage: flux-i2i contract [--target URL] [--queue-target URL] [--storage-target URL] [--examples N] [--seed S] [--junit FILE]
       flux-i2i contract --live --max-paid N [--examples N] [--seed S] [--junit FILE]

Runs the contract checks of the spec against a server, in three phases:
  coverage  every constraint of every operation's body, query and headers at each boundary, and
            broken one at a time (the same requests at any --examples)
  random    N valid and N invalid generated requests per operation that takes a body (seeded)
  jobs      N jobs (at most 20) submitted and followed through the URLs their answers give:
            status, result before and after completion, the status stream to its end, cancel
and, on each operation, a request with no key and one with a method the path does not have. Every
answer is checked for a server error, a status, a content type, headers and a body the spec
declares; a job's answers also for agreeing with its state. Without --target, against the
package's own Prism mocks. Exit 0 when every check passed, 1 when one failed, 2 on bad usage.

  --target URL        the sync document's server (fal.run's role); FAL_KEY, when set, is sent to it
                      (https or this machine only)
  --queue-target URL  the queue document's server (queue.fal.run's role); default: --target
  --storage-target URL  the storage document's server (rest.fal.ai's role, fal's uploads); without
                      it, a run with --target leaves the upload's initiate call out
  --examples N        random valid and invalid requests per operation, each, and jobs followed;
                      default 25
  --seed S            the generator's seed, to replay a run; default: a new one, printed
  --junit FILE        also write the results as JUnit XML
  --job-timeout S     how long a followed job may take to complete; default 120
  --endpoint-id ID    the id the requests name the endpoint by: ${ids.join(" (default) or ")}
  --live              run against fal itself, with FAL_KEY: every POST may be billed (fal may bill
                      a call it refuses, and each valid one runs the model; the coverage phase
                      alone sends over 200), so --max-paid N is required and caps them; the run
                      sends nothing without it`;

/**
 * `flux-i2i contract`: `entry` is the endpoint the documents describe (its generated entry, from
 * generated/command.ts's `commandEndpoint`), `tables` the documents' own (default: this package's).
 */
export async function runContractCommand(args: string[], entry: Endpoint & { inputSchema: object }, tables?: DocumentTables): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseFlags(args, {
      target: { type: "string" },
      "queue-target": { type: "string" },
      "storage-target": { type: "string" },
      examples: { type: "string" },
      seed: { type: "string" },
      junit: { type: "string" },
      live: { type: "boolean" },
      "max-paid": { type: "string" },
      "job-timeout": { type: "string" },
      "endpoint-id": { type: "string" },
      help: { type: "boolean", short: "h" },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usageOf(entry.ids)}`);
    return 2;
  }
  if (values.help) {
    console.log(`${usageOf(entry.ids)}\n\nThe checks (a failure names one):\n${checkNames.map((check) => `  ${check.padEnd(31)} ${checkQuestions[check]}`).join("\n")}`);
    return 0;
  }
  // The mocks and fal's servers are this package's documents': other documents need a server to check.
  const settings = tables && !values.target ? "--target: other documents than this package's need a server to check (the mocks are of this package's)" : settingsOf(values, entry.ids);
  if (typeof settings === "string") {
    console.error(settings);
    return 2;
  }
  const { examples, seed, maxPaid, jobTimeout, endpointId, key } = settings;
  const mocks: PrismMock[] = [];
  try {
    let syncUrl = values.live ? defaultBaseUrl : (values.target as string | undefined);
    let queueUrl = values.live ? defaultQueueUrl : ((values["queue-target"] ?? values.target) as string | undefined);
    let storageUrl = values.live ? defaultStorageUrl : (values["storage-target"] as string | undefined);
    if (!syncUrl || !queueUrl) {
      const files = [documentFiles.sync, documentFiles.queue, documentFiles.storage];
      console.error(`Starting Prism mocks of ${files.map((file) => `openapi/${file}`).join(", ")}...`);
      const started = await Promise.allSettled(files.map((file) => startPrismMock({ spec: specPath(file) })));
      for (const mock of started) if (mock.status === "fulfilled") mocks.push(mock.value);
      const failed = started.find((mock) => mock.status === "rejected");
      if (failed) {
        if (!(failed.reason instanceof ExtraMissingError)) throw failed.reason;
        console.error(`${failed.reason.message}\n(or check a server of your own with --target, which needs no mock)`);
        return 2;
      }
      syncUrl ??= mocks[0]!.url;
      queueUrl ??= mocks[1]!.url;
      storageUrl ??= mocks[2]!.url;
    } else if (!storageUrl) {
      console.error("No --storage-target: the upload's initiate call (openapi/storage.yaml) is left out of this run");
    }
    console.error(`seed ${seed} (--seed ${seed} replays this run), ${examples} valid and ${examples} invalid random requests per operation, ${Math.min(Math.max(examples, 1), maxJobs)} job(s)`);
    // A failure quotes what the server answered, which may echo the key: stdout and the JUnit file
    // (kept by CI as an artifact) are made from a report with every form of it cut out.
    const report = redact(await runContract({ documents: contractDocuments(entry, tables), syncUrl, queueUrl, storageUrl, key: key ?? "contract-test", examples, seed, maxPaid, jobTimeoutMs: jobTimeout * 1000, endpointId }), key);
    console.log(table(report));
    if (values.junit) await writeFile(values.junit as string, toJunit(report));
    return failures(report) ? 1 : 0;
  } finally {
    await Promise.all(mocks.map((mock) => mock.stop()));
  }
}

/** The run's settings from its flags, or what is wrong with them (nothing is sent then). */
function settingsOf(values: Record<string, string | boolean | undefined>, endpointIds: readonly string[]) {
  const examples = wholeNumber(values.examples, 25, "--examples");
  const seed = wholeNumber(values.seed, Date.now() % 2 ** 31, "--seed");
  const maxPaid = values["max-paid"] === undefined ? undefined : wholeNumber(values["max-paid"], 0, "--max-paid");
  const jobTimeout = wholeNumber(values["job-timeout"], 120, "--job-timeout");
  const wrong = [examples, seed, maxPaid, jobTimeout].find((v) => typeof v === "string");
  if (typeof wrong === "string") return wrong;
  const endpointId = values["endpoint-id"] ?? endpointIds[0];
  if (!(endpointIds as readonly unknown[]).includes(endpointId)) return `--endpoint-id: must be one of ${endpointIds.join(", ")}, got ${String(endpointId)}`;
  const targets = [values.target, values["queue-target"], values["storage-target"]];
  if (values.live && targets.some(Boolean)) return "--live runs against fal's own servers: no --target";
  // fal's key goes to fal (--live) or to a target over https or on this machine; the mocks take any.
  const key = values.live || targets.some(Boolean) ? resolveCredentials(undefined) : "contract-test";
  if (values.live && !key) return "--live needs a key: set FAL_KEY (or FAL_KEY_ID and FAL_KEY_SECRET)";
  if (values.live && maxPaid === undefined) return "--live sends requests fal may bill: give --max-paid N to cap them (nothing was sent)";
  for (const url of targets) {
    if (typeof url !== "string" || !key) continue;
    try {
      assertSafeTransport(url);
    } catch (error) {
      return `${(error as Error).message} (unset FAL_KEY to run without a key)`;
    }
  }
  return { examples: examples as number, seed: seed as number, maxPaid: maxPaid as number | undefined, jobTimeout: jobTimeout as number, endpointId: endpointId as string, key };
}

function wholeNumber(value: string | boolean | undefined, fallback: number, flag: string): number | string {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : `${flag}: must be a whole number >= 0, got ${String(value)}`;
}

function failures(report: ContractReport): number {
  return Object.values(report.results).reduce((sum, byCheck) => sum + Object.values(byCheck ?? {}).reduce((n, t) => n + (t?.failed ?? 0), 0), 0);
}

/** Checks by operation: passed/sent per cell, every failure listed under the table. */
function table(report: ContractReport): string {
  const operations = Object.keys(report.results) as (keyof ContractReport["results"])[];
  const checks = checksRun(report);
  const cell = (operation: (typeof operations)[number], check: (typeof checks)[number]) => {
    const tally = report.results[operation]?.[check];
    if (!tally) return "-";
    return tally.failed ? `FAIL ${tally.failed}/${tally.passed + tally.failed}` : `${tally.passed}/${tally.passed}`;
  };
  const widths = [Math.max(...checks.map((c) => c.length)), ...operations.map((o) => Math.max(o.length, 10))];
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  const lines = [row(["check", ...operations]), ...checks.map((check) => row([check, ...operations.map((o) => cell(o, check))]))];
  for (const operation of operations) {
    for (const [check, tally] of Object.entries(report.results[operation] ?? {})) {
      for (const failure of tally?.failures ?? []) lines.push(`${check} ${operation}: ${failure}`);
    }
  }
  const coverage = Object.entries(report.coverage).map(([operation, count]) => `${operation} ${count}`).join(", ");
  lines.push(`coverage phase: ${coverage || "none"}; jobs followed: ${report.jobs.followed} (${report.jobs.throughAnswerUrls} through the URLs their submit answered)`);
  lines.push(`paid requests: ${report.paid}${report.skipped ? `, ${report.skipped} left out by --max-paid` : ""}; ${failures(report) ? `${failures(report)} failure(s)` : "every check passed"}`);
  return terminalSafe(lines.join("\n"));
}
