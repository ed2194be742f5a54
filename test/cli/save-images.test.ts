// --out against a real local server: downloads without the key, retried when a retry can help,
// and files named from the bytes, never over an existing one.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect, it } from "vitest";
import { saveImages } from "../../src/cli/save-images.js";
import type { ImageToImageOutput } from "../../src/index.js";
import { startLocalServer, type LocalServer } from "../support/local-server.js";

const root = mkdtempSync(join(tmpdir(), "flux-i2i-save-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let server: LocalServer | undefined;
afterEach(() => server?.close());

const gif = Buffer.from("GIF89a\x01\x00\x01\x00", "latin1");
const output = (url: string): ImageToImageOutput => ({
  images: [{ url, content_type: "image/jpeg" }, { url: `data:image/gif;base64,${gif.toString("base64")}` }],
  seed: 15860307465884635512n,
  has_nsfw_concepts: [false, false],
  prompt: "p",
  timings: {},
});

it("downloads a URL (no Authorization sent), decodes a data URI; the extension comes from the bytes", async () => {
  server = await startLocalServer((_req, res) => res.writeHead(200, { "Content-Type": "image/jpeg" }).end(gif));
  const dir = join(root, "a");
  const paths = await saveImages(output(`${server.url}/x.jpeg`), dir, { stem: "cat" });
  expect(paths).toEqual([join(dir, "cat-15860307465884635512-0.gif"), join(dir, "cat-15860307465884635512-1.gif")]);
  expect(readFileSync(paths[0]!)).toEqual(gif);
  expect(server.requests[0]!.headers.authorization).toBeUndefined();
});

it("a 503 or a dropped connection is tried again; a 404 is not", async () => {
  let calls = 0;
  server = await startLocalServer((req, res) => {
    calls++;
    if (req.url === "/gone") res.writeHead(404).end();
    else if (calls === 1) res.writeHead(503).end();
    else if (calls === 2) req.socket.destroy();
    else res.writeHead(200).end(gif);
  });
  const dir = join(root, "b");
  const retry = { baseDelayMs: 5 }; // the waits of the default policy, shortened
  await saveImages(output(`${server.url}/flaky`), dir, { stem: "cat", retry });
  expect(calls).toBe(3);
  await expect(saveImages(output(`${server.url}/gone`), dir, { stem: "cat", retry })).rejects.toThrow(`downloading ${server.url}/gone got HTTP 404`);
  expect(calls).toBe(4);
  // The failed save wrote none of its images (not even the inline one); the first save's stay as they were.
  expect(readdirSync(dir).sort()).toEqual(["cat-15860307465884635512-0.gif", "cat-15860307465884635512-1.gif"]);
});
