import { FluxConfigError } from "./errors.js";

/**
 * `Key` is what fal.run takes for API keys; `Bearer` is the form fal's endpoint document shows,
 * which some gateways in front of fal expect.
 */
export type AuthScheme = "Key" | "Bearer";

/** An explicit key, else `FAL_KEY`, else `FAL_KEY_ID` + `FAL_KEY_SECRET` (as fal's own clients read them). */
export function resolveCredentials(explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit;
  const env = typeof process === "undefined" ? undefined : process.env;
  if (env?.FAL_KEY) return env.FAL_KEY;
  if (env?.FAL_KEY_ID && env.FAL_KEY_SECRET) return `${env.FAL_KEY_ID}:${env.FAL_KEY_SECRET}`;
  return undefined;
}

/**
 * The `Authorization` value. A key with a character no header can carry is refused here, because
 * fetch would otherwise throw an error whose message quotes the whole header value, key included.
 */
export function authorizationHeader(key: string, scheme: AuthScheme): string {
  const trimmed = key.trim();
  const bad = /[^\x21-\x7e]/.exec(trimmed);
  if (!trimmed || bad) {
    throw new FluxConfigError(
      trimmed
        ? `credentials: the key has a character no HTTP header can carry at position ${bad!.index + 1}`
        : "credentials: the key is empty",
    );
  }
  return `${scheme} ${trimmed}`;
}

/** Credentials go to https, or to plain http only on this machine (a local mock or proxy). */
export function assertSafeTransport(baseUrl: string): void {
  const url = parseBaseUrl(baseUrl);
  if (url.protocol === "https:") return;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol === "http:" && (host === "localhost" || host === "::1" || /^127\./.test(host))) return;
  throw new FluxConfigError(`refusing to send credentials to ${url.origin}: use https (plain http only to loopback)`);
}

export function parseBaseUrl(baseUrl: string, option = "baseUrl"): URL {
  try {
    return new URL(baseUrl);
  } catch {
    throw new FluxConfigError(`${option} is not an absolute URL: ${JSON.stringify(baseUrl)}`);
  }
}

/** Every occurrence of the key in text or a parsed body replaced, in case a server echoes it back. */
export function redact<T>(value: T, secret: string | undefined): T {
  if (!secret || value === undefined) return value;
  const text = JSON.stringify(value);
  if (!text?.includes(secret)) return value;
  return JSON.parse(text.split(secret).join("[redacted]")) as T;
}
