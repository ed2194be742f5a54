import type { components } from "../../generated/queue.js";

/** One broken rule of the spec: `num_images: must be <= 4`. */
export interface FluxIssue {
  /** The field, as a path: `num_images`, `images[0].url`; `(input)` or `(body)` for the whole request or answer. */
  field: string;
  /** The JSON Schema keyword that failed, the same code Prism reports: `maximum`, `required`, ... */
  rule: string;
  message: string;
  params: Readonly<Record<string, unknown>>;
}

export type FalErrorBody =
  | components["schemas"]["ValidationErrorBody"]
  | components["schemas"]["PlatformErrorBody"];

/** Every error this client throws. `toJSON()` gives what is safe to log: never a credential. */
export class FluxError extends Error {
  override name = "FluxError";

  toJSON(): Record<string, unknown> {
    const { stack: _stack, cause: _cause, ...fields } = this as Record<string, unknown>;
    return { ...fields, name: this.name, message: this.message };
  }
}

/** The client was set up wrongly (a credential no header can carry, a key sent over plain http). */
export class FluxConfigError extends FluxError {
  override name = "FluxConfigError";
}

/** The input breaks the spec. Thrown before any network I/O: nothing was sent or billed. */
export class FluxValidationError extends FluxError {
  override name = "FluxValidationError";
  constructor(readonly issues: readonly FluxIssue[]) {
    super(`Invalid input: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`);
  }
}

export interface FluxApiErrorFields {
  status: number;
  /** fal's body: a `detail` list (422) or string, with `error_type` on platform errors; raw text if not JSON. */
  body: FalErrorBody | string | undefined;
  /** `X-Fal-Error-Type`, else the body's `error_type`. */
  errorType: string | undefined;
  /** `x-fal-request-id`: quote it when asking fal for help. */
  requestId: string | undefined;
  /** `X-Fal-Request-Timeout-Type` of a 504: `user` when the caller's `startTimeoutSeconds` ran out (never retried). */
  timeoutType?: string | undefined;
  /** Whether sending the same request again can succeed (`X-Fal-Retryable`, else the spec's `x-retryable`). */
  retryable: boolean;
  /** A queue job's failure as its `COMPLETED` status told it (`error`, `error_type`), when it did. */
  jobFailure?: { error: string; errorType: string | undefined } | undefined;
  /** What the answer means or what to do, when the client knows (a missing key, a start timeout that ran out). */
  hint?: string | undefined;
}

/** fal answered with an error status. */
export interface FluxApiError extends Readonly<FluxApiErrorFields> {}
export class FluxApiError extends FluxError {
  override name = "FluxApiError";

  constructor(fields: FluxApiErrorFields) {
    const { hint, jobFailure } = fields;
    const reason = jobFailure ? `; the job failed: ${jobFailure.error}${jobFailure.errorType ? ` (${jobFailure.errorType})` : ""}` : "";
    super(`fal answered ${fields.status}: ${describeBody(fields.body)}${hint ? ` (${hint})` : ""}${reason}`);
    Object.assign(this, fields);
  }

  /** The 422 detail list, when fal sent one. */
  get details(): components["schemas"]["ValidationErrorItem"][] {
    const detail = this.body !== null && typeof this.body === "object" ? this.body.detail : undefined;
    return Array.isArray(detail) ? detail : [];
  }
}

/**
 * fal (or something in front of it) answered with a redirect, which the client does not follow: a
 * redirect would take the key to a URL chosen by an answer (another route of the same host, or
 * anywhere), not one the client was given. `location` is where it pointed (`undefined` in a
 * browser, which hides it); the message names it, without the key.
 */
export class FluxRedirectError extends FluxApiError {
  override name = "FluxRedirectError";
  readonly location: string | undefined;
  constructor(fields: FluxApiErrorFields & { location: string | undefined }) {
    const { location, ...rest } = fields;
    const where = location === undefined ? "a redirect (where to, the browser does not say)" : `a redirect to ${location}`;
    super({ ...rest, retryable: false, hint: `${where}, not followed: the key goes only to the URLs the client was given` });
    this.location = location;
  }
}

