// A call's time limit joined with the caller's signals (src/core/time-limit.ts), which stands in
// for AbortSignal.timeout and AbortSignal.any on the hot path: the same aborts and reasons, and
// nothing left behind once it is cleared.
import { getEventListeners, once } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { timeLimit } from "../src/core/time-limit.js";

describe("timeLimit", () => {
  it("passes: aborts with a TimeoutError, as AbortSignal.timeout does, and says it expired", async () => {
    const limit = timeLimit(5);
    await once(limit.signal, "abort");
    expect(limit.expired).toBe(true);
    expect(limit.signal.reason).toBeInstanceOf(DOMException);
    expect((limit.signal.reason as DOMException).name).toBe("TimeoutError");
  });

  it("a joined signal that aborts aborts it with that signal's reason; it did not expire", () => {
    const caller = new AbortController();
    const limit = timeLimit(60_000, [undefined, caller.signal]);
    const reason = new Error("the user left");
    caller.abort(reason);
    expect(limit.signal.aborted).toBe(true);
    expect(limit.signal.reason).toBe(reason);
    expect(limit.expired).toBe(false);
    limit.clear();
  });

  it("a signal aborted already aborts it at once", () => {
    const limit = timeLimit(undefined, [AbortSignal.abort("gone")]);
    expect(limit.signal.reason).toBe("gone");
  });

  it("cleared: its listener leaves the caller's long-lived signal, and its timer never fires", () => {
    vi.useFakeTimers();
    try {
      const caller = new AbortController();
      const limit = timeLimit(1, [caller.signal]);
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(1);
      limit.clear();
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
      vi.advanceTimersByTime(10); // past the limit: a timer still set would fire here
      expect(limit.signal.aborted).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
