import type { TestProject } from "vitest/node";
import { startPrismMock } from "../../src/mock.js";

declare module "vitest" {
  export interface ProvidedContext {
    prismUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const mock = await startPrismMock();
  project.provide("prismUrl", mock.url);
  return () => mock.stop();
}
