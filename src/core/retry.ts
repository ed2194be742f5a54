/** How the queue calls retry. A submit is billed, so it follows stricter rules (see `src/queue/calls.ts`). */
export interface RetryOptions {
  /**
   * Retries after the first attempt. Default 3: with the default delays a call gives up after about
   * 3.5 s of waiting, long enough to ride out a runner being rescheduled, short enough to surface an
   * outage.
   */
  maxRetries?: number;
  /** The first wait; each further one doubles, with ±25 % jitter so that many clients do not retry in step. Default 500 ms. */
  baseDelayMs?: number;
  /**
   * The longest single wait. A `Retry-After` longer than this is not waited out: the error is
   * thrown instead, so a caller is never parked for minutes unasked. Default 30 000 ms.
   */
  maxDelayMs?: number;
}

export type RetryPolicy = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions | false | undefined): RetryPolicy {
  if (options === false) return { maxRetries: 0, baseDelayMs: 0, maxDelayMs: 0 };
  return { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 30_000, ...options };
}

/** The wait before retry number `attempt` (0 for the first): exponential, capped, jittered. */
export function backoff(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling * (0.75 + random() * 0.5));
}

/** `Retry-After` in ms (seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener("abort", abort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", abort, { once: true });
  });
}
