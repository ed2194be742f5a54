// A followed job whose result is gone, in words: cancelled while it ran (499), or no longer known to
// fal (404: expired, or a wrong id). Both --follow and --resume say which, and what to do.
import { resultRetention } from "../../generated/spec.js";
import { FluxApiError } from "../errors.js";

const minutes = (seconds: number) => `${Math.round(seconds / 60)} minutes`;

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
  const { seconds, largeResultSeconds, largeResultBytes } = resultRetention;
  const ago = Number.isFinite(age) ? `, submitted ${age < 120 ? `${Math.round(age)} seconds` : minutes(age)} ago` : "";
  const likely = Number.isFinite(age) && age > largeResultSeconds ? "has most likely expired" : "may have expired";
  return (
    `fal no longer knows job ${requestId}${ago}: its result ${likely} (fal keeps a result ${minutes(seconds)}, ` +
    `${minutes(largeResultSeconds)} when it is ${largeResultBytes / 1024} KB or more, as a sync_mode result with its images inline is), ` +
    `or the id is wrong. Nothing can fetch it now. ${again}`
  );
}
