// One line of a batch, from its text to its record: read and checked against the spec, submitted
// between its two journal records, followed to its output (whether this run or an earlier one
// submitted it), its images saved, its result recorded. What each failure means for the line
// (final, for a resume, or uncertain) is decided here.
import { FluxApiError, FluxNetworkError, FluxResponseError, FluxSubmitUncertainError, FluxValidationError } from "../../core/errors.js";
import { duplicateKey } from "../../core/json-text.js";
import { forValidation, withExactSeed } from "../../core/seed.js";
import { checkInput } from "../../core/validation.js";
import type { Endpoint } from "../../core/types.js";
import type { CommandClient, CommandInput, CommandOutput } from "../command-endpoint.js";
import { goneResult } from "../gone-result.js";
import { resolveImage, stemOfImage } from "../image-input.js";
import { saveImages } from "../save-images.js";
import { placeholderUrl } from "../../storage/upload.js";
import type { BatchLine, BatchRecords } from "./journal.js";
import type { BatchUploads } from "./uploads.js";
import type { BatchReport } from "./report.js";
import type { LineOutcome, Scheduler } from "./scheduler.js";

/** How many times a line refused by fal (429) goes back to the scheduler before it is left for --resume. */
const maxRefusals = 6;

export interface LineContext {
  client: CommandClient;
  /** The endpoint (its entry): each line is checked by its rules. */
  endpoint: Endpoint;
  records: BatchRecords;
  report: BatchReport;
  scheduler: Pick<Scheduler, "submit" | "accepted">;
  /** Request parameters from the flags, the image already read; a line's own values win. */
  defaults: Readonly<Record<string, unknown>>;
  /** The outputs' name for lines that take the flags' image. */
  defaultStem: string | undefined;
  /** The batch file's folder: image paths of its lines are read from there. */
  baseDir: string;
  /** Where local images are uploaded, each once; without it (--inline), they are sent as data URIs. */
  uploads: BatchUploads | undefined;
  /** --out */
  out: string | undefined;
  /** No new submit once this holds (Ctrl-C, a refused key). */
  stopping: () => boolean;
  /** Ctrl-C: aborts the reading of a line's image. */
  signal: AbortSignal;
}

/** Runs one line: follows its recorded job, or prepares and submits it, then follows that. */
export function createLineRunner(ctx: LineContext): (line: BatchLine) => Promise<LineOutcome> {
  const refusals = new Map<number, number>();
  return async function runLine(line: BatchLine): Promise<LineOutcome> {
    const recordedStem = () => stemFromText(line.text) ?? ctx.defaultStem ?? "image";
    if (line.requestId && line.unsavedOutput) return save(ctx, line, line.requestId, line.unsavedOutput, recordedStem());
    if (line.requestId) return follow(ctx, line, line.requestId, recordedStem());
    const prepared = await prepareAndUpload(ctx, line);
    if (!prepared || ctx.stopping()) return;
    const requestId = await ctx.scheduler.submit(() => submitAndRecord(ctx, line, prepared.input, refusals));
    if (requestId === "refused") return "refused";
    if (requestId) return follow(ctx, line, requestId, prepared.stem);
  };
}

/**
 * The line as a request ready to submit, its local image uploaded (once per file); undefined when
 * it is not a valid request (reported) or its upload failed (left for a resume: nothing was submitted).
 */
async function prepareAndUpload(ctx: LineContext, line: BatchLine): Promise<{ input: CommandInput; stem: string } | undefined> {
  let prepared: { input: CommandInput; stem: string };
  try {
    prepared = await prepare(line, ctx);
  } catch (error) {
    if (ctx.stopping()) return; // Ctrl-C cut the reading of its image: the line is merely not reached
    return void ctx.report.invalid(line.line, error);
  }
  const image = prepared.input.image_url;
  if (!(image instanceof File) || ctx.stopping()) return prepared;
  try {
    prepared.input.image_url = await ctx.uploads!.urlOf(image, ctx.signal);
    return prepared;
  } catch (error) {
    if (ctx.stopping()) return;
    return void (error instanceof FluxValidationError ? ctx.report.invalid(line.line, error) : ctx.report.notSubmitted(line.line, error));
  }
}

/** Follows the line's job to its output, then saves it; a failure is recorded only when it is final. */
async function follow(ctx: LineContext, line: BatchLine, requestId: string, stem: string): Promise<void> {
  const { client, records, report } = ctx;
  let output: CommandOutput;
  try {
    output = await client.follow(requestId, { onQueueUpdate: (status) => report.inQueue(line.line, status.status === "IN_QUEUE") });
  } catch (error) {
    if (isKeyRefused(error)) {
      report.keyRefused(line.line, error);
    } else if (error instanceof FluxApiError && !error.retryable) {
      // The job failed (or fal does not know it): final, recorded with fal's error.
      await records.failed(line, requestId, error);
      report.failed(line.line, error, goneResult(error, requestId, againInBatch(line.line), line.submittedAt));
    } else {
      report.followLater(line.line, error, requestId);
    }
    return;
  } finally {
    report.inQueue(line.line, false);
  }
  return save(ctx, line, requestId, output, stem);
}

