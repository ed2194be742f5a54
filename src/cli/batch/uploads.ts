// A batch's uploads: each distinct file (by its bytes' SHA-256) goes to fal storage once, however
// many lines name it and whichever path they name it by, and its URL is recorded in the journal, so
// that a resume sends the recorded URL instead of uploading the file again. Two lines that need the
// same file at once share one upload.
import { createHash } from "node:crypto";
import type { FluxStorage } from "../../queue/client.js";
import { uploadKey, type BatchRecords } from "./journal.js";

export interface BatchUploadsOptions {
  storage: Pick<FluxStorage, "upload">;
  /**
   * Which storage the URLs live on, as the journal records it: a recorded URL is reused only on the
   * same one (a mock run's URLs are never sent to fal).
   */
  storageName: string;
  /** URLs that earlier runs recorded, by {@link uploadKey}. */
  recorded: ReadonlyMap<string, string>;
  records: Pick<BatchRecords, "uploaded">;
  /** Counted in: files this run uploaded, and lines it spared an upload (a file uploaded already, now or by an earlier run). */
  counts: { uploaded: number; reused: number };
  /** Told the bytes sent of each upload under way, by file name. */
  onProgress?: (file: string, sentBytes: number, totalBytes: number) => void;
  /** Told each upload that finished: the file, its size and how long it took. */
  onUploaded?: (file: string, bytes: number, elapsedMs: number) => void;
}

export interface BatchUploads {
  /** The file's URL on fal storage: recorded by an earlier run, being uploaded for another line, or uploaded now and recorded. */
  urlOf(file: File, signal: AbortSignal): Promise<string>;
}

export function createBatchUploads(options: BatchUploadsOptions): BatchUploads {
  const urls = new Map<string, Promise<string>>();
  for (const [key, url] of options.recorded) urls.set(key, Promise.resolve(url));
  // The flags' image is one File that every line without its own shares: hashed once.
  const hashes = new WeakMap<File, Promise<string>>();
  const { counts } = options;

  async function upload(file: File, sha256: string, signal: AbortSignal): Promise<string> {
    const started = performance.now();
    const onProgress = options.onProgress;
    const fileUrl = await options.storage.upload(file, { signal, onProgress: onProgress && ((sent, total) => onProgress(file.name, sent, total)) });
    counts.uploaded++;
    options.onUploaded?.(file.name, file.size, performance.now() - started);
    await options.records.uploaded({ storage: options.storageName, sha256, fileUrl, file: file.name });
    return fileUrl;
  }

  return {
    async urlOf(file, signal) {
      let hash = hashes.get(file);
      if (!hash) hashes.set(file, (hash = sha256Of(file)));
      const sha256 = await hash;
      // From here to urls.set, no await: a second line with the same file finds this upload.
      const key = uploadKey(options.storageName, sha256);
      const known = urls.get(key);
      if (known) {
        counts.reused++;
        return known;
      }
      const uploading = upload(file, sha256, signal);
      urls.set(key, uploading);
      // A failed upload is forgotten: the next line that needs the file tries again.
      uploading.catch(() => urls.delete(key));
      return uploading;
    },
  };
}

/** The SHA-256 of a file's bytes, read as a stream (a disk-backed File is never held whole). */
async function sha256Of(file: File): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of file.stream() as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest("hex");
}
