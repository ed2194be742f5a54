// Every answer the client reads is capped by the bytes fetch hands it, after inflation: a small
// gzip answer that inflates far past the cap is refused at the cap, whatever its Content-Length.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createQueueClient, FluxResponseError } from "../src/index.js";
import { maxAnswerBytes } from "../src/core/read-body.js";
import { startHostileUpstream, type HostileUpstream } from "./support/hostile-upstream.js";

const key = "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f:0123456789abcdef0123456789abcdef";
let upstream: HostileUpstream;
beforeAll(async () => {
  upstream = await startHostileUpstream(key, { bombBytes: 2 * maxAnswerBytes.small });
});
afterAll(() => upstream.close());

it("a status answer of a few KB that inflates to twice the cap: refused as too large, not read whole", async () => {
  const client = createQueueClient({ credentials: key, queueUrl: upstream.url, retry: false });
  const error = await client.queue.status("gzip-bomb").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(FluxResponseError);
  expect((error as Error).message).toContain(`more than the ${maxAnswerBytes.small} bytes this call reads`);
});
