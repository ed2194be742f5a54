// --batch FILE.jsonl: one job per line, a bounded number at a time, each result appended to a
// results file as it completes. A journal records each submit before it goes out and its request id
// as soon as fal returns it, so that a batch killed at any point and resumed neither loses a line
// nor submits one twice: a recorded job is followed to its result, not submitted again.
import { createHash } from "node:crypto";
import { unlinkSync } from "node:fs";
import { open, readFile, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { FluxClient } from "../client.js";
import { FluxApiError, FluxError, FluxNetworkError, FluxResponseError, FluxValidationError } from "../errors.js";
import { neverSent } from "../failures.js";
import { forValidation, withExactSeed } from "../seed.js";
import type { ImageToImageInput, ImageToImageOutput, QueueStatus } from "../types.js";
import { checkInput } from "../validation.js";
import { openDurableLog, readRecords } from "./durable-log.js";
import { resolveImage, stemOfImage } from "./image-input.js";
import type { Progress } from "./progress.js";
import { saveImages } from "./save-images.js";
import { UsageError } from "./usage-error.js";

export interface BatchOptions {
  file: string;
  /** Request parameters from the flags, the image already read; a line's own values win. */
  defaults: Readonly<Record<string, unknown>>;
  /** The outputs' name for lines that take the flags' image. */
  defaultStem?: string;
  client: FluxClient;
  /** Jobs at once. */
  concurrency: number;
  /** The results JSONL; its journal is this path + `.journal`. */
  results: string;
  /** Continue the batch these files record; without it, existing records are refused. */
  resume: boolean;
  /** Submit again the lines whose submit may have reached fal with no request id recorded. */
  resendUncertain: boolean;
  out?: string | undefined;
  progress: Progress;
  /** Ctrl-C: no new submit starts; submits under way finish so that their ids are recorded. */
  interrupt: AbortSignal;
}

export interface BatchSummary {
  lines: number;
  /** Lines with a result: done in this run or an earlier one. */
  done: number;
  /** Lines whose job fal refused or failed (in the results file with the error). */
  failed: number;
  /** Lines that are not a valid request: reported, not sent. */
  invalid: number;
  /** Lines whose submit may have reached fal with no request id recorded: not re-sent unless asked. */
  uncertain: number[];
  /** Lines left for a resume: not reached (interrupted, the key refused) or a network failure. */
  unfinished: number;
  /** Jobs still running on fal when the batch was interrupted; a resume collects them. */
  running: number;
  interrupted: boolean;
  /** fal refused the key: the batch stopped. */
  unauthorized: boolean;
  results: string;
  elapsedMs: number;
}

interface Line {
  line: number;
  text: string;
  /** From the journal: the job fal has for this line. */
  requestId?: string;
}

export async function runBatch(options: BatchOptions): Promise<BatchSummary> {
  const started = performance.now();
  const { progress, client } = options;
  const text = await readFile(options.file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--batch: cannot read ${options.file} (${error.code ?? error.message})`);
  });
  const lines: Line[] = text
    .split("\n")
    .map((lineText, i) => ({ line: i + 1, text: lineText.trim() }))
    .filter((l) => l.text);
  const journalPath = `${options.results}.journal`;
  await lockBatch(`${options.results}.lock`);
  if (!options.resume) {
    for (const path of [options.results, journalPath]) {
      if ((await stat(path).catch(() => undefined))?.size) {
        throw new UsageError(`${path} already records a batch: add --resume to continue it, or choose another --results file`);
      }
    }
  }

  // What earlier runs recorded: a result ends a line; the journal's last event says where the rest stand.
  const finished = new Map<number, unknown>();
  const recordedText = new Map<number, unknown>();
  for (const record of await readRecords(options.results)) {
    if (typeof record.line !== "number") continue;
    finished.set(record.line, record.status);
    recordedText.set(record.line, record.text_sha256);
  }
  const lastEvent = new Map<number, Record<string, unknown>>();
  for (const record of await readRecords(journalPath)) {
    if (typeof record.line !== "number") continue;
    lastEvent.set(record.line, record);
    if (record.text_sha256) recordedText.set(record.line, record.text_sha256);
  }

  const summary: BatchSummary = {
    lines: lines.length,
    done: 0,
    failed: 0,
    invalid: 0,
    uncertain: [],
    unfinished: 0,
    running: 0,
    interrupted: false,
    unauthorized: false,
    results: options.results,
    elapsedMs: 0,
  };
  const follow: Line[] = [];
  const submit: Line[] = [];
  for (const line of lines) {
    const recorded = recordedText.get(line.line);
    if (recorded && recorded !== textHash(line.text)) {
      progress.log(
        progress.paint(
          `line ${line.line} has changed since an earlier run sent it: what that run recorded for it stands. To send the new text, put it on a line of its own.`,
          "yellow",
        ),
      );
    }
    if (finished.has(line.line)) {
      if (finished.get(line.line) === "failed") summary.failed++;
      else summary.done++;
      continue;
    }
    const event = lastEvent.get(line.line);
    if (event?.event === "submitted" && typeof event.request_id === "string") follow.push({ ...line, requestId: event.request_id });
    else if (event?.event === "submitting" && !options.resendUncertain) summary.uncertain.push(line.line);
    else submit.push(line);
  }
  if (finished.size) {
    progress.log(
      `${summary.done + summary.failed} of ${lines.length} lines already have a result in ${options.results}` +
        (summary.failed ? ` (${summary.failed} failed: not sent again)` : ""),
    );
  }
  if (follow.length) progress.log(`following ${follow.length} job(s) submitted by an earlier run`);
  for (const line of summary.uncertain) {
    progress.log(
      progress.paint(
        `line ${line}: its submit may have reached fal but no request id was recorded (the batch stopped in that instant). ` +
          "Not sent again: check fal's request history, then run with --resume --resend-uncertain to send it.",
        "yellow",
      ),
    );
  }

  const results = await openDurableLog(options.results);
  const journal = await openDurableLog(journalPath);
  const baseDir = dirname(options.file);
  const work = [...follow, ...submit];
  const total = lines.length;
  let running = 0;
  /** Submits whose request id is not yet on disk: an interrupted batch waits for them. */
  const submitsUnderWay = new Set<Promise<unknown>>();
  const queued = new Set<number>();
  const draw = () =>
    progress.status(
      `batch: ${summary.done}/${total} done, ${running} running` +
        (queued.size ? ` (${queued.size} waiting in fal's queue)` : "") +
        (summary.failed ? `, ${summary.failed} failed` : "") +
        (summary.invalid ? `, ${summary.invalid} invalid` : ""),
    );
  const stopping = () => options.interrupt.aborted || summary.unauthorized;

  async function finish(line: Line, requestId: string, stem: string): Promise<void> {
    const text_sha256 = textHash(line.text);
    let output: ImageToImageOutput;
    try {
      output = await client.follow(requestId, {
        onQueueUpdate: (status: QueueStatus) => {
          if (status.status === "IN_QUEUE") queued.add(line.line);
          else queued.delete(line.line);
          draw();
        },
      });
    } catch (error) {
      if (error instanceof FluxApiError && (error.status === 401 || error.status === 403)) {
        // The key, not the job: stop, record nothing; a resume with a good key follows the job.
        summary.unauthorized = true;
        progress.log(progress.paint(`line ${line.line}: ${describe(error)}; stopping the batch`, "red"));
      } else if (error instanceof FluxApiError && !error.retryable) {
        // The job failed (or fal does not know it): final, recorded with fal's error.
        await results.append({ line: line.line, status: "failed", request_id: requestId, text_sha256, error: errorJson(error) });
        summary.failed++;
        progress.log(progress.paint(`line ${line.line}: ${describe(error)}`, "red"));
      } else {
        progress.log(progress.paint(`line ${line.line}: ${describe(error)}; --resume follows job ${requestId}`, "red"));
      }
      return;
    } finally {
      queued.delete(line.line);
    }
    let files: string[] | undefined;
    if (options.out) {
      try {
        files = await saveImages(output, options.out, { stem });
      } catch (error) {
        // Nothing recorded: a resume fetches the result again (the job is not submitted again) and retries.
        progress.log(progress.paint(`line ${line.line}: done, but saving its images failed (${(error as Error).message}); --resume tries again`, "red"));
        return;
      }
    }
    await results.append({ line: line.line, status: "done", request_id: requestId, text_sha256, files, output });
    summary.done++;
    progress.log(`line ${line.line}: done${files ? ` -> ${files.join(", ")}` : ""}`);
  }

  async function run(line: Line): Promise<void> {
    if (line.requestId) {
      return finish(line, line.requestId, stemFromText(line.text) ?? options.defaultStem ?? "image");
    }
    let input: ImageToImageInput;
    let stem: string;
    try {
      ({ input, stem } = await prepare(line, options.defaults, baseDir, options.defaultStem));
    } catch (error) {
      summary.invalid++;
      const reason = error instanceof FluxValidationError ? describe(error) : (error as Error).message;
      progress.log(progress.paint(`line ${line.line}: ${reason}; skipped`, "red"));
      return;
    }
    if (stopping()) return;

    const recording = submitAndRecord(line, input);
    submitsUnderWay.add(recording);
    const requestId = await recording.finally(() => submitsUnderWay.delete(recording));
    if (requestId) return finish(line, requestId, stem);
  }

  /** The submit, between its two journal records: its request id once that is on disk, or undefined if there is no job to follow. */
  async function submitAndRecord(line: Line, input: ImageToImageInput): Promise<string | undefined> {
    await journal.append({ line: line.line, event: "submitting", at: new Date().toISOString(), text_sha256: textHash(line.text) });
    let requestId: string;
    try {
      requestId = (await client.queue.submit(input)).request_id;
    } catch (error) {
      const recovered = error instanceof FluxResponseError ? error.requestId : undefined;
      if (!recovered) return void (await submitFailed(line, error));
      requestId = recovered;
    }
    await journal.append({ line: line.line, event: "submitted", request_id: requestId });
    return requestId;
  }

  async function submitFailed(line: Line, error: unknown): Promise<void> {
    if (error instanceof FluxValidationError) {
      // Refused before anything was sent.
      await journal.append({ line: line.line, event: "not-sent" });
      summary.invalid++;
      progress.log(progress.paint(`line ${line.line}: ${describe(error)}; skipped`, "red"));
      return;
    }
    const answered = error instanceof FluxApiError;
    const provablyUnsent = error instanceof FluxNetworkError && neverSent(error.cause);
    if (answered || provablyUnsent) await journal.append({ line: line.line, event: "not-sent" });
    if (answered && (error.status === 401 || error.status === 403)) {
      summary.unauthorized = true;
      progress.log(progress.paint(`line ${line.line}: ${describe(error)}; stopping the batch`, "red"));
    } else if (answered && !error.retryable) {
      await results.append({ line: line.line, status: "failed", text_sha256: textHash(line.text), error: errorJson(error) });
      summary.failed++;
      progress.log(progress.paint(`line ${line.line}: ${describe(error)}`, "red"));
    } else if (answered || provablyUnsent) {
      progress.log(progress.paint(`line ${line.line}: ${describe(error)}; not submitted, --resume sends it`, "red"));
    } else {
      summary.uncertain.push(line.line);
      progress.log(
        progress.paint(
          `line ${line.line}: ${describe(error)}; the submit may have reached fal. Not sent again: check fal's request history, then run with --resume --resend-uncertain to send it.`,
          "yellow",
        ),
      );
    }
  }

  let next = 0;
  const worker = async () => {
    while (next < work.length && !stopping()) {
      const line = work[next++]!;
      running++;
      draw();
      try {
        await run(line);
      } finally {
        running--;
        draw();
      }
    }
  };
  const workers = Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, work.length)) }, worker));
  const interrupted = new Promise<void>((resolve) => options.interrupt.addEventListener("abort", () => resolve(), { once: true }));
  try {
    await Promise.race([workers, interrupted]);
    if (options.interrupt.aborted) {
      summary.interrupted = true;
      // Submits under way finish, so that their request ids are in the journal; their jobs go on.
      if (submitsUnderWay.size) progress.log(`waiting for ${submitsUnderWay.size} submit(s) under way, to record their request ids...`);
      await Promise.allSettled(submitsUnderWay);
      summary.running = running;
    }
  } finally {
    progress.stop();
    // Interrupted, jobs still being followed may append later: the files stay open until the process exits.
    if (!options.interrupt.aborted) {
      await journal.close();
      await results.close();
    }
  }
  summary.unfinished = summary.lines - summary.done - summary.failed - summary.invalid - summary.uncertain.length;
  summary.elapsedMs = performance.now() - started;
  return summary;
}

