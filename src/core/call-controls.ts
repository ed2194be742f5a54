// What every call may set for itself (per-call controls, as the generated SDKs users know have them):
// extra headers, checked so that none of them can carry or replace the key; and the client's
// hooks, which see every request and answer without the key.
import { FluxValidationError } from "./errors.js";
import { optionOfPlatformHeader } from "./platform-options.js";
import type { CallHeaders, FetchLike } from "./types.js";

/** A request about to go out, as a hook sees it: never the key (`Authorization` is left out). */
export interface RequestInfo {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** An answer that came back (or a request that got none: `status` 0), as a hook sees it. */
export interface ResponseInfo {
  method: string;
  url: string;
  status: number;
  /** `x-fal-request-id`, when fal sent one. */
  requestId: string | undefined;
  durationMs: number;
}

export interface CallHooks {
  /** Called before each HTTP request the client sends (each attempt of a retried call too). For logging: what it throws is ignored. */
  onRequest?: (request: RequestInfo) => void;
  /** Called when each answer's headers arrive, or a request failed. For logging: what it throws is ignored. */
  onResponse?: (response: ResponseInfo) => void;
}

/** `fetch` with the hooks around it; the same `fetch` when there are none. */
export function observedFetch(fetchImpl: FetchLike, hooks: CallHooks): FetchLike {
  if (!hooks.onRequest && !hooks.onResponse) return fetchImpl;
  return async (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = init.method ?? (input instanceof Request ? input.method : "GET");
    const headers: Record<string, string> = {};
    new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined)).forEach((value, name) => {
      if (name !== "authorization") headers[name] = value;
    });
    quietly(() => hooks.onRequest?.({ method, url, headers }));
    const started = performance.now();
    const done = (status: number, requestId?: string | null) =>
      quietly(() => hooks.onResponse?.({ method, url, status, requestId: requestId ?? undefined, durationMs: performance.now() - started }));
    try {
      const response = await fetchImpl(input, init);
      done(response.status, response.headers.get("x-fal-request-id"));
      return response;
    } catch (error) {
      done(0);
      throw error;
    }
  };
}

function quietly(hook: () => void): void {
  try {
    hook();
  } catch {
    // A logger's failure is not the call's.
  }
}

/**
 * A call's own headers, checked: they may not set `Authorization` (the key is the client's, and
 * goes only where the client sends it) nor a platform header the spec names (its option checks
 * it, and a second copy in another case would be sent beside it), and must be header-safe text.
 * Throws a FluxValidationError naming the header, before anything is sent.
 */
export function callHeaders(headers: CallHeaders | undefined): Record<string, string> {
  if (!headers) return {};
  const issues = Object.entries(headers).flatMap(([name, value]) => {
    if (name.toLowerCase() === "authorization") {
      return [{ field: `headers.${name}`, rule: "secret", message: "is the client's own (set credentials instead)", params: {} }];
    }
    const option = optionOfPlatformHeader(name);
    if (option) return [{ field: `headers.${name}`, rule: "option", message: `is set by the option ${option}, which is checked against the spec`, params: { option } }];
    if (typeof value !== "string" || /[^\t\x20-\x7e]/.test(value) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      return [{ field: `headers.${name}`, rule: "type", message: "must be a header name with printable ASCII text", params: {} }];
    }
    return [];
  });
  if (issues.length) throw new FluxValidationError(issues);
  return headers;
}
