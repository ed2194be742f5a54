// A batch's uploads (src/cli/batch/uploads.ts): each distinct file once, shared by lines that need
// it at once, recorded for a resume, a recorded URL reused only on the storage that holds it.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createBatchUploads, type BatchUploadsOptions } from "../../src/cli/batch/uploads.js";
import { uploadKey } from "../../src/cli/batch/journal.js";

const png = (tail: string) => new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), tail], `${tail}.png`);
const sha256 = async (file: File) => createHash("sha256").update(new Uint8Array(await file.arrayBuffer())).digest("hex");

function uploads(options: Partial<BatchUploadsOptions> = {}, fail = (_: File) => false) {
  const sent: string[] = [];
  const recorded: unknown[] = [];
  const counts = { uploaded: 0, reused: 0 };
  const batch = createBatchUploads({
    storage: {
      async upload(image) {
        const file = image as File;
        sent.push(file.name);
        await new Promise((resolve) => setImmediate(resolve)); // another line may ask meanwhile
        if (fail(file)) throw new Error(`refused ${file.name}`);
        return `https://v3b.fal.media/files/${file.name}`;
      },
    },
    storageName: "https://rest.fal.ai",
    recorded: new Map(),
    records: { uploaded: async (upload) => void recorded.push(upload) },
    counts,
    ...options,
  });
  return { batch, sent, recorded, counts };
}

describe("a batch's uploads", () => {
  it("one upload for the same bytes, even asked for at once under two names; another for other bytes; each recorded", async () => {
    const { batch, sent, recorded, counts } = uploads();
    const signal = new AbortController().signal;
    const urls = await Promise.all([batch.urlOf(png("cat"), signal), batch.urlOf(png("cat"), signal), batch.urlOf(png("dog"), signal)]);
    expect(urls).toEqual(["https://v3b.fal.media/files/cat.png", "https://v3b.fal.media/files/cat.png", "https://v3b.fal.media/files/dog.png"]);
    expect(sent).toEqual(["cat.png", "dog.png"]);
    expect(recorded).toEqual([
      { storage: "https://rest.fal.ai", sha256: await sha256(png("cat")), fileUrl: urls[0], file: "cat.png" },
      { storage: "https://rest.fal.ai", sha256: await sha256(png("dog")), fileUrl: urls[2], file: "dog.png" },
    ]);
    expect(counts).toEqual({ uploaded: 2, reused: 1 });
  });

  it("a URL an earlier run recorded is reused on the same storage only", async () => {
    const recorded = new Map([[uploadKey("the command's stand-in", await sha256(png("cat"))), "https://v3b.fal.media/files/mock/cat.png"]]);
    const onMock = uploads({ storageName: "the command's stand-in", recorded });
    expect(await onMock.batch.urlOf(png("cat"), new AbortController().signal)).toBe("https://v3b.fal.media/files/mock/cat.png");
    expect(onMock.sent).toEqual([]);
    const onFal = uploads({ recorded });
    expect(await onFal.batch.urlOf(png("cat"), new AbortController().signal)).toBe("https://v3b.fal.media/files/cat.png");
    expect(onFal.sent).toEqual(["cat.png"]);
  });

  it("a failed upload fails the lines waiting on it, is not recorded, and is tried again by the next line", async () => {
    let failures = 1;
    const { batch, sent, recorded } = uploads({}, () => failures-- > 0);
    const signal = new AbortController().signal;
    const waiting = await Promise.allSettled([batch.urlOf(png("cat"), signal), batch.urlOf(png("cat"), signal)]);
    expect(waiting.map((w) => w.status)).toEqual(["rejected", "rejected"]);
    expect(recorded).toEqual([]);
    expect(await batch.urlOf(png("cat"), signal)).toBe("https://v3b.fal.media/files/cat.png");
    expect(sent).toEqual(["cat.png", "cat.png"]);
    expect(recorded).toHaveLength(1);
  });
});
