// What a batch tells: the counts its caller gets (BatchSummary, which the command turns into an
// exit code and --json), the status line, and every message about a line, each outcome counted
// where it is told so that the two cannot disagree.
import { FluxValidationError } from "../../core/errors.js";
import type { Progress } from "../progress.js";
import { bigUploadBytes, uploadDone, uploadShare } from "../upload-progress.js";
import type { BatchPlan } from "./journal.js";

export interface BatchSummary {
  lines: number;
  /** Lines with a result: done in this run or an earlier one. */
  done: number;
  /** Lines whose job fal refused or failed (in the results file with the error). */
  failed: number;
  /** Lines that are not a valid request: reported, not sent. */
  invalid: number;
  /** Their numbers, in the order they were found. */
  invalidLines: number[];
  /** Lines whose submit may have reached fal with no request id recorded: not re-sent unless asked. */
  uncertain: number[];
  /** Lines left for a resume: not reached (interrupted, the key refused) or a network failure. */
  unfinished: number;
  /** Jobs still running on fal when the batch was interrupted; a resume collects them. */
  running: number;
  interrupted: boolean;
  /** fal refused the key: the batch stopped. */
  unauthorized: boolean;
  /** Files this run uploaded to fal storage, and lines that sent a file's URL uploaded already (by this run or an earlier one). */
  uploads: { uploaded: number; reused: number };
  results: string;
  elapsedMs: number;
}

export interface BatchReport {
  readonly summary: BatchSummary;
  /** Where the lines stood when the run began: edited lines, results already there, jobs to follow, uncertain lines. */
  planned(plan: BatchPlan): void;
  /** How many lines are being run now (the status line shows it). */
  running(count: number): void;
  /** The bytes sent of a file being uploaded (the status line shows the uploads under way). */
  uploading(file: string, sentBytes: number, totalBytes: number): void;
  /** A file is on fal storage: a big one is told in a message. */
  uploaded(file: string, bytes: number, elapsedMs: number): void;
  /** Whether the line's job is waiting in fal's queue (the status line counts them). */
  inQueue(line: number, waiting: boolean): void;
  done(line: number, files: string[] | undefined): void;
  /** fal refused the line's submit or failed its job: final. `why`: what it means, when known (a result gone). */
  failed(line: number, error: unknown, why?: string): void;
  /** The line is not a valid request: skipped. */
  invalid(line: number, error: unknown): void;
  /** fal refused the key: the batch stops. */
  keyRefused(line: number, error: unknown): void;
  /** Following the job failed for now: a resume follows it. */
  followLater(line: number, error: unknown, requestId: string): void;
  /** The job is done but its images could not be saved: nothing recorded, a resume fetches them again. */
  saveFailed(line: number, error: Error): void;
  /** The submit provably made no job: a resume sends it. */
  notSubmitted(line: number, error: unknown): void;
  /** The submit may have made a job whose id is unknown: not sent again unless asked. */
  uncertain(line: number, error: unknown): void;
  /** fal refused a submit (429, no job): the batch runs at most `limit` jobs at once and waits `pauseMs`. */
  throttled(limit: number, pauseMs: number): void;
  /** The batch runs `limit` jobs at once again, as asked. */
  recovered(limit: number): void;
  /** Ctrl-C: the submits under way are waited for, so that their ids are recorded. */
  waitingForSubmits(count: number): void;
  /** Clears the status line. */
  stop(): void;
}

