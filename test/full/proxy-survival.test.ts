// flux-i2i/proxy hosted in a process of its own, as a web app hosts it, on plain node:http, in
// Express, and in Express after express.json(): each attack of issue 18 (test/support/
// proxy-attacks.ts) is sent from outside, the proxy must hold, and the host must still be
// listening afterwards. The built package (dist/) is what is hosted.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHostileUpstream, type HostileUpstream } from "../support/hostile-upstream.js";
import { attacks, startProxyHost, type ProxyHost } from "../support/proxy-attacks.js";

const key = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f:0123456789abcdef0123456789abcdef";
const dist = fileURLToPath(new URL("../../dist", import.meta.url));

let upstream: HostileUpstream;
beforeAll(async () => {
  upstream = await startHostileUpstream(key);
});
afterAll(() => upstream.close());

describe.each(["node", "express", "express-json"])("hosted with %s", (adapter) => {
  let host: ProxyHost;
  beforeAll(async () => {
    host = await startProxyHost({ dist, adapter, upstream: upstream.url, key });
  });
  afterAll(() => host.stop());

  it.each(attacks.map((attack) => [attack.finding, attack] as const))("%s: held, and the host still listening", async (_, attack) => {
    const failure = await attack.run({ host, upstream, key });
    expect(failure).toBeUndefined();
    expect(await host.alive()).toBe(true);
  });
});
