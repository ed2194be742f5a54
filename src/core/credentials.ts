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

let warnedAboutBrowser = false;

/** The `Authorization` header for `key`, checked against every URL it will go to; a warning when a key is in a browser. */
export function keyHeaders(key: string | undefined, scheme: AuthScheme, urls: string[]): Record<string, string> {
  if (key === undefined) return {};
  for (const url of urls) assertSafeTransport(url);
  if (!warnedAboutBrowser && typeof window !== "undefined" && typeof document !== "undefined") {
    warnedAboutBrowser = true;
    console.warn(
      "flux-i2i: an API key is in use in a browser, where every visitor can read it. Keep the key on a " +
        "server and point baseUrl/queueUrl at a proxy there (see the README).",
    );
  }
  return { Authorization: authorizationHeader(key, scheme) };
}

/** Credentials go to https, or to plain http only on this machine (a local mock or proxy). */
export function assertSafeTransport(baseUrl: string): void {
  const url = parseBaseUrl(baseUrl);
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return;
  throw new FluxConfigError(`refusing to send credentials to ${url.origin}: use https (plain http only to loopback)`);
}

/**
 * This machine, by address: an IPv4 literal in 127.0.0.0/8, `[::1]`, or the name `localhost`
 * exactly. A prefix match on the name would let `127.evil.com` or `127.0.0.1.nip.io` through.
 * `hostname` is a parsed URL's: the URL parser has already written `127.1` as `127.0.0.1`.
 */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** A base URL as a URL; refused when it is not absolute or carries a user name or password (they would be quoted and sent). */
export function parseBaseUrl(baseUrl: string, option = "baseUrl"): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new FluxConfigError(`${option} is not an absolute URL: ${JSON.stringify(baseUrl.replace(/\/\/[^/@]*@/, "//[userinfo]@"))}`);
  }
  if (url.username || url.password) {
    throw new FluxConfigError(`${option} must not carry a user name or password (${url.protocol}//[userinfo]@${url.host}): pass the key as credentials`);
  }
  return url;
}

/** Whether `url` is on `origin`: where a URL from an answer may be sent the key (a URL that does not parse is not). */
export function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}