export function createBatchReport(progress: Progress, lines: number, results: string): BatchReport {
  const summary = emptySummary(lines, results);
  let running = 0;
  const queued = new Set<number>();
  const uploads = new Map<string, string>();
  const draw = () =>
    progress.status(
      `batch: ${summary.done}/${lines} done, ${running} running` +
        (queued.size ? ` (${queued.size} waiting in fal's queue)` : "") +
        (summary.failed ? `, ${summary.failed} failed` : "") +
        (summary.invalid ? `, ${summary.invalid} invalid` : "") +
        [...uploads.values()].map((share) => `; ${share}`).join(""),
    );
  const warn = (text: string) => progress.log(progress.paint(text, "yellow"));
  const fail = (text: string) => progress.log(progress.paint(text, "red"));

  return {
    summary,
    planned(plan) {
      summary.done += plan.done;
      summary.failed += plan.failed;
      summary.uncertain.push(...plan.uncertain);
      tellPlan(progress, plan, lines, results);
    },
    running(count) {
      running = count;
      draw();
    },
    uploading(file, sentBytes, totalBytes) {
      if (sentBytes < totalBytes) uploads.set(file, uploadShare(file, sentBytes, totalBytes));
      else uploads.delete(file);
      draw();
    },
    uploaded(file, bytes, elapsedMs) {
      uploads.delete(file);
      if (bytes >= bigUploadBytes) progress.log(uploadDone(file, bytes, elapsedMs));
      draw();
    },
    inQueue(line, waiting) {
      if (waiting) queued.add(line);
      else queued.delete(line);
      draw();
    },
    done(line, files) {
      summary.done++;
      progress.log(`line ${line}: done${files ? ` -> ${files.join(", ")}` : ""}`);
    },
    failed(line, error, why) {
      summary.failed++;
      fail(`line ${line}: ${describe(error)}${why ? `\n  ${why}` : ""}`);
    },
    invalid(line, error) {
      summary.invalid++;
      summary.invalidLines.push(line);
      fail(`line ${line}: ${error instanceof FluxValidationError ? describe(error) : (error as Error).message}; skipped`);
    },
    keyRefused(line, error) {
      // The key, not the job: stop, record nothing; a resume with a good key carries on.
      summary.unauthorized = true;
      fail(`line ${line}: ${describe(error)}; stopping the batch`);
    },
    followLater: (line, error, requestId) => fail(`line ${line}: ${describe(error)}; --resume follows job ${requestId}`),
    saveFailed: (line, error) =>
      fail(`line ${line}: done, but saving its images failed (${error.message}); its result is recorded in ${results}, and --resume saves it from there`),
    notSubmitted: (line, error) => fail(`line ${line}: ${describe(error)}; not submitted, --resume sends it`),
    uncertain(line, error) {
      summary.uncertain.push(line);
      warn(`line ${line}: ${describe(error)}; the submit may have reached fal. ${checkHistory}`);
    },
    throttled: (limit, pauseMs) =>
      warn(
        `fal refused a submit (429: over the account's concurrency limit; no job was made): ` +
          `running at most ${limit} job(s) at once, next submit in ${(pauseMs / 1000).toFixed(1)} s`,
      ),
    recovered: (limit) => progress.log(`fal accepts submits again: back to ${limit} job(s) at once`),
    waitingForSubmits: (count) => progress.log(`waiting for ${count} submit(s) under way, to record their request ids...`),
    stop: () => progress.stop(),
  };
}

/** Where the lines stood when the run began, told: edited lines, results already there, jobs to follow, uncertain lines. */
function tellPlan(progress: Progress, plan: BatchPlan, lines: number, results: string): void {
  const warn = (text: string) => progress.log(progress.paint(text, "yellow"));
  for (const line of plan.changed) {
    warn(`line ${line} has changed since an earlier run sent it: what that run recorded for it stands. To send the new text, put it on a line of its own.`);
  }
  if (plan.done + plan.failed) {
    progress.log(`${plan.done + plan.failed} of ${lines} lines already have a result in ${results}` + (plan.failed ? ` (${plan.failed} failed: not sent again)` : ""));
  }
  if (plan.save.length) progress.log(`saving the images of ${plan.save.length} result(s) an earlier run recorded but could not save (fal is not asked again)`);
  if (plan.follow.length) progress.log(`following ${plan.follow.length} job(s) submitted by an earlier run`);
  for (const line of plan.uncertain) {
    warn(`line ${line}: its submit may have reached fal but no request id was recorded (the batch stopped in that instant). ${checkHistory}`);
  }
}

const checkHistory = "Not sent again: check fal's request history, then run with --resume --resend-uncertain to send it.";

function emptySummary(lines: number, results: string): BatchSummary {
  return {
    lines, done: 0, failed: 0, invalid: 0, invalidLines: [], uncertain: [], unfinished: 0, running: 0,
    interrupted: false, unauthorized: false, uploads: { uploaded: 0, reused: 0 }, results, elapsedMs: 0,
  };
}

function describe(error: unknown): string {
  if (error instanceof FluxValidationError) return error.issues.map((i) => `${i.field}: ${i.message}`).join("; ");
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
