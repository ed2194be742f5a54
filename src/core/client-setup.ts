// What a client sets up once for all of its calls (the sync call, the queue, uploads): the key,
// resolved from the options or the environment and kept here, and the caller's fetch wrapped with
// the hooks. The calls get what they need of the key, never the key: whether there is one, its
// header for the servers it may go to, whether a text carries it, and the one redaction.
// createFluxClient makes one and hands it to both of its halves; each half made alone makes its own.
import { observedFetch, type CallHooks } from "./call-controls.js";
import { assertSafeTransport, keyHeaders, resolveCredentials, type AuthScheme } from "./credentials.js";
import { answerCopy, containsKey, redact, redacting } from "./redaction.js";
import type { FetchLike } from "./types.js";

export interface ClientSetupOptions extends CallHooks {
  credentials?: string;
  fetch?: FetchLike;
  authScheme?: AuthScheme;
}

export interface ClientSetup {
  /** The caller's fetch (or globalThis.fetch), seen by the hooks. */
  fetch: FetchLike;
  /** Whether calls carry a key (a 401 without one says how to give it). */
  hasKey: boolean;
  /** The key's `Authorization` header, checked against each server it will go to; none without a key. */
  keyHeaders(servers: string[]): Record<string, string>;
  /** Whether `text` holds any form of the key (a webhook URL fal would store in the job). */
  carriesKey(text: string): boolean;
  /** The one redaction, at the client's boundary: every form of the key out of a value or error. */
  redact<T>(value: T): T;
  /** `call` with everything it returns or throws redacted. */
  redacting<A extends unknown[], R>(call: (...args: A) => Promise<R>): (...args: A) => Promise<R>;
  /** An answer's status and headers without its body, redacted: what `withResponse` hands out. */
  answerCopy(response: Response): Response;
}

export function clientSetup(options: ClientSetupOptions): ClientSetup {
  const key = resolveCredentials(options.credentials);
  // Built once, by the first half that asks; each later server list is checked before it gets it.
  let header: Record<string, string> | undefined;
  return {
    fetch: observedFetch(options.fetch ?? ((input, init) => globalThis.fetch(input, init)), options),
    hasKey: key !== undefined,
    keyHeaders(servers) {
      if (header && key !== undefined) for (const server of servers) assertSafeTransport(server);
      return (header ??= keyHeaders(key, options.authScheme ?? "Key", servers));
    },
    carriesKey: (text) => containsKey(text, key),
    redact: (value) => redact(value, key),
    redacting: (call) => redacting(call, key),
    answerCopy: (response) => answerCopy(response, key),
  };
}
