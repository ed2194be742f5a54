// One job from the command line: submitted (or, with --follow, followed), its progress on stderr,
// its images written with --out, its output on stdout.
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandClient, CommandInput, CommandOutput } from "./command-endpoint.js";
import { FluxNetworkError } from "../core/errors.js";
import { goneResult } from "./gone-result.js";
import { stringifyExact } from "../core/seed.js";
import type { QueueStatus } from "../core/types.js";
import type { Progress } from "./progress.js";
import { saveImages } from "./save-images.js";
import { terminalSafe, terminalSafeJson } from "./terminal-text.js";

/** One job, submitted from `job` (a request) or, given its request id, followed from where it is. */
export interface OneJobOptions {
  /** The outputs' name (from the input image). */
  stem: string;
  /** --out */
  out?: string | undefined;
  /** --json */
  json: boolean;
  progress: Progress;
  /** Ctrl-C: the job is cancelled on fal's side. */
  signal: AbortSignal;
}

/** Gives the exit code: 0, or 4 when the images could not be saved. Errors of the job are thrown. */
export async function runOneJob(client: CommandClient, job: CommandInput | string, { stem, out, json, progress, signal }: OneJobOptions): Promise<number> {
  let requestId = typeof job === "string" ? job : undefined;
  const options = {
    signal,
    onQueueUpdate: (status: QueueStatus) => {
      if (status.status === "IN_QUEUE") progress.status(`in queue, position ${status.queue_position ?? "?"}`);
      else if (status.status === "IN_PROGRESS") progress.status(`running${status.logs?.length ? `: ${status.logs.at(-1)!.message}` : ""}`);
    },
  };
  let output: CommandOutput;
  try {
    output =
      typeof job === "string"
        ? await client.follow(job, options)
        : await client.subscribe(job, {
            ...options,
            onEnqueue: (id) => {
              requestId = id;
              progress.log(`request id: ${id}`);
              progress.status("submitted");
            },
          });
  } catch (error) {
    // The job may still complete on fal: say how to fetch it instead of paying for it twice.
    if (requestId && error instanceof FluxNetworkError && !signal.aborted) {
      progress.stop();
      progress.log(`The job may still complete on fal: flux-i2i --live --follow ${requestId} [--out DIR] fetches its result.`);
    }
    const gone = requestId ? goneResult(error, requestId, "Run the request again (without --follow) for a new result: a new job, billed again.") : undefined;
    if (gone) {
      progress.stop();
      progress.log(gone);
    }
    throw error;
  }
  progress.stop();
  let files: string[] | undefined;
  let saveError: Error | undefined;
  if (out !== undefined) {
    files = await saveImages(output, out, { stem, signal, httpOrigin: new URL(client.queueUrl).origin }).catch((error: Error) => {
      if (signal.aborted) throw error;
      saveError = error;
      return undefined;
    });
  }
  if (json) {
    console.log(terminalSafeJson(stringifyExact({ request_id: requestId, files, output }, 2)));
  } else {
    for (const [i, image] of output.images.entries()) {
      if (files) console.log(files[i]);
      else if (!image.url.startsWith("data:")) console.log(terminalSafe(image.url));
      else progress.log(`image ${i}: inline (${image.url.length} characters); --out DIR saves it`);
    }
  }
  const flagged = (output.has_nsfw_concepts ?? []).filter(Boolean).length;
  progress.log(
    `seed ${output.seed}, ${output.images.length} image(s)` +
      (flagged ? progress.paint(`, ${flagged} flagged NSFW`, "yellow") : "") +
      (Object.keys(output.timings ?? {}).length ? `, ${Object.entries(output.timings ?? {}).map(([k, v]) => `${k} ${v} s`).join(", ")}` : ""),
  );
  if (saveError) {
    // The result may expire on fal before a retry (a sync_mode one within minutes): keep it here.
    const kept = await keepOutput(output, requestId);
    progress.log(
      progress.paint(
        `saving the images failed: ${saveError.message}. ` +
          (kept ? `The whole result is kept in ${kept}. ` : "") +
          `flux-i2i --live --follow ${requestId} --out DIR tries again while fal keeps the result`,
        "red",
      ),
    );
    return 4;
  }
  return 0;
}

/** Writes the output (inline images included) to a new file in the system's temporary folder; gives its path, or undefined if that fails too. */
async function keepOutput(output: CommandOutput, requestId: string | undefined): Promise<string | undefined> {
  const path = join(tmpdir(), `flux-i2i-result-${requestId ?? "job"}-${Date.now()}.json`);
  return writeFile(path, stringifyExact(output), { flag: "wx", mode: 0o600 }).then(
    () => path,
    () => undefined,
  );
}