/** The output's images saved (with --out) and the result recorded; a save that fails records the output, so nothing paid is lost. */
async function save(ctx: LineContext, line: BatchLine, requestId: string, output: CommandOutput, stem: string): Promise<void> {
  let files: string[] | undefined;
  if (ctx.out) {
    try {
      files = await saveImages(output, ctx.out, { stem, httpOrigin: new URL(ctx.client.queueUrl).origin, signal: ctx.signal });
    } catch (error) {
      if (ctx.signal.aborted) return; // Ctrl-C: the job stays recorded in the journal; a resume fetches it
      // The output (an inline image included) is kept in the results file; a resume saves it from there.
      await ctx.records.unsaved(line, requestId, output, error as Error);
      return ctx.report.saveFailed(line.line, error as Error);
    }
  }
  await ctx.records.done(line, requestId, files, output);
  ctx.report.done(line.line, files);
}

/**
 * The submit, between its two journal records: its request id once that is on disk, `refused`
 * when fal refused it for now (no job: the scheduler runs the line again later), or undefined if
 * there is no job to follow.
 */
async function submitAndRecord(ctx: LineContext, line: BatchLine, input: CommandInput, refusals: Map<number, number>): Promise<string | "refused" | undefined> {
  const { records } = ctx;
  await records.submitting(line);
  let requestId: string;
  try {
    requestId = (await ctx.client.queue.submit(input)).request_id;
  } catch (error) {
    if (isRefusal(error, ctx.endpoint.submit.refusedStatuses) && (refusals.get(line.line) ?? 0) < maxRefusals) {
      refusals.set(line.line, (refusals.get(line.line) ?? 0) + 1);
      await records.notSent(line);
      return "refused";
    }
    // The answer broke or was cut, but what arrived named the job: follow it, never send it again.
    const recovered = error instanceof FluxResponseError || error instanceof FluxSubmitUncertainError ? error.requestId : undefined;
    if (!recovered) return void (await submitFailed(ctx, line, error));
    requestId = recovered;
  }
  ctx.scheduler.accepted();
  await records.submitted(line, requestId);
  return requestId;
}

/** What a failed submit means for its line: not sent (recorded so), final (recorded failed), or uncertain (left alone). */
async function submitFailed(ctx: LineContext, line: BatchLine, error: unknown): Promise<void> {
  const { records, report } = ctx;
  if (error instanceof FluxValidationError) {
    // Refused before anything was sent.
    await records.notSent(line);
    return report.invalid(line.line, error);
  }
  const answered = error instanceof FluxApiError;
  // The client throws a plain network error from a submit only when the request never left; one
  // that may have reached fal is a FluxSubmitUncertainError.
  const provablyUnsent = error instanceof FluxNetworkError && !(error instanceof FluxSubmitUncertainError);
  if (answered || provablyUnsent) await records.notSent(line);
  if (isKeyRefused(error)) report.keyRefused(line.line, error);
  else if (answered && !error.retryable) {
    await records.failed(line, undefined, error);
    report.failed(line.line, error);
  } else if (answered || provablyUnsent) report.notSubmitted(line.line, error);
  else report.uncertain(line.line, error);
}

/** fal refused the submit for now without making a job (the spec's `x-job-created: false`: 429), unless it said a retry cannot help. */
function isRefusal(error: unknown, refused: readonly number[]): error is FluxApiError {
  return error instanceof FluxApiError && refused.includes(error.status) && error.retryable;
}

const againInBatch = (line: number) =>
  `It is recorded as failed and a resume does not send it again; to run it anew (a new job, billed again), put line ${line} in a new batch file.`;

function isKeyRefused(error: unknown): error is FluxApiError {
  return error instanceof FluxApiError && (error.status === 401 || error.status === 403);
}

/**
 * A line as a request: its JSON over the flags' values, its image opened if it is a local file (a
 * File to upload, or with --inline a data URI), checked against the spec before anything is uploaded.
 */
async function prepare(line: BatchLine, ctx: LineContext) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.text);
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("must be a JSON object of request parameters");
  // JSON.parse keeps a repeated key's last value, while a reader of the line may take the first: neither is sent.
  const repeated = duplicateKey(line.text);
  if (repeated !== undefined) throw new Error(`${repeated}: the key is given twice; give it once`);
  withExactSeed(parsed, line.text);
  const input: Record<string, unknown> = { ...ctx.defaults, ...parsed };
  let stem = ctx.defaultStem ?? "image";
  if (typeof (parsed as { image_url?: unknown }).image_url === "string") {
    const image = await resolveImage(input.image_url as string, ctx.baseDir, "image_url", ctx.signal, ctx.uploads !== undefined);
    input.image_url = image.imageUrl;
    stem = image.stem;
  }
  const issues = checkInput(ctx.endpoint, forValidation(input.image_url instanceof File ? { ...input, image_url: placeholderUrl } : input));
  if (issues.length) throw new FluxValidationError(issues);
  return { input, stem };
}

/** The outputs' name for a line's own image, if it has one. */
function stemFromText(text: string): string | undefined {
  try {
    const value = (JSON.parse(text) as { image_url?: unknown }).image_url;
    return typeof value === "string" ? stemOfImage(value) : undefined;
  } catch {
    return undefined;
  }
}
