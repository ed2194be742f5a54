// Turns what went wrong on the wire into this client's typed errors (redacted where they leave the client: src/core/redaction.ts).
import { finalWhenHeaders } from "../../generated/spec.js";
import { FluxApiError, FluxNetworkError, FluxRedirectError, FluxTimeoutError, type FalErrorBody } from "./errors.js";

/**
 * fal's error answer as a {@link FluxApiError}. `retryableByStatus` is the spec's `x-retryable` for
 * the operation; `X-Fal-Retryable` overrides it, and a header the spec's `x-final-when` names (a 504
 * whose `X-Fal-Request-Timeout-Type` is `user`) overrides both. `jobId` stands in for
 * `x-fal-request-id` on queue calls, whose answers may not carry it.
 */
export function apiError(
  response: Response,
  body: unknown,
  retryableByStatus: Readonly<Record<number, boolean>>,
  /** Whether the call carried a key: a 401 without one says how to give it. */
  keyGiven: boolean,
  jobId?: string,
): FluxApiError {
  const header = (name: string) => response.headers.get(name) ?? undefined;
  const retryable = header("x-fal-retryable");
  const safe = body as FalErrorBody | string | undefined;
  const bodyType = safe !== null && typeof safe === "object" && "error_type" in safe ? safe.error_type : undefined;
  const final = Object.entries(finalWhenHeaders[response.status] ?? {}).find(([name, value]) => header(name) === value);
  if (isRedirect(response)) {
    const location = header("location");
    return new FluxRedirectError({
      status: response.status,
      body: safe === "" ? undefined : safe,
      errorType: header("x-fal-error-type"),
      requestId: header("x-fal-request-id") ?? jobId,
      retryable: false,
      location: location === undefined ? undefined : location.length > 300 ? `${location.slice(0, 300)}…` : location,
    });
  }
  return new FluxApiError({
    status: response.status,
    body: safe === "" ? undefined : safe,
    errorType: header("x-fal-error-type") ?? bodyType,
    requestId: header("x-fal-request-id") ?? jobId,
    timeoutType: header("x-fal-request-timeout-type"),
    retryable: final ? false : retryable ? retryable === "true" : (retryableByStatus[response.status] ?? response.status >= 500),
    hint: final
      ? (finalHints[final[0]] ?? `${final[0]}: ${final[1]}; not retried`)
      : response.status === 401 && !keyGiven
        ? "no credentials were given: set FAL_KEY, or FAL_KEY_ID and FAL_KEY_SECRET, or pass credentials"
        : undefined,
  });
}

/**
 * A redirect, which the client never follows (every request it sends says `redirect: "manual"`):
 * a 3xx, or in a browser the opaque answer that stands for one.
 */
function isRedirect(response: Response): boolean {
  return response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400);
}

/** Why a header the spec's `x-final-when` names makes an answer final, in words. */
const finalHints: Record<string, string> = {
  "x-fal-request-timeout-type":
    "X-Fal-Request-Timeout-Type: user: no runner started the request within its startTimeoutSeconds, so fal ended it; not retried, the deadline was the caller's",
};

/** A body as JSON if it is JSON, else the text itself (a proxy's HTML page, a truncated answer). */
export function parseErrorBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A transport failure (refused, reset, timed out) as a {@link FluxNetworkError}. */
export function networkError(
  error: unknown,
  url: string,
  options: { timedOutAfterMs?: number; jobId?: string } = {},
): FluxNetworkError {
  const origin = new URL(url).origin;
  if (options.timedOutAfterMs !== undefined) {
    return new FluxTimeoutError(`no answer from ${origin} within ${options.timedOutAfterMs} ms`, {
      cause: error,
      requestId: options.jobId,
    });
  }
  const cause = error as { message?: string; cause?: { code?: string; message?: string } };
  const reason =
    cause.cause?.message === "bad port"
      ? `fetch refuses to connect to port ${new URL(url).port} (a port the Fetch standard blocks); nothing was sent`
      : (cause.cause?.code ?? cause.cause?.message ?? cause.message ?? String(error));
  return new FluxNetworkError(`no answer from ${origin}: ${reason}`, {
    cause: error,
    requestId: options.jobId,
  });
}

/**
 * fetch's own refusals, made before any socket is opened: its message for a port the Fetch
 * standard blocks (`http://127.0.0.1:9`: undici's fetch checks `requestBadPort` and fails with the network error "bad port").
 */
const refusedByFetch = new Set(["bad port"]);

/**
 * Whether a fetch failure proves the request never left this machine: the connection was refused,
 * the host name did not resolve, or fetch itself refused to open one. A reset or a timeout proves
 * nothing: the server may have read the whole request.
 */
export function neverSent(error: unknown): boolean {
  const codes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);
  const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
  if (!cause) return false;
  if (cause.errors?.length) return cause.errors.every((e) => codes.has(e.code ?? ""));
  return codes.has(cause.code ?? "") || (cause.code === undefined && refusedByFetch.has(cause.message ?? ""));
}
