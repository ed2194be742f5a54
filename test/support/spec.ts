// The spec as the tests read it, every $ref followed: expected answers come from the documents,
// not from copies.
import { bundle, createConfig } from "@redocly/openapi-core";
import { specPath } from "../../src/testing/mock.js";

type Json = Record<string, any>;

const { bundle: result } = await bundle({
  ref: specPath("image-to-image.yaml"),
  config: await createConfig({}, {}),
  dereference: true,
});
export const spec: Json = result.parsed;
export const operation: Json = spec.paths["/fal-ai/flux-1/dev/image-to-image"].post;

/** A response the operation declares. */
export function declaredResponse(status: number): Json {
  return operation.responses[String(status)];
}

/** The first example value of a declared response: what Prism answers with in static mode. */
export function firstExample(status: number): unknown {
  const examples = declaredResponse(status).content["application/json"].examples;
  return (Object.values(examples)[0] as { value: unknown }).value;
}

/** The example value a declared response header gives. */
export function headerExample(status: number, name: string): string | undefined {
  const headers: Json = declaredResponse(status).headers ?? {};
  const header = Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  return header?.example === undefined ? undefined : String(header.example);
}

const { bundle: queueResult } = await bundle({
  ref: specPath("queue.yaml"),
  config: await createConfig({}, {}),
  dereference: true,
});
/** The queue document, every $ref followed. */
export const queueSpec: Json = queueResult.parsed;

/** The first example of a queue operation's response, by operationId and status. */
export function queueExample(operationId: string, status: number, mediaType = "application/json", name?: string): unknown {
  for (const item of Object.values<Json>(queueSpec.paths)) {
    for (const operation of Object.values<Json>(item)) {
      if (operation?.operationId !== operationId) continue;
      const examples = operation.responses[String(status)].content[mediaType].examples;
      return ((name ? examples[name] : Object.values(examples)[0]) as { value: unknown }).value;
    }
  }
  throw new Error(`no operation ${operationId}`);
}
