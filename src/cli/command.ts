// The command line of an endpoint: one job or a batch from a terminal, `mock`, `contract`. Request
// flags are the endpoint's generated flag table (./flags.ts); with no --live it runs against a Prism
// mock of the documents (no key, no network). It takes the endpoint (./command-endpoint.ts), so it
// runs any the generator took; src/bin/flux-i2i.ts runs it on generated/command.ts's.
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultQueueUrl, defaultStorageUrl, documentFiles, queueOperations, storageUpload } from "../../generated/spec.js";
import type { Endpoint, FetchLike } from "../core/types.js";
import { resolveCredentials } from "../core/credentials.js";
import { FluxApiError, FluxConfigError, FluxError, FluxNetworkError, FluxResponseError, FluxUploadError, FluxValidationError, type FluxIssue } from "../core/errors.js";
import type { PrismMock } from "../testing/mock.js";
import type { StorageStandIn } from "./storage-stand-in.js";
import { forValidation, stringifyExact } from "../core/seed.js";
import type { BatchSummary } from "./batch.js";
import type { CommandClient, CommandEndpoint, CommandInfo } from "./command-endpoint.js";
import { flagIssue, inputFromFlags, specFlagOptions, specFlagsHelp, type SpecFlag } from "./flags.js";
import { maxImageBytes } from "./image-input.js";
import { parseFlags } from "./parse-flags.js";
import { createProgress, type Progress } from "./progress.js";
import { terminalSafe, terminalSafeJson } from "./terminal-text.js";
import { UsageError } from "./usage-error.js";

const exitCodes = `Exit codes:
  0    done (a batch: every line has a result)
  2    bad input or usage: nothing was sent (a batch: some lines are not valid requests)
  3    fal answered with an error (a batch: some jobs failed; they are in the results file)
  4    network error or timeout, or a failed upload (a batch: some lines are unfinished; --resume finishes them)
  130  interrupted (Ctrl-C or SIGTERM)`;

/** --help: the command's flags, then the endpoint's, from its input schema. */
const helpText = (info: CommandInfo, flags: readonly SpecFlag[]) => `Usage: flux-i2i [--image FILE|URL] [--prompt TEXT] [PARAMETERS] [--out DIR] [--json] [--live]
       flux-i2i --batch FILE.jsonl [PARAMETERS] [--concurrency N] [--resume] [--out DIR] [--live]
       flux-i2i mock [--port N] [--queue]
       flux-i2i contract [--target URL] [--queue-target URL] [--examples N] [--seed S] [--junit FILE] [--live --max-paid N]

Runs fal's ${info.ids[0]}: ${info.summary}.
With no --live it runs against a Prism mock started from this package's OpenAPI documents (no key,
no network; the mock answers with the spec's examples). With no request parameters at all, it
sends the endpoint document's first example request.

Options:
  --image FILE|URL     the image to start from: a local jpeg, png, webp, gif or avif file or an
                       http(s) URL; the same as --image-url. A local file is uploaded to fal storage
                       (up to ${storageUpload.maxBytes / 1024 / 1024} MiB, read from disk as it is sent; against the mock, to a
                       stand-in on this machine) and the job given its URL, as is a batch line's file
  --inline             send local files (--image's, a batch line's) inline as data URIs (up to
                       ${maxImageBytes / 1024 / 1024} MiB) instead of uploading them
  --out DIR            write every image to DIR as NAME-SEED-INDEX.EXT (NAME from the input image),
                       never over an existing file
  --json               print a machine-readable summary on stdout (seeds with every digit)
  --live               run on fal through its queue, with the key in FAL_KEY (or FAL_KEY_ID and
                       FAL_KEY_SECRET); on a terminal, shows the queue position and progress.
                       Ctrl-C cancels the job on fal's side
  --queue-url URL      the queue's server (a proxy, a local fake); default ${defaultQueueUrl}
  --storage-url URL    fal storage's server, where --image's file is uploaded (a proxy's storage
                       route, a local fake); default ${defaultStorageUrl}
  --follow REQUEST_ID  with --live: follow a job already on fal's queue (one whose connection
                       was lost, say) to its result, with --out and --json as for a new one
  -h, --help           this text

Batches:
  --batch FILE.jsonl   one request per line, a JSON object of the parameters below (snake_case);
                       the flags give defaults, a line's values win. A relative image path is
                       taken from the batch file's folder
  --concurrency N      jobs at once; default 2, fal's starting concurrency limit per account
  --results FILE       where each line's result is appended (fsync'd) as it completes; default
                       FILE.results.jsonl beside the batch. Its journal, FILE.results.jsonl.journal,
                       records every submit and request id, and each file's upload (a file named
                       by many lines, or by the flags, is uploaded once)
  --resume             continue a batch: lines with a result are skipped, jobs already submitted
                       are followed to their results, never submitted again, files already
                       uploaded are not uploaded again
  --resend-uncertain   with --resume: also send the lines whose submit may have reached fal with no
                       request id recorded (the batch was killed in that instant)
  Ctrl-C stops a batch: submits under way finish so their ids are recorded; jobs running on fal
  are left to finish, and --resume collects them.

Request parameters (from the spec${info.inputSchema.title ? `, ${info.inputSchema.title}` : ""}):
${specFlagsHelp(flags)}

${exitCodes}`;

