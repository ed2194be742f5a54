// Preloaded (NODE_OPTIONS=--import) into every command a test runs: a fetch beyond 127.0.0.1 fails,
// and says so on stderr, where test/support/cli.ts looks for it.
const fetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost" && url.hostname !== "[::1]") {
    process.stderr.write(`\nBLOCKED: a test's command tried to reach ${url.origin}\n`);
    return Promise.reject(new TypeError(`fetch failed: tests stay on 127.0.0.1, not ${url.origin}`));
  }
  return fetch(input, init);
};
