// A batch's records on disk, and the lock that makes one process their only writer. The results
// file (FILE.results.jsonl) holds one record per finished line; the journal beside it
// (FILE.results.jsonl.journal) records each submit before it goes out and its request id as soon as
// fal returns it, and each file uploaded to fal storage with its URL. Both are written through durable-log (fsync'd) and read back here on --resume:
// what a run recorded decides what the next one follows, submits, or leaves alone.
import { createHash, randomBytes } from "node:crypto";
import { unlinkSync } from "node:fs";
import { link, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { FluxError } from "../../core/errors.js";
import type { CommandOutput } from "../command-endpoint.js";
import { openDurableLog, readRecords } from "../durable-log.js";
import { UsageError } from "../usage-error.js";

/** A line of the batch file with text. */
export interface BatchLine {
  /** Its number in the file, from 1. */
  line: number;
  text: string;
  /** From the journal: the job fal has for this line. */
  requestId?: string;
  /** When the earlier run's submit of it was answered (ISO 8601), if recorded. */
  submittedAt?: string;
  /** From the results: the line's output, recorded when its images could not be saved; a resume saves it without asking fal. */
  unsavedOutput?: CommandOutput;
}

/** What earlier runs of the batch recorded, by line. */
export interface EarlierRuns {
  /** Lines with a result, and its status (`done` or `failed`). */
  finished: Map<number, unknown>;
  /** The hash of each line's text when a run recorded it. */
  recordedText: Map<number, unknown>;
  /** The journal's last record of each line. */
  lastEvent: Map<number, Record<string, unknown>>;
  /** Lines whose result is recorded but whose images were not saved: the last such record, by line. */
  unsaved: Map<number, { requestId: string; output: CommandOutput }>;
  /** Files uploaded to fal storage: the URL of each, by {@link uploadKey}. */
  uploads: Map<string, string>;
}

/** Which upload a file's is: its bytes' SHA-256 on one storage server (a mock's URL is never sent to fal). */
export const uploadKey = (storage: string, sha256: string) => `${storage} ${sha256}`;

/** Where each line of the batch stands, from what earlier runs recorded. */
export interface BatchPlan {
  /** Submitted by an earlier run, its request id recorded: followed, not submitted again. */
  follow: BatchLine[];
  /** A result recorded whose images were not saved: saved from the record, fal not asked again. */
  save: BatchLine[];
  /** Never submitted (or provably not sent, or uncertain and --resend-uncertain given). */
  submit: BatchLine[];
  /** Submitted by an earlier run with no request id recorded: may exist on fal, left alone. */
  uncertain: number[];
  /** Lines with a result: done, or failed (not sent again). */
  done: number;
  failed: number;
  /** Lines whose text differs from what an earlier run recorded: that record stands. */
  changed: number[];
}

const journalPath = (results: string) => `${results}.journal`;

/**
 * Makes this process the only one running the batch whose results go to this file: two runs of
 * one batch at once (a cron job overlapping itself) would submit its lines twice. A lock whose
 * process is gone (killed) is taken over. Released when the process exits, or by the function
 * this gives.
 *
 * Every step is atomic, so that two processes starting together cannot both hold it: the lock
 * appears with its pid already in it (written to a file of this process's own, then hard-linked
 * into place, which fails if the lock exists), and a stale lock is taken over by renaming it
 * away, which only one process can do, then checked to be the one found stale.
 */
export async function lockBatch(results: string): Promise<() => void> {
  const path = `${results}.lock`;
  const mine = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(mine, String(process.pid), { flag: "wx" });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = await link(mine, path).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code === "EEXIST") return false;
          throw error;
        },
      );
      if (taken) return holdLock(path);
      const pid = Number(await readFile(path, "utf8").catch(() => ""));
      if (pid > 0 && isRunning(pid)) {
        throw new UsageError(`another flux-i2i (pid ${pid}) is running this batch: wait for it or stop it. If none is, delete ${path}`);
      }
      await takeOverStale(path, pid);
    }
    throw new UsageError(`could not lock ${path}`);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