/**
 * Makes this process the only one running the batch whose results go to this file: two runs of
 * one batch at once (a cron job overlapping itself) would submit its lines twice. A lock whose
 * process is gone (killed) is taken over. Released when the process exits.
 */
async function lockBatch(path: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const handle = await open(path, "wx").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") return undefined;
      throw error;
    });
    if (handle) {
      await handle.writeFile(String(process.pid));
      await handle.close();
      process.once("exit", () => {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      });
      return;
    }
    const pid = Number(await readFile(path, "utf8").catch(() => ""));
    if (pid > 0 && isRunning(pid)) {
      throw new UsageError(
        `another flux-i2i (pid ${pid}) is running this batch: wait for it or stop it. If none is, delete ${path}`,
      );
    }
    await unlink(path).catch(() => undefined);
  }
  throw new UsageError(`could not lock ${path}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A line as a request: its JSON over the flags' values, its image read if it is a local file, checked against the spec. */
async function prepare(line: Line, defaults: Readonly<Record<string, unknown>>, baseDir: string, defaultStem = "image") {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.text);
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("must be a JSON object of request parameters");
  withExactSeed(parsed, line.text);
  const input: Record<string, unknown> = { ...defaults, ...parsed };
  let stem = defaultStem;
  if (typeof (parsed as { image_url?: unknown }).image_url === "string") {
    const image = await resolveImage(input.image_url as string, baseDir, "image_url");
    input.image_url = image.imageUrl;
    stem = image.stem;
  }
  const issues = checkInput(forValidation(input));
  if (issues.length) throw new FluxValidationError(issues);
  return { input: input as ImageToImageInput, stem };
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

/** Which text of a line a record is about: a resume warns when the line has been edited since. */
function textHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

function describe(error: unknown): string {
  if (error instanceof FluxValidationError) return error.issues.map((i) => `${i.field}: ${i.message}`).join("; ");
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function errorJson(error: unknown): unknown {
  return error instanceof FluxError ? error.toJSON() : { name: "Error", message: String(error) };
}
