// The batch's records: appended in order, and a line torn by a kill neither read nor glued to the next.
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, type FileHandle } from "node:fs/promises";
import { afterAll, expect, it, vi } from "vitest";
import { openDurableLog, readRecords } from "../../src/cli/durable-log.js";

const dir = mkdtempSync(join(tmpdir(), "flux-i2i-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("appends in call order, bigints with every digit; a torn last line is skipped and the next record starts on its own line", async () => {
  const path = join(dir, "log.jsonl");
  writeFileSync(path, '{"line":1}\n{"line":2,"sta');
  const log = await openDurableLog(path);
  await Promise.all([log.append({ line: 3, seed: 15860307465884635512n }), log.append({ line: 4 })]);
  await log.close();
  expect(readFileSync(path, "utf8")).toBe('{"line":1}\n{"line":2,"sta\n{"line":3,"seed":15860307465884635512}\n{"line":4}\n');
  expect((await readRecords(path)).map((r) => r.line)).toEqual([1, 3, 4]);
  expect(await readRecords(join(dir, "none.jsonl"))).toEqual([]);
});

it("a symbolic link planted in place of the results file or journal is refused, and its target left alone", async () => {
  const target = join(dir, "bashrc");
  writeFileSync(target, "export PATH=/usr/bin\n");
  const planted = join(dir, "planted.jsonl");
  symlinkSync(target, planted);
  await expect(openDurableLog(planted)).rejects.toThrow("is a symbolic link: refusing to write through it");
  await expect(readRecords(planted)).rejects.toThrow("is a symbolic link");
  expect(readFileSync(target, "utf8")).toBe("export PATH=/usr/bin\n");
});

it("records that arrive while a sync runs share the next write and fdatasync (group commit), in call order", async () => {
  const path = join(dir, "grouped.jsonl");
  const log = await openDurableLog(path);
  const probe = await open(path, "r");
  const syncs = vi.spyOn(Object.getPrototypeOf(probe) as FileHandle, "datasync");
  await probe.close();
  try {
    await Promise.all(Array.from({ length: 50 }, (_, line) => log.append({ line })));
    // The first record goes out alone; the 49 that came while it synced, together.
    expect(syncs.mock.calls.length).toBeLessThanOrEqual(2);
  } finally {
    syncs.mockRestore();
  }
  await log.close();
  expect((await readRecords(path)).map((r) => r.line)).toEqual(Array.from({ length: 50 }, (_, line) => line));
});

it("a torn last line is ended before the first group, and a failed write rejects every record of its group", async () => {
  const path = join(dir, "torn-group.jsonl");
  writeFileSync(path, '{"line":1,"sta');
  const log = await openDurableLog(path);
  await Promise.all([log.append({ line: 2 }), log.append({ line: 3 })]);
  expect(readFileSync(path, "utf8")).toBe('{"line":1,"sta\n{"line":2}\n{"line":3}\n');
  const probe = await open(path, "r");
  const write = vi.spyOn(Object.getPrototypeOf(probe) as FileHandle, "write").mockRejectedValue(new Error("ENOSPC"));
  await probe.close();
  try {
    const results = await Promise.allSettled([log.append({ line: 4 }), log.append({ line: 5 })]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  } finally {
    write.mockRestore();
  }
  await log.append({ line: 6 });
  await log.close();
  expect((await readRecords(path)).map((r) => r.line)).toEqual([2, 3, 6]);
});
