// The batch's records: appended in order, and a line torn by a kill neither read nor glued to the next.
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
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
