// The browser tier's servers, in Node: fal's queue (the local fake), fal.run (a Prism mock of the
// sync document), and flux-i2i/proxy in front of both, holding the only key. The page reaches the
// proxy alone; the fake's log reaches the page through the `queueLog` command (vitest.config.ts).
import type { TestProject } from "vitest/node";
import { specPath, startPrismMock } from "../../src/mock.js";
import { createFalProxy } from "../../src/proxy.js";
import { startFakeQueue, type FakeQueue } from "../support/fake-queue.js";
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
}
const state = globalThis as unknown as { fluxBrowserTier?: BrowserTierState };

export default async function setup(project: TestProject) {
  const [fake, prism] = await Promise.all([startFakeQueue({ closeAfterCompletedMs: 200, queueMs: () => 50, runMs: () => 150 }), startPrismMock({ spec: specPath("image-to-image.yaml") })]);
  // fal's real URLs, as fal's own client names them, handed to the local servers.
  const toLocal = (url: string | URL | Request, init?: RequestInit) =>
    globalThis.fetch(String(url).replace(/^https:\/\/queue\.fal\.run/, fake.url).replace(/^https:\/\/fal\.run/, prism.url), init);
  const proxy = await serveFetchHandler(
    createFalProxy({ credentials: serverKey, fetch: toLocal, allowedOrigins: (origin) => /^http:\/\/(localhost|127\.0\.0\.1):\d+$/.test(origin) }),
  );
  state.fluxBrowserTier = { fake };
  project.provide("proxyUrl", proxy.url);
  return async () => {
    delete state.fluxBrowserTier;
    await Promise.all([proxy.close(), fake.close(), prism.stop()]);
  };
}

/** The fake queue's requests so far: route, and the Authorization each carried (the page must have sent none). */
export function queueLog(): { route: string; authorization: string | undefined }[] {
  return (state.fluxBrowserTier?.fake.log ?? []).map((entry) => ({ route: entry.route, authorization: entry.headers.authorization }));
}
