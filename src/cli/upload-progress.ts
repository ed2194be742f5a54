// How the command tells an upload to fal storage on stderr: on a terminal the status line shows the
// share sent; the end of a big file's upload is also told in a message (size, time, rate), which
// stays in a log where the status line does not; a single job also says where its photo goes.
import type { Progress } from "./progress.js";

/** From this size an upload is told in messages: at 10 Mbit/s up, 8 MiB takes about 7 s. */
export const bigUploadBytes = 8 * 1024 * 1024;

export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The status line's words for an upload under way. */
export function uploadShare(file: string, sentBytes: number, totalBytes: number): string {
  const percent = totalBytes ? Math.floor((sentBytes / totalBytes) * 100) : 100;
  return `uploading ${file}: ${mebibytes(sentBytes)} of ${mebibytes(totalBytes)} (${percent}%)`;
}

/** The message once an upload is done: its size, time and rate. */
export function uploadDone(file: string, bytes: number, elapsedMs: number): string {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  return `uploaded ${file} (${mebibytes(bytes)}) in ${seconds.toFixed(1)} s, ${mebibytes(bytes / seconds)}/s`;
}

/**
 * The single job's upload told through `progress`: where the photo goes, always (it leaves the
 * machine); the share sent; a big file's end. Give `onProgress` to the upload, and call `done` when
 * it has succeeded. (A batch tells its uploads in its own status line.)
 */
export function tellUpload(progress: Progress, file: File, where: string) {
  const started = performance.now();
  const big = file.size >= bigUploadBytes;
  progress.log(`uploading ${file.name} (${mebibytes(file.size)}) to ${where} before the submit...`);
  return {
    onProgress: (sentBytes: number, totalBytes: number) => progress.status(uploadShare(file.name, sentBytes, totalBytes)),
    done() {
      progress.status("");
      if (big) progress.log(uploadDone(file.name, file.size, performance.now() - started));
    },
  };
}
