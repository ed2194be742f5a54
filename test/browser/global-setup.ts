// The browser tier's servers, in Node: fal's queue (the local fake), fal.run (a Prism mock of the
// sync document), fal storage (test/support/storage-fake.ts: the upload's initiate call, and the
// PUT of the bytes with CORS, as fal's signed URL takes it), and flux-i2i/proxy in front of the three,
// holding the only key. The page reaches the proxy alone, and storage's signed URL; the fakes' logs
// reach the page through the `queueLog` and `storageLog` commands (vitest.config.ts).
import type { TestProject } from "vitest/node";
import { specPath, startPrismMock } from "../../src/testing/mock.js";
import { createFalProxy } from "../../src/server/proxy.js";
import { startFakeQueue, type FakeQueue } from "../support/fake-queue.js";
import type { LocalServer } from "../support/local-server.js";
import { startStorageFake } from "../support/storage-fake.js";
import { serveFetchHandler } from "../support/node-adapter.js";

declare module "vitest" {
  export interface ProvidedContext {
    proxyUrl: string;
  }
}

export const serverKey = "browser-tier-key-id:browser-tier-secret-0123456789";

/** Shared with the config's commands, which run in this process. */
export interface BrowserTierState {
  fake: FakeQueue;
  storage: LocalServer;
}

/** The file's URL the storage fake answers for every upload. */
export const uploadedFileUrl = "https://v3b.fal.media/files/b/page-upload.png";
const state = globalThis as unknown as { fluxBrowserTier?: BrowserTierState };

export default async function setup(project: TestProject) {
  const [fake, prism, storage] = await Promise.all([
    startFakeQueue({ closeAfterCompletedMs: 200, queueMs: () => 50, runMs: () => 150 }),
    startPrismMock({ spec: specPath("image-to-image.yaml") }),
    startStorageFake(uploadedFileUrl),
  ]);
  // fal's real URLs, as fal's own client names them, handed to the local servers.
  const toLocal = (url: string | URL | Request, init?: RequestInit) =>
    globalThis.fetch(
      String(url).replace(/^https:\/\/queue\.fal\.run/, fake.url).replace(/^https:\/\/fal\.run/, prism.url).replace(/^https:\/\/rest\.fal\.ai/, storage.url),
      init,
    );
  const proxy = await serveFetchHandler(
    createFalProxy({ credentials: serverKey, fetch: toLocal, allowedOrigins: (origin) => /^http:\/\/(localhost|127\.0\.0\.1):\d+$/.test(origin) }),
  );
  state.fluxBrowserTier = { fake, storage };
  project.provide("proxyUrl", proxy.url);
  return async () => {
    delete state.fluxBrowserTier;
    await Promise.all([proxy.close(), fake.close(), prism.stop(), storage.close()]);
  };
}

/** The fake queue's requests so far: route, and the Authorization each carried (the page must have sent none). */
export function queueLog(): { route: string; authorization: string | undefined }[] {
  return (state.fluxBrowserTier?.fake.log ?? []).map((entry) => ({ route: entry.route, authorization: entry.headers.authorization }));
}

/** The storage fake's requests so far: method, path, the Authorization and Content-Type each carried, the body's length. */
export function storageLog(): { method: string; path: string; authorization: string | undefined; contentType: string | undefined; bodyLength: number }[] {
  return (state.fluxBrowserTier?.storage.requests ?? []).map((entry) => ({
    method: entry.method,
    path: entry.path,
    authorization: entry.headers.authorization,
    contentType: entry.headers["content-type"],
    bodyLength: entry.body.length,
  }));
}