/**
 * A 2xx answer that cannot be used: not JSON, or not what the spec says. `body` keeps what came.
 * `retryable`: reading it again may help (a body cut short); a body that breaks the spec will not.
 */
export class FluxResponseError extends FluxError {
  override name = "FluxResponseError";
  constructor(
    message: string,
    readonly body: unknown,
    readonly issues: readonly FluxIssue[],
    readonly requestId: string | undefined,
    readonly retryable = false,
  ) {
    super(message);
  }
}

/**
 * No answer: the connection failed or was cut. `cause` is the transport's error. `requestId` is
 * the queue job concerned, when there is one: its result can still be fetched later.
 */
export class FluxNetworkError extends FluxError {
  override name = "FluxNetworkError";
  readonly requestId: string | undefined;
  constructor(message: string, options: { cause?: unknown; requestId?: string | undefined } = {}) {
    super(message, { cause: options.cause });
    this.requestId = options.requestId;
  }
}

/**
 * A submit whose request may have reached fal, but whose answer was lost: the connection was reset
 * or cut, or no answer came in time; or that fal took (2xx) with an answer that cannot be used. The
 * job may exist and be billed; it was not sent again (that could run it twice). `requestId` is the
 * job's when the part of the answer that arrived (or its `x-fal-request-id` header) named it
 * (follow it); otherwise check fal's request history. `cause` is the transport's failure (a
 * {@link FluxTimeoutError} when time ran out), or the FluxResponseError that keeps the answer.
 */
export class FluxSubmitUncertainError extends FluxNetworkError {
  override name = "FluxSubmitUncertainError";
}

/**
 * A time limit ran out: one HTTP request's (`requestTimeoutMs`) or a whole `subscribe`'s
 * (`timeout`, after which the job is cancelled on fal's side). `requestId` is the queue job, if any.
 */
export class FluxTimeoutError extends FluxNetworkError {
  override name = "FluxTimeoutError";
}

/**
 * An image given as bytes (a `Blob`, `File`, `Uint8Array`, stream) could not be uploaded to fal
 * storage: nothing was submitted and nothing billed. `file` names it (a `File`'s name, else its
 * type); `cause` is the failure of the initiate call or of the `PUT` of the bytes.
 */
export class FluxUploadError extends FluxError {
  override name = "FluxUploadError";
  constructor(
    message: string,
    readonly file: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
}

/** A webhook that must not be trusted. `reason` says which check failed. */
export class FluxWebhookError extends FluxError {
  override name = "FluxWebhookError";
  constructor(
    readonly reason:
      | "missing-header"
      | "stale-timestamp"
      | "bad-signature"
      | "no-key"
      | "bad-body"
      /** Signed by fal, but for another account than `userId`. */
      | "wrong-user"
      /** Signed by fal, but for a request id that is not one of yours (`isKnownRequest`). */
      | "unknown-request"
      /** The signed header's request id is not the body's `request_id`. */
      | "request-offSpecAnswer",
    message: string,
  ) {
    super(message);
  }
}

function describeBody(body: unknown): string {
  const detail = (body as { detail?: unknown } | null | undefined)?.detail;
  const text =
    typeof detail === "string"
      ? detail
      : Array.isArray(detail)
        ? detail
            .map((d: { loc?: unknown; msg?: unknown } | null) => {
              const where = ([] as unknown[]).concat(d?.loc ?? []).filter((part) => part !== "body");
              return `${where.join(".") || "body"}: ${String(d?.msg)}`;
            })
            .join("; ")
        : // Not fal's shape (a proxy's page or JSON): show it, shortened.
          (typeof body === "string" ? body : JSON.stringify(body)) ?? "";
  return !text ? "no body" : text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
