import type { TestProject } from "vitest/node";
import { specPath, startPrismMock } from "../../src/testing/mock.js";

declare module "vitest" {
  export interface ProvidedContext {
    prismUrl: string;
    prismQueueUrl: string;
    prismStorageUrl: string;
  }
}

/** One Prism per document (a Prism serves one), each for the whole run, stopped at the end. */
export default async function setup(project: TestProject) {
  const mocks = await Promise.all([startPrismMock(), startPrismMock({ spec: specPath("queue.yaml") }), startPrismMock({ spec: specPath("storage.yaml") })]);
  const [sync, queue, storage] = mocks;
  project.provide("prismUrl", sync.url);
  project.provide("prismQueueUrl", queue.url);
  project.provide("prismStorageUrl", storage.url);
  return () => Promise.all(mocks.map((mock) => mock.stop())).then(() => undefined);
}
