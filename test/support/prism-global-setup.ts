import type { TestProject } from "vitest/node";
import { specPath, startPrismMock } from "../../src/mock.js";

declare module "vitest" {
  export interface ProvidedContext {
    prismUrl: string;
    prismQueueUrl: string;
  }
}

/** One Prism per document (a Prism serves one), both for the whole run, stopped at the end. */
export default async function setup(project: TestProject) {
  const [sync, queue] = await Promise.all([startPrismMock(), startPrismMock({ spec: specPath("queue.yaml") })]);
  project.provide("prismUrl", sync.url);
  project.provide("prismQueueUrl", queue.url);
  return () => Promise.all([sync.stop(), queue.stop()]).then(() => undefined);
}