/** Moves a stale lock (of dead `pid`) aside; if another process replaced it meanwhile, puts that one back. */
async function takeOverStale(path: string, pid: number): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString("hex")}`;
  const moved = await rename(path, aside).then(
    () => true,
    () => false, // another process moved it first
  );
  if (!moved) return;
  const found = Number(await readFile(aside, "utf8").catch(() => ""));
  if (found !== pid && found > 0 && isRunning(found)) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function holdLock(path: string): () => void {
  const release = () => {
    process.removeListener("exit", release);
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.once("exit", release);
  return release;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Without `resume`, a UsageError if the results file or its journal already records a batch:
 * starting over would submit its lines a second time. The command asks before it starts anything
 * (a mock), and again when it reads the records.
 */
export async function refuseOverEarlierBatch(results: string, resume: boolean): Promise<void> {
  if (resume) return;
  for (const path of [results, journalPath(results)]) {
    if ((await stat(path).catch(() => undefined))?.size) {
      throw new UsageError(`${path} already records a batch: add --resume to continue it, or choose another --results file`);
    }
  }
}

/**
 * What earlier runs recorded. Without `resume`, a results file or journal that already records a
 * batch is refused: starting over would submit its lines a second time.
 */
export async function readEarlierRuns(results: string, resume: boolean): Promise<EarlierRuns> {
  await refuseOverEarlierBatch(results, resume);
  // A result ends a line; the journal's last event says where the rest stand.
  const earlier: EarlierRuns = { finished: new Map(), recordedText: new Map(), lastEvent: new Map(), unsaved: new Map(), uploads: new Map() };
  for (const record of await readRecords(results)) {
    if (typeof record.line !== "number") continue;
    earlier.recordedText.set(record.line, record.text_sha256);
    if (record.status === "unsaved" && typeof record.request_id === "string" && record.output) {
      earlier.unsaved.set(record.line, { requestId: record.request_id, output: record.output as CommandOutput });
    } else {
      earlier.finished.set(record.line, record.status);
    }
  }
  for (const record of await readRecords(journalPath(results))) {
    const { storage, image_sha256: sha256, file_url: fileUrl } = record;
    if (record.event === "uploaded" && typeof storage === "string" && typeof sha256 === "string" && typeof fileUrl === "string") {
      earlier.uploads.set(uploadKey(storage, sha256), fileUrl);
    }
    if (typeof record.line !== "number") continue;
    earlier.lastEvent.set(record.line, record);
    if (record.text_sha256) earlier.recordedText.set(record.line, record.text_sha256);
  }
  return earlier;
}

/** Sorts the batch's lines by what earlier runs recorded of them (see {@link BatchPlan}). */
export function planLines(lines: BatchLine[], earlier: EarlierRuns, resendUncertain: boolean): BatchPlan {
  const plan: BatchPlan = { follow: [], save: [], submit: [], uncertain: [], done: 0, failed: 0, changed: [] };
  for (const line of lines) {
    const recorded = earlier.recordedText.get(line.line);
    if (recorded && recorded !== textHash(line.text)) plan.changed.push(line.line);
    if (earlier.finished.has(line.line)) {
      if (earlier.finished.get(line.line) === "failed") plan.failed++;
      else plan.done++;
      continue;
    }
    const unsaved = earlier.unsaved.get(line.line);
    if (unsaved) {
      plan.save.push({ ...line, requestId: unsaved.requestId, unsavedOutput: unsaved.output });
      continue;
    }
    const event = earlier.lastEvent.get(line.line);
    if (event?.event === "submitted" && typeof event.request_id === "string") plan.follow.push({ ...line, requestId: event.request_id, submittedAt: typeof event.at === "string" ? event.at : undefined });
    else if (event?.event === "submitting" && !resendUncertain) plan.uncertain.push(line.line);
    else plan.submit.push(line);
  }
  return plan;
}

/** The records a run appends, each on disk before its promise resolves. */
export interface BatchRecords {
  /** Journal: a file is on fal storage at `fileUrl`; a resume sends that URL instead of uploading the file again. */
  uploaded(upload: { storage: string; sha256: string; fileUrl: string; file: string }): Promise<void>;
  /** Journal: the line's submit is about to go out (written before it is sent). */
  submitting(line: BatchLine): Promise<void>;
  /** Journal: fal returned the line's request id. */
  submitted(line: BatchLine, requestId: string): Promise<void>;
  /** Journal: the line's submit provably did not create a job (refused before sending, or answered with an error). */
  notSent(line: BatchLine): Promise<void>;
  /** Results: the line's output, and where its images were saved. */
  done(line: BatchLine, requestId: string, files: string[] | undefined, output: CommandOutput): Promise<void>;
  /**
   * Results: the line's output, its images not saved (a disk full, a folder not writable): kept so
   * that nothing paid for is lost; a resume saves it from here.
   */
  unsaved(line: BatchLine, requestId: string, output: CommandOutput, error: Error): Promise<void>;
  /** Results: fal refused the line's submit or failed its job; final. */
  failed(line: BatchLine, requestId: string | undefined, error: unknown): Promise<void>;
  close(): Promise<void>;
}

export async function openBatchRecords(results: string): Promise<BatchRecords> {
  const resultsLog = await openDurableLog(results);
  const journal = await openDurableLog(journalPath(results));
  return {
    uploaded: ({ storage, sha256, fileUrl, file }) =>
      journal.append({ event: "uploaded", storage, image_sha256: sha256, file_url: fileUrl, file, at: new Date().toISOString() }),
    submitting: (line) =>
      journal.append({ line: line.line, event: "submitting", at: new Date().toISOString(), text_sha256: textHash(line.text) }),
    submitted: (line, requestId) => journal.append({ line: line.line, event: "submitted", request_id: requestId, at: new Date().toISOString() }),
    notSent: (line) => journal.append({ line: line.line, event: "not-sent" }),
    done: (line, requestId, files, output) =>
      resultsLog.append({ line: line.line, status: "done", request_id: requestId, text_sha256: textHash(line.text), files, output }),
    unsaved: (line, requestId, output, error) =>
      resultsLog.append({
        line: line.line,
        status: "unsaved",
        request_id: requestId,
        text_sha256: textHash(line.text),
        save_error: error.message,
        output,
      }),
    failed: (line, requestId, error) =>
      resultsLog.append({ line: line.line, status: "failed", request_id: requestId, text_sha256: textHash(line.text), error: errorJson(error) }),
    async close() {
      await journal.close();
      await resultsLog.close();
    },
  };
}

/** Which text of a line a record is about: a resume warns when the line has been edited since. */
function textHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** An error as a record keeps it: what `toJSON` says is safe to write (never a credential). */
function errorJson(error: unknown): unknown {
  return error instanceof FluxError ? error.toJSON() : { name: "Error", message: String(error) };
}
