// --out against a real local server: downloads without the key, retried when a retry can help,
// and files named from the bytes, never over an existing one.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { prepareOutDir, saveImages } from "../../src/cli/save-images.js";
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
  const paths = await saveImages(output(`${server.url}/x.jpeg`), dir, { stem: "cat", httpOrigin: server.url });
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
  await saveImages(output(`${server.url}/flaky`), dir, { stem: "cat", retry, httpOrigin: server.url });
  expect(calls).toBe(3);
  await expect(saveImages(output(`${server.url}/gone`), dir, { stem: "cat", retry, httpOrigin: server.url })).rejects.toThrow(`downloading ${server.url}/gone got HTTP 404`);
  expect(calls).toBe(4);
  // The failed save wrote none of its images (not even the inline one); the first save's stay as they were.
  expect(readdirSync(dir).sort()).toEqual(["cat-15860307465884635512-0.gif", "cat-15860307465884635512-1.gif"]);
});

it("a URL a server names is downloaded over https only (plain http on the queue's own origin alone)", async () => {
  server = await startLocalServer((_req, res) => res.writeHead(200).end(gif));
  const dir = join(root, "http");
  await expect(saveImages(output(`${server.url}/x.jpeg`), dir, { stem: "cat" })).rejects.toThrow("an image URL must be https (got http:)");
  await expect(saveImages(output("file:///etc/passwd"), dir, { stem: "cat" })).rejects.toThrow("an image URL must be https (got file:)");
  expect(server.requests).toHaveLength(0);
});

it("a download past its cap is cut and refused, not read on", async () => {
  let sent = 0;
  server = await startLocalServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "image/gif" });
    const pump = () => {
      while (sent < 64 && res.write(gif)) sent++;
    };
    pump();
  });
  const dir = join(root, "big");
  await expect(saveImages(output(`${server.url}/x`), dir, { stem: "cat", httpOrigin: server.url, maxDownloadBytes: 100 })).rejects.toThrow("more than 100 bytes");
});

it("bytes that are no image (an HTML page, a script) are refused, never saved as .bin", async () => {
  server = await startLocalServer((_req, res) => res.writeHead(200, { "Content-Type": "image/jpeg" }).end("<html><script>x</script>"));
  const dir = join(root, "html");
  await expect(saveImages(output(`${server.url}/x`), dir, { stem: "cat", httpOrigin: server.url })).rejects.toThrow(
    "image 0 is not a jpeg, png, webp, gif or avif image",
  );
  expect(() => readdirSync(dir)).toThrow(); // nothing written, not even the folder
});

describe("the --out folder (prepareOutDir)", () => {
  it("is made folder by folder when missing, and an existing one is used as it is", async () => {
    const nested = join(root, "a", "b", "c");
    expect(await prepareOutDir(nested)).toBe(nested);
    expect(statSync(nested).isDirectory()).toBe(true);
    expect(await prepareOutDir(nested)).toBe(nested);
  });

  it.runIf(process.platform === "linux")("under /proc or /sys is refused at once, naming the pseudo file system (Node's recursive mkdir loops there)", async () => {
    await expect(prepareOutDir("/proc/flux-i2i-out/images")).rejects.toThrow("/proc/flux-i2i-out/images is on proc, a pseudo file system");
    await expect(prepareOutDir("/sys/flux-i2i-out")).rejects.toThrow("is on sysfs, a pseudo file system");
  });

  it("a path through a file, or too deep, is refused and nothing is made", async () => {
    writeFileSync(join(root, "plain-file"), "x");
    await expect(prepareOutDir(join(root, "plain-file", "images"))).rejects.toThrow(`${join(root, "plain-file")} is a file, not a folder`);
    const deep = join(root, "deep", ...Array.from({ length: 40 }, (_, i) => `d${i}`));
    await expect(prepareOutDir(deep)).rejects.toThrow("more than 32 folders to make");
    expect(existsSync(join(root, "deep"))).toBe(false);
  });
});
