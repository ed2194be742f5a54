// The retry schedule: exponential, capped, jittered; Retry-After read in both its forms.
import { describe, expect, it } from "vitest";
import { backoff, retryAfterMs, retryPolicy, sleep } from "../src/core/retry.js";

describe("backoff", () => {
  const policy = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1_000 });

  it("doubles from baseDelayMs, stays within ±25 %, and never passes maxDelayMs", () => {
    expect([0, 1, 2, 3].map((n) => backoff(policy, n, () => 0.5))).toEqual([100, 200, 400, 800]);
    expect(backoff(policy, 0, () => 0)).toBe(75);
    expect(backoff(policy, 0, () => 1)).toBe(125);
    expect(backoff(policy, 10, () => 0.5)).toBe(1_000);
  });

  it("has documented defaults, and false turns retries off", () => {
    expect(retryPolicy(undefined)).toEqual({ maxRetries: 3, baseDelayMs: 500, maxDelayMs: 30_000 });
    expect(retryPolicy(false).maxRetries).toBe(0);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates, and ignores what it cannot read", () => {
    const now = Date.parse("2026-11-24T18:00:00Z");
    expect(retryAfterMs("2", now)).toBe(2_000);
    expect(retryAfterMs("0.5", now)).toBe(500);
    expect(retryAfterMs("Tue, 24 Nov 2026 18:00:03 GMT", now)).toBe(3_000);
    expect(retryAfterMs("Tue, 24 Nov 2026 17:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe("sleep", () => {
  it("rejects with the signal's reason as soon as it aborts", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    const pending = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