const cliOptions = {
  image: { type: "string" },
  inline: { type: "boolean" },
  out: { type: "string" },
  json: { type: "boolean" },
  live: { type: "boolean" },
  "queue-url": { type: "string" },
  "storage-url": { type: "string" },
  batch: { type: "string" },
  concurrency: { type: "string" },
  results: { type: "string" },
  resume: { type: "boolean" },
  "resend-uncertain": { type: "boolean" },
  follow: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** A run of the command: its endpoint, the flags of its input, and its entry once loaded. */
interface Run {
  endpoint: CommandEndpoint;
  flags: readonly SpecFlag[];
}

/** The command's exit code for `args` (process.argv after the script), on `endpoint`. */
export async function runCommand(args: string[], endpoint: CommandEndpoint): Promise<number> {
  // Each path loads only its own modules: --help and a bad flag need none of the client, a job
  // none of the batch's or the contract checks' (fast-check, Prism).
  if (args[0] === "mock") return (await import("./serve-mock.js")).serveMock(args.slice(1));
  if (args[0] === "contract") return runContract(args.slice(1), endpoint);
  const run: Run = { endpoint, flags: endpoint.info.flags };
  const values = readFlags(args, run);
  if (typeof values === "number") return values;
  const progress = createProgress();
  const interrupt = interruptOnSignals(values, progress);
  let targets: Targets | undefined;
  try {
    const input = inputFromFlags(values, run.flags);
    const concurrency = checkUsage(values, input, run);
    const entry = await endpoint.load();
    const planned = await planRun(values, input, progress, interrupt.signal, { ...run, entry });
    if (typeof planned === "number") return planned;
    const { single, defaultStem } = planned;
    const results = resultsPath(values);
    // A batch run over an earlier one's records is refused before anything (a mock) starts.
    if (values.batch) await (await import("./batch/journal.js")).refuseOverEarlierBatch(results, Boolean(values.resume));
    // The folder is made now: a bad --out is a usage error before any job is sent.
    if (typeof values.out === "string") await (await import("./save-images.js")).prepareOutDir(values.out).catch((error: Error) => Promise.reject(new UsageError(`--out: ${error.message}`)));
    targets = await startTargets(values, single, progress, entry, endpoint);
    const { client } = targets;

    const jobOptions = { out: values.out as string | undefined, json: Boolean(values.json), progress, signal: interrupt.signal };
    const where = values.live ? "fal storage" : "the stand-in for fal storage";
    if (single?.input.image_url instanceof File) single.input.image_url = await uploadWithProgress(client, single.input.image_url, where, progress, interrupt.signal);
    const { runOneJob } = await import("./one-job.js");
    if (typeof values.follow === "string") return await runOneJob(client, values.follow, { ...jobOptions, stem: defaultStem });
    if (single) return await runOneJob(client, single.input, { ...jobOptions, stem: single.stem });
    const { runBatch } = await import("./batch.js");
    const summary = await runBatch({
      file: values.batch as string,
      defaults: input,
      defaultStem,
      client,
      endpoint: entry,
      concurrency,
      results,
      resume: Boolean(values.resume),
      resendUncertain: Boolean(values["resend-uncertain"]),
      out: values.out as string | undefined,
      progress,
      uploadTo: values.inline ? undefined : values.live ? client.storage.storageUrl : "the command's stand-in",
      interrupt: interrupt.signal,
    });
    return reportBatch(summary, Boolean(values.json), progress);
  } catch (error) {
    progress.stop();
    if (interrupt.signal.aborted) return 130;
    return reportFailure(error, values, run.flags);
  } finally {
    interrupt.release();
    await targets?.stop();
  }
}

/** `flux-i2i contract`, or exit 2 naming fast-check when it is not installed (an optional peer the library never needs). */
async function runContract(args: string[], endpoint: CommandEndpoint): Promise<number> {
  const contract = await import("./contract.js").catch(async (error: unknown) => {
    const { ExtraMissingError, isMissing } = await import("../testing/extras.js");
    if (!isMissing(error, "fast-check")) throw error;
    console.error(new ExtraMissingError("fast-check", "flux-i2i contract").message);
  });
  return contract ? contract.runContractCommand(args, { ...(await endpoint.load()), ...endpoint.info }, await endpoint.tables?.()) : 2;
}

/** The flags, or the exit code when they are wrong (2) or ask for --help (0). */
function readFlags(args: string[], run: Run): Values | number {
  const specOptions = specFlagOptions(run.flags);
  const clash = Object.keys(specOptions).find((name) => name in cliOptions);
  if (clash) throw new Error(`the spec's parameter --${clash} clashes with a flag of flux-i2i: rename the flag`);
  let values: Values;
  try {
    values = parseFlags(args, { ...cliOptions, ...specOptions });
  } catch (error) {
    console.error(terminalSafe(`${(error as Error).message}\nRun flux-i2i --help for the flags.`));
    return 2;
  }
  if (!values.help) return values;
  console.log(helpText(run.endpoint.info, run.flags));
  return 0;
}

/**
 * Ctrl-C (and SIGTERM: a CI job cancelled, a container stopped) aborts the run; a second one quits
 * at once. `release()` stops listening, so that a run in a host process leaves no handler behind.
 */
function interruptOnSignals(values: Values, progress: Progress): AbortController & { release(): void } {
  const interrupt = new AbortController();
  const onInterrupt = () => {
    if (interrupt.signal.aborted) process.exit(130);
    progress.log(
      values.batch
        ? "interrupted: stopping the batch (Ctrl-C again to quit at once)"
        : "interrupted: cancelling the job on fal's side (Ctrl-C again to quit at once)",
    );
    interrupt.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onInterrupt);
  const release = () => void process.off("SIGINT", onInterrupt).off("SIGTERM", onInterrupt);
  return Object.assign(interrupt, { release });
}

/** Flags that do not go together, as UsageErrors; gives --concurrency. `--image` becomes the input's image_url. */
function checkUsage(values: Values, input: Record<string, unknown>, run: Run): number {
  if (typeof values.image === "string") {
    if (!run.flags.some((flag) => flag.parameter === "image_url")) throw new UsageError(`--image: ${run.endpoint.info.ids[0]} takes no image`);
    if (input.image_url !== undefined) throw new UsageError("give --image or --image-url, not both");
    input.image_url = values.image;
  }
  const batchOnly = ["concurrency", "results", "resume", "resend-uncertain"].filter((name) => values[name] !== undefined);
  if (!values.batch && batchOnly.length) throw new UsageError(`--${batchOnly[0]} is for batches: add --batch FILE.jsonl`);
  if (!values.live && values.out !== undefined && run.endpoint.queueDocument) {
    throw new UsageError("--out is for --live with these documents: their mock's result would name images on the network");
  }
  for (const flag of ["queue-url", "storage-url"]) {
    if (!values.live && values[flag] !== undefined) throw new UsageError(`--${flag} is for --live: without it, the command runs against its own mock`);
  }
  if (values.follow !== undefined) {
    if (values.batch || Object.keys(input).length) throw new UsageError("--follow takes a job already on the queue: no request parameters, no --batch");
    if (!values.live) throw new UsageError("--follow is for --live: a job on fal's queue");
  }
  const concurrency = values.concurrency === undefined ? 2 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency: must be a whole number >= 1, got ${values.concurrency}`);
  return concurrency;
}

/**
 * The single job's request (its image opened), or a batch's defaults checked, or nothing to prepare
 * (--follow); the exit code 2 when the flags' request is bad (every problem told at once).
 */
async function planRun(values: Values, input: Record<string, unknown>, progress: Progress, signal: AbortSignal, run: Run & { entry: Endpoint }) {
  const imageFlag = values.image ? "--image" : "--image-url";
  if (values.follow !== undefined) return { single: undefined, defaultStem: "image" };
  if (values.batch) {
    // The flags are defaults of every line: check what they give now, the rest per line.
    const { messages, stem } = await readImage(input, imageFlag, (issue) => issue.rule !== "required", signal, run, !values.inline);
    return messages.length ? badInput(messages, values) : { single: undefined, defaultStem: stem };
  }
  if (Object.keys(input).length === 0) {
    progress.log("No request parameters: sending the endpoint document's example request.");
    Object.assign(input, Object.values(run.endpoint.info.examples)[0]);
  }
  const { messages, stem } = await readImage(input, imageFlag, () => true, signal, run, !values.inline);
  return messages.length ? badInput(messages, values) : { single: { input, stem }, defaultStem: "image" };
}

/** A batch's results file: --results, else FILE.results.jsonl beside the batch. */
function resultsPath(values: Values): string {
  if (!values.batch) return "";
  const file = values.batch as string;
  return (values.results as string | undefined) ?? join(dirname(file), `${basename(file).replace(/\.jsonl?$/i, "")}.results.jsonl`);
}

interface Targets {
  client: CommandClient;
  stop(): Promise<void>;
}

/** The client: on fal with --live, else on a Prism mock of the endpoint's queue document (and a stand-in for fal storage when something is uploaded). */
async function startTargets(values: Values, single: { input: Record<string, unknown> } | undefined, progress: Progress, entry: Endpoint, endpoint: CommandEndpoint): Promise<Targets> {
  const { createQueueClient } = await import("../queue/client.js");
  const createClient = (options: Parameters<typeof createQueueClient>[1]): CommandClient => createQueueClient(entry, options);
  if (values.live) {
    if (!resolveCredentials(undefined)) throw new UsageError("--live needs a key: set FAL_KEY (or FAL_KEY_ID and FAL_KEY_SECRET)");
    const client = createClient({ queueUrl: values["queue-url"] as string | undefined, storageUrl: values["storage-url"] as string | undefined });
    return { client, stop: async () => undefined };
  }
  const { specPath, startPrismMock } = await import("../testing/mock.js");
  const document = endpoint.queueDocument ? fileURLToPath(endpoint.queueDocument) : specPath(documentFiles.queue);
  progress.log(`Starting a Prism mock of ${basename(document)} (no key, no network; --live runs on fal)...`);
  const mock: PrismMock = await startPrismMock({ spec: document }).catch((error: Error) => {
    throw new UsageError(`${error.message}\n(or run on fal with --live)`);
  });
  // An image to upload goes to a stand-in for fal storage on this machine, never to fal.
  const uploads = single ? single.input.image_url instanceof File : !values.inline && values.follow === undefined;
  const storage: StorageStandIn | undefined = uploads ? await (await import("./storage-stand-in.js")).startStorageStandIn().catch(async (error: unknown) => {
    await mock.stop();
    throw error;
  }) : undefined;
  // This package's queue document has a result example with the image inline; another's is served as it is (--out is refused for it: checkUsage).
  const client = createClient({ queueUrl: mock.url, credentials: "mock-key", fetch: endpoint.queueDocument ? undefined : inlineImagesFromMock, storageUrl: storage?.url });
  return { client, stop: async () => void (await Promise.all([mock.stop(), storage?.stop()])) };
}

/** A failure told on stderr (and --json), with its exit code. */
function reportFailure(error: unknown, values: Values, flags: readonly SpecFlag[]): number {
  const message = error instanceof FluxValidationError ? error.issues.map((issue) => flagIssue(issue, flags)).join("\n") : `${(error as Error).message}`;
  console.error(terminalSafe(error instanceof UsageError || error instanceof FluxValidationError ? message : `${(error as Error).name}: ${message}`));
  if (values.json) console.log(terminalSafeJson(stringifyExact({ error: error instanceof FluxError ? error.toJSON() : { name: (error as Error).name, message } }, 2)));
  return exitCodeOf(error);
}

/**
 * Checks the request the flags make against the spec and reads its image file, if it names one,
 * into a data URI in `input`. Every problem at once: the file's and the spec's (those `keep` keeps).
 */
async function readImage(input: Record<string, unknown>, flag: string, keep: (issue: FluxIssue) => boolean, signal: AbortSignal, run: Run & { entry: Endpoint }, upload = false) {
  const [{ checkInput }, { isLocalImage, resolveImage }] = await Promise.all([import("../core/validation.js"), import("./image-input.js")]);
  const image = input.image_url;
  const local = typeof image === "string" && isLocalImage(image);
  const messages = checkInput(run.entry, forValidation(local ? { ...input, image_url: "data:," } : input))
    .filter(keep)
    .map((issue) => flagIssue(issue, run.flags));
  let stem = "image";
  if (typeof image === "string") {
    try {
      const resolved = await resolveImage(image, process.cwd(), flag, signal, upload);
      input.image_url = resolved.imageUrl;
      stem = resolved.stem;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      messages.unshift(error.message);
    }
  }
  return { messages, stem };
}

/** The file uploaded before the submit, its progress on stderr; gives its URL. */
async function uploadWithProgress(client: CommandClient, file: File, where: string, progress: Progress, signal: AbortSignal): Promise<string> {
  const { tellUpload } = await import("./upload-progress.js");
  const told = tellUpload(progress, file, where);
  const url = await client.storage.upload(file, { signal, onProgress: told.onProgress });
  told.done();
  return url;
}

function reportBatch(summary: BatchSummary, json: boolean, progress: Progress): number {
  const { lines, done, failed, invalid, invalidLines, uncertain, unfinished, running } = summary;
  progress.log(
    `${lines} lines: ${done} done, ${failed} failed, ${invalid} invalid` +
      (invalid ? ` (lines ${[...invalidLines].sort((a, b) => a - b).join(", ")})` : "") +
      (uncertain.length ? `, ${uncertain.length} uncertain (lines ${uncertain.join(", ")})` : "") +
      (unfinished ? `, ${unfinished} unfinished` : "") +
      ` in ${(summary.elapsedMs / 1000).toFixed(1)} s. Results: ${summary.results}` +
      (running ? `\n${running} job(s) still running on fal: --resume collects them` : "") +
      (unfinished && !summary.interrupted ? "\nRun again with --resume to finish the batch." : ""),
  );
  if (json) console.log(JSON.stringify({ ...summary, elapsedMs: Math.round(summary.elapsedMs) }, null, 2));
  if (summary.interrupted) return 130;
  if (summary.unauthorized) return 3;
  if (unfinished || uncertain.length) return 4;
  if (failed) return 3;
  if (invalid) return 2;
  return 0;
}

function badInput(messages: string[], values: Values): number {
  console.error(terminalSafe(`${messages.join("\n")}\nNothing was sent. Run flux-i2i --help for the flags and their bounds.`));
  if (values.json) console.log(terminalSafeJson(JSON.stringify({ error: { name: "UsageError", messages } }, null, 2)));
  return 2;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof FluxValidationError || error instanceof FluxConfigError) return 2;
  if (error instanceof FluxApiError || error instanceof FluxResponseError) return 3;
  // An upload that failed submitted nothing: like a network failure, running it again is safe.
  if (error instanceof FluxNetworkError || error instanceof FluxUploadError) return 4;
  return 1;
}

/** The mock's result as its `inline` example (a data URI), so that --out writes a file without network. */
const resultPath = new RegExp(`^${queueOperations.getQueueResult.path.replace("{request_id}", "[^/]+")}$`);
const inlineImagesFromMock: FetchLike = (url, init = {}) => {
  if (resultPath.test(new URL(String(url)).pathname) && (init.method ?? "GET") === "GET") {
    const headers = new Headers(init.headers);
    headers.set("Prefer", "example=inline");
    init = { ...init, headers };
  }
  return fetch(url, init);
};
