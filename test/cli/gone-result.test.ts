// What --follow and --resume say of a result that is gone: the spec's retention figure, the job's
// age when the journal knows it, and nothing for an error that is not about a gone result.
import { describe, expect, it } from "vitest";
import { resultRetention } from "../../generated/spec.js";
import { goneResult } from "../../src/cli/gone-result.js";
import { FluxApiError } from "../../src/core/errors.js";

const answer = (status: number) => new FluxApiError({ status, body: { detail: "x" }, errorType: undefined, requestId: "r", retryable: false });
const now = Date.parse("2026-11-29T12:00:00Z");

describe("goneResult", () => {
  it("499: cancelled while it ran, with the caller's advice", () => {
    expect(goneResult(answer(499), "r-1", "Do X.")).toBe("job r-1 was cancelled while it ran (fal answers 499): it has no result. Do X.");
  });

  it("404 with a submit time past the retention: most likely expired, with its age and the spec's figure", () => {
    const submitted = new Date(now - (resultRetention.seconds + 86400) * 1000).toISOString();
    const text = goneResult(answer(404), "r-2", "Do X.", submitted, now)!;
    expect(text).toContain(`fal no longer knows job r-2, submitted ${resultRetention.seconds / 86400 + 1} days ago: its result has most likely expired`);
    expect(text).toContain(`fal keeps a request's output ${resultRetention.seconds / 86400} days, none when it was sent with X-Fal-Store-IO: 0`);
    expect(text.endsWith("Do X.")).toBe(true);
  });

  it("404 submitted seconds, minutes or hours ago, or at an unknown time: it only may have expired", () => {
    expect(goneResult(answer(404), "r-3", "", "2026-11-29T11:59:30Z", now)).toContain("submitted 30 seconds ago: its result may have expired");
    expect(goneResult(answer(404), "r-3", "", "2026-11-29T10:00:00Z", now)).toContain("submitted 120 minutes ago: its result may have expired");
    expect(goneResult(answer(404), "r-3", "")).toContain("fal no longer knows job r-3: its result may have expired");
  });

  it("any other error is not about a gone result", () => {
    expect(goneResult(answer(500), "r", "")).toBeUndefined();
    expect(goneResult(new Error("404"), "r", "")).toBeUndefined();
  });
});
