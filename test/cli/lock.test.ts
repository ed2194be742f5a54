// The batch lock: taken by one process of many starting at once (each step atomic), a stale one
// (its process gone) taken over, and released.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lockBatch } from "../../src/cli/batch/journal.js";

const dir = mkdtempSync(join(tmpdir(), "flux-i2i-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("lockBatch", () => {
  it("of many taking it at once, exactly one holds it; the lock never appears without its pid", async () => {
    for (let round = 0; round < 20; round++) {
      const results = join(dir, `race-${round}.jsonl`);
      const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => lockBatch(results)));
      const held = outcomes.filter((o) => o.status === "fulfilled") as PromiseFulfilledResult<() => void>[];
      expect(held).toHaveLength(1);
      for (const refused of outcomes.filter((o) => o.status === "rejected")) {
        expect(String((refused as PromiseRejectedResult).reason)).toContain(`another flux-i2i (pid ${process.pid})`);
      }
      expect(readFileSync(`${results}.lock`, "utf8")).toBe(String(process.pid));
      held[0]!.value();
      expect(existsSync(`${results}.lock`)).toBe(false);
    }
    expect(readdirSync(dir)).toEqual([]); // no stray files of the attempts
  });

  it("a lock whose process is gone is taken over", async () => {
    const gone = spawnSync(process.execPath, ["-e", "process.exit(0)"]).pid!;
    const results = join(dir, "stale.jsonl");
    writeFileSync(`${results}.lock`, String(gone));
    const release = await lockBatch(results);
    expect(readFileSync(`${results}.lock`, "utf8")).toBe(String(process.pid));
    release();
  });
});
