// A JSONL file that records survive: each append is written and fsync'd before it resolves, so a
// record a batch relies on (a submit about to go out, a request id, a result) outlives a SIGKILL
// or a power cut that comes after it. Records that arrive together share one write and one sync.
import { constants } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { stringifyExact, withExactSeed } from "../core/seed.js";

export interface DurableLog {
  /** Appends one record as a line; resolves once it is on disk. Appends are written in call order, those waiting together in one write and one fdatasync. */
  append(record: unknown): Promise<void>;
  close(): Promise<void>;
}

export async function openDurableLog(path: string): Promise<DurableLog> {
  const existed = await stat(path).then(
    () => true,
    () => false,
  );
  const handle: FileHandle = await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | noFollow, 0o644).catch(refuseSymlink(path));
  // A new file's name is in its folder, which must reach the disk too for the file to outlive a power cut.
  if (!existed) await syncFolder(dirname(path));
  const { size } = await handle.stat();
  // A process killed mid-write leaves a torn last line: start after it, on a line of our own.
  let tornLine = false;
  if (size > 0) {
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    tornLine = last[0] !== 0x0a;
  }
  let waiting: { line: string; settle: (error?: unknown) => void }[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;

  /**
   * Group commit: every record that arrived while the last write and fdatasync ran goes out in one
   * write and one fdatasync. At 32 jobs at once a request id is durable within about one sync of
   * its answer, instead of waiting behind each record ahead of it, one sync each.
   */
  async function flush(): Promise<void> {
    while (waiting.length) {
      const group = waiting;
      waiting = [];
      try {
        await handle.write(`${tornLine ? "\n" : ""}${group.map((entry) => entry.line).join("")}`);
        tornLine = false;
        await handle.datasync();
        for (const entry of group) entry.settle();
      } catch (error) {
        for (const entry of group) entry.settle(error);
      }
    }
    flushing = undefined;
  }

  return {
    append(record) {
      // After close (a batch that has ended), a late record is not written: it never settles.
      if (closed) return new Promise<void>(() => undefined);
      const line = `${stringifyExact(record)}\n`;
      return new Promise<void>((resolve, reject) => {
        waiting.push({ line, settle: (error) => (error === undefined ? resolve() : reject(error as Error)) });
        flushing ??= flush();
      });
    },
    async close() {
      closed = true;
      await flushing;
      await handle.close();
    },
  };
}

/** The records of a JSONL file (none if it does not exist); a line that is not JSON (torn by a kill) is skipped. */
export async function readRecords(path: string): Promise<Record<string, unknown>[]> {
  const handle = await open(path, constants.O_RDONLY | noFollow).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    return refuseSymlink(path)(error);
  });
  const text = handle ? await handle.readFile("utf8").finally(() => handle.close()) : "";
  const records: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const record: unknown = JSON.parse(line);
      if (record !== null && typeof record === "object" && !Array.isArray(record)) {
        // An output's seed read with every digit, as it was written.
        withExactSeed((record as { output?: unknown }).output, line, ["output"]);
        records.push(record as Record<string, unknown>);
      }
    } catch {
      // torn
    }
  }
  return records;
}

/**
 * The results file and the journal are opened without following a symbolic link: one planted in
 * their place (pointing at ~/.bashrc, say) would have the batch append to its target. Where the
 * platform has no O_NOFOLLOW (Windows), there is none to follow.
 */
const noFollow = constants.O_NOFOLLOW ?? 0;

function refuseSymlink(path: string) {
  return (error: NodeJS.ErrnoException): never => {
    if (error.code === "ELOOP") throw new Error(`${path} is a symbolic link: refusing to write through it (give the real file)`);
    throw error;
  };
}

async function syncFolder(path: string): Promise<void> {
  // Some platforms (Windows) cannot open or sync a folder; the file's own fsyncs still hold there.
  const folder = await open(path, "r").catch(() => undefined);
  await folder?.sync().catch(() => undefined);
  await folder?.close();
}
