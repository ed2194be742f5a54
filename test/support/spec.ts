// The spec as the tests read it: expected answers come from the documents, not from copies.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { specPath } from "../../src/mock.js";

type Json = Record<string, any>;

export const spec: Json = parse(readFileSync(specPath("image-to-image.yaml"), "utf8"));
export const components: Json = parse(readFileSync(specPath("components.yaml"), "utf8")).components;
export const operation: Json = spec.paths["/fal-ai/flux-1/dev/image-to-image"].post;

/** A response of the operation with its `$ref` to components.yaml followed. */
export function declaredResponse(status: number): Json {
  const response = operation.responses[String(status)];
  return response.$ref ? components.responses[response.$ref.split("/").pop()] : response;
}

/** The first example value of a declared response: what Prism answers with in static mode. */
export function firstExample(status: number): unknown {
  const examples = declaredResponse(status).content["application/json"].examples;
  return (Object.values(examples)[0] as { value: unknown }).value;
}

/** The example value a declared response header gives. */
export function headerExample(status: number, name: string): string | undefined {
  const headers: Json = declaredResponse(status).headers ?? {};
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  if (!entry) return undefined;
  const header = entry.$ref ? components.headers[entry.$ref.split("/").pop()] : entry;
  return header.example === undefined ? undefined : String(header.example);
}
