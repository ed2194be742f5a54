// A followed job whose result is gone, in words: cancelled while it ran (499), or no longer known to
// fal (404: expired, or a wrong id). Both --follow and --resume say which, and what to do.
import { resultRetention } from "../../generated/spec.js";
import { FluxApiError } from "../core/errors.js";

/** A duration in the largest whole unit that reads well: 30 days, 120 minutes, 30 seconds. */
function duration(seconds: number): string {
  if (seconds >= 2 * 86400) return `${Math.round(seconds / 86400)} days`;
  if (seconds >= 120) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds)} seconds`;
}

/**
 * Why job `requestId` has no result to fetch, when `error` says it has none; undefined otherwise.
 * `again` says how to run the request anew (a new job, billed again); `submittedAt` (ISO 8601),
 * when known, how long ago it was submitted.
 */
export function goneResult(error: unknown, requestId: string, again: string, submittedAt?: string, now = Date.now()): string | undefined {
  if (!(error instanceof FluxApiError)) return undefined;
  if (error.status === 499) {
    return `job ${requestId} was cancelled while it ran (fal answers 499): it has no result. ${again}`;
  }
  if (error.status !== 404) return undefined;
  const age = submittedAt ? (now - Date.parse(submittedAt)) / 1000 : Number.NaN;
  const ago = Number.isFinite(age) ? `, submitted ${duration(age)} ago` : "";
  const likely = Number.isFinite(age) && age > resultRetention.seconds ? "has most likely expired" : "may have expired";
  return (
    `fal no longer knows job ${requestId}${ago}: its result ${likely} (fal keeps a request's output ${duration(resultRetention.seconds)}, ` +
    `none when it was sent with X-Fal-Store-IO: 0), or the id is wrong. Nothing can fetch it now. ${again}`
  );
}
