// The batch's scheduler when fal refuses submits (429, no job): the refused line runs again, the
// limit halves and new starts pause, each refusal in a row doubles the pause, and accepted submits
// bring the limit back up to --concurrency. Jobs end when the test says, never on a timer.
import { describe, expect, it } from "vitest";
import { createScheduler, maxSubmitsAtOnce, type SchedulerOptions } from "../../src/cli/batch/scheduler.js";
import { waitFor } from "../support/wait.js";

function scheduler(concurrency: number, more: Partial<SchedulerOptions> = {}) {
  const throttled: [number, number][] = [];
  const recovered: number[] = [];
  const interrupt = new AbortController();
  const s = createScheduler({
    concurrency,
    interrupt: interrupt.signal,
    stopping: () => interrupt.signal.aborted,
    onRunning: () => undefined,
    onWaiting: () => undefined,
    onThrottled: (limit, pauseMs) => throttled.push([limit, pauseMs]),
    onRecovered: (limit) => recovered.push(limit),
    pauseMs: 1,
    ...more,
  });
  return { s, throttled, recovered, interrupt };
}

/** An account that runs at most `limit` jobs at once (`setLimit` changes it); each job runs until `finish()` ends the oldest. */
function account(initialLimit: number) {
  let limit = initialLimit;
  const running: (() => void)[] = [];
  let most = 0;
  const started: string[] = [];
  return {
    started,
    most: () => most,
    /** Submits a job: refused when the account is full, else runs until finished. */
    async submit(item: string, accepted: () => void): Promise<"refused" | void> {
      if (running.length >= limit) return "refused";
      started.push(item);
      accepted();
      most = Math.max(most, running.length + 1);
      await new Promise<void>((resolve) => running.push(resolve));
    },
    finish: () => running.shift()?.(),
    setLimit: (value: number) => void (limit = value),
    get runningCount() {
      return running.length;
    },
  };
}

/** Resolves once `check` holds, looking after every turn of the event loop (no fixed sleep). */
async function until(check: () => boolean) {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

describe("the batch scheduler meets 429s", () => {
  it("a refused line runs again; the limit halves, then accepted submits raise it back to --concurrency", async () => {
    const fal = account(2);
    const { s, throttled, recovered } = scheduler(4);
    const items = Array.from({ length: 16 }, (_, i) => `line ${String(i + 1).padStart(2, "0")}`);
    const done = s.run(items, (item) => fal.submit(item, s.accepted));
    // Four start at once, fal takes two: two refusals, the limit goes 4 -> 2 -> 1, the pause doubles.
    await until(() => throttled.length === 2 && fal.runningCount === 2);
    expect(throttled).toEqual([
      [2, 1],
      [1, 2],
    ]);
    // The account frees up; as jobs end, each accepted submit earns the limit back a step, up to 4.
    fal.setLimit(4);
    while (fal.started.length < items.length || fal.runningCount) {
      fal.finish();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await done;
    expect([...fal.started].sort()).toEqual(items);
    expect(throttled).toHaveLength(2);
    expect(recovered).toEqual([4]);
  });

  it("twelve lines through an account that takes one at a time: every line once, the refused ones run again", async () => {
    const fal = account(1);
    const { s } = scheduler(8);
    const items = Array.from({ length: 12 }, (_, i) => String(i));
    const done = s.run(items, (item) => fal.submit(item, s.accepted));
    await until(() => fal.runningCount === 1);
    while (fal.started.length < items.length || fal.runningCount) {
      fal.finish();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await done;
    expect(fal.most()).toBe(1);
    expect(fal.started).toHaveLength(12);
  });

  it("each refusal in a row doubles the pause, up to maxPauseMs; an accepted submit resets it", async () => {
    let refusals = 3;
    const { s, throttled } = scheduler(1, { pauseMs: 1, maxPauseMs: 3 });
    await s.run(["a", "b"], async (item) => {
      if (item === "a" && refusals-- > 0) return "refused";
      s.accepted();
    });
    expect(throttled).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
  });

  it("Ctrl-C during a pause ends the run at once, the refused line not started again", async () => {
    let calls = 0;
    const { s, interrupt } = scheduler(2, { pauseMs: 60_000 });
    const run = s.run(["a"], async () => {
      calls++;
      return "refused";
    });
    await until(() => calls === 1);
    interrupt.abort();
    await expect(run).resolves.toEqual({ interrupted: true, running: 0 });
    expect(calls).toBe(1);
  });
});

describe("submits at once", () => {
  it("at most maxSubmitsAtOnce between their journal records, whatever the concurrency; one queued when the batch stops is not run", async () => {
    const { s, interrupt } = scheduler(32);
    let inFlight = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const ran: number[] = [];
    const submitting = Array.from({ length: 6 }, (_, n) =>
      s.submit(async () => {
        ran.push(n);
        most = Math.max(most, ++inFlight);
        await new Promise<void>((resolve) => release.push(resolve));
        inFlight--;
        return n;
      }),
    );
    await waitFor(() => release.length === maxSubmitsAtOnce);
    expect(ran).toEqual([0, 1]);
    release.shift()!();
    await waitFor(() => release.length === maxSubmitsAtOnce);
    interrupt.abort();
    while (release.length) release.shift()!();
    const outcomes = await Promise.all(submitting);
    expect(most).toBe(maxSubmitsAtOnce);
    expect(ran).toEqual([0, 1, 2]);
    expect(outcomes).toEqual([0, 1, 2, undefined, undefined, undefined]);
  });
});
