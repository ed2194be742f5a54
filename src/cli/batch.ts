// --batch FILE.jsonl: one job per line, a bounded number at a time, each result appended to a
// results file as it completes. A journal records each submit before it goes out and its request id
// as soon as fal returns it, so that a batch killed at any point and resumed neither loses a line
// nor submits one twice: a recorded job is followed to its result, not submitted again.
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Endpoint } from "../core/types.js";
import type { CommandClient } from "./command-endpoint.js";
import { createLineRunner } from "./batch/line.js";
import { lockBatch, openBatchRecords, planLines, readEarlierRuns, type BatchLine } from "./batch/journal.js";
import { createBatchReport, type BatchSummary } from "./batch/report.js";
import { createScheduler } from "./batch/scheduler.js";
import { createBatchUploads } from "./batch/uploads.js";
import type { Progress } from "./progress.js";
import { UsageError } from "./usage-error.js";

export type { BatchSummary };

export interface BatchOptions {
  file: string;
  /** Request parameters from the flags, the image already read; a line's own values win. */
  defaults: Readonly<Record<string, unknown>>;
  /** The outputs' name for lines that take the flags' image. */
  defaultStem?: string;
  client: CommandClient;
  /** The endpoint (its entry): each line is checked by its rules. */
  endpoint: Endpoint;
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
  /**
   * Where local images go: uploaded to fal storage, each distinct file once, and recorded in the
   * journal under this name of the storage (a resume on the same one reuses the URLs); undefined
   * (--inline): sent as data URIs.
   */
  uploadTo: string | undefined;
  /** Ctrl-C: no new submit starts; submits under way finish so that their ids are recorded. */
  interrupt: AbortSignal;
}

/**
 * Runs the batch: its lines planned from what earlier runs recorded (./batch/journal.ts), run by
 * the scheduler (./batch/scheduler.ts), each line taken from its text to its record by
 * ./batch/line.ts, and told and counted by the report (./batch/report.ts).
 */
export async function runBatch(options: BatchOptions): Promise<BatchSummary> {
  const started = performance.now();
  const lines = await readLines(options.file);
  await lockBatch(options.results);
  const earlier = await readEarlierRuns(options.results, options.resume);
  const plan = planLines(lines, earlier, options.resendUncertain);
  const report = createBatchReport(options.progress, lines.length, options.results);
  report.planned(plan);

  const records = await openBatchRecords(options.results);
  const stopping = () => options.interrupt.aborted || report.summary.unauthorized;
  const scheduler = createScheduler({
    concurrency: options.concurrency,
    interrupt: options.interrupt,
    stopping,
    onRunning: report.running,
    onWaiting: report.waitingForSubmits,
    onThrottled: report.throttled,
    onRecovered: report.recovered,
  });
  const uploads =
    options.uploadTo === undefined
      ? undefined
      : createBatchUploads({
          storage: options.client.storage,
          storageName: options.uploadTo,
          recorded: earlier.uploads,
          records,
          counts: report.summary.uploads,
          onProgress: report.uploading,
          onUploaded: report.uploaded,
        });
  const runLine = createLineRunner({
    client: options.client,
    endpoint: options.endpoint,
    records,
    report,
    scheduler,
    defaults: options.defaults,
    defaultStem: options.defaultStem,
    baseDir: dirname(options.file),
    uploads,
    out: options.out,
    stopping,
    signal: options.interrupt,
  });

  const { summary } = report;
  try {
    const { interrupted, running } = await scheduler.run([...plan.save, ...plan.follow, ...plan.submit], runLine);
    summary.interrupted = interrupted;
    if (interrupted) summary.running = running;
  } finally {
    report.stop();
    // Interrupted, jobs still being followed may append later: the files stay open until the process exits.
    if (!options.interrupt.aborted) await records.close();
  }
  summary.unfinished = summary.lines - summary.done - summary.failed - summary.invalid - summary.uncertain.length;
  summary.elapsedMs = performance.now() - started;
  return summary;
}

/** The batch file's lines that have text, numbered as in the file. */
async function readLines(file: string): Promise<BatchLine[]> {
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--batch: cannot read ${file} (${error.code ?? error.message})`);
  });
  return text
    .split("\n")
    .map((lineText, i) => ({ line: i + 1, text: lineText.trim() }))
    .filter((line) => line.text);
}
