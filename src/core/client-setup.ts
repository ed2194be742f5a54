// What a client sets up once for all of its calls (the sync call, the queue, uploads): the key,
// resolved from the options or the environment, and the caller's fetch wrapped with the hooks.
// createFluxClient makes one and hands it to both of its halves; each half made alone makes its own.
import { observedFetch, type CallHooks } from "./call-controls.js";
import { resolveCredentials } from "./credentials.js";
import type { FetchLike } from "./types.js";

export interface ClientSetupOptions extends CallHooks {
  credentials?: string;
  fetch?: FetchLike;
}

export interface ClientSetup {
  /** The key, or undefined (calls then go without one). */
  key: string | undefined;
  /** The caller's fetch (or globalThis.fetch), seen by the hooks. */
  fetch: FetchLike;
}

export function clientSetup(options: ClientSetupOptions): ClientSetup {
  return {
    key: resolveCredentials(options.credentials),
    fetch: observedFetch(options.fetch ?? ((input, init) => globalThis.fetch(input, init)), options),
  };
}
