// One body judged twice: by the client's validator (generated from the spec) and by Prism serving
// the same spec. The generated-data tests compare the two verdicts and the rules each names.
import fc from "fast-check";
import { expect } from "vitest";
import { imageToImageExamples, imageToImageInputSchema } from "../../generated/endpoints.js";
import { validateSubmitImageToImageParameters } from "../../generated/validators.js";
import { issuesOf } from "../../src/core/validation.js";
import { checkInput } from "../../src/image-to-image.js";
import { invalidBody, validBody, type ObjectSchema } from "../../src/cli/contract/cases.js";
import { queueSpec } from "./spec.js";

export interface Verdicts {
  client: string[];
  prism: { status: number; rules: string[] };
}

/** The rules each side names for `body` (sorted); Prism's come from its sl-violations header. */
export async function judge(prismUrl: string, body: unknown): Promise<Verdicts> {
  const response = await fetch(`${prismUrl}/fal-ai/flux-1/dev/image-to-image`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Key contract-test" },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  const violations = JSON.parse(response.headers.get("sl-violations") ?? "[]") as { code: string }[];
  return {
    client: checkInput(body).map((issue) => issue.rule).sort(),
    prism: { status: response.status, rules: violations.map((v) => String(v.code)).sort() },
  };
}

/** The seed of this run: FC_SEED replays one, else a fresh one (printed with any failure by fast-check). */
export const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

/** `runs` valid bodies: the client finds nothing, Prism answers 200. */
export async function validBodiesAgree(prismUrl: string, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(validBody(imageToImageInputSchema as unknown as ObjectSchema), async (body) => {
      const verdicts = await judge(prismUrl, body);
      expect(verdicts).toEqual({ client: [], prism: { status: 200, rules: [] } });
    }),
    { numRuns: runs, seed },
  );
}

/** `runs` bodies with one constraint broken: both refuse it, name the same rules, and those include the one broken. */
export async function invalidBodiesAgree(prismUrl: string, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(invalidBody(imageToImageInputSchema as unknown as ObjectSchema), async ({ body, rule, mutation }) => {
      const verdicts = await judge(prismUrl, body);
      expect(verdicts.prism.status, mutation).toBe(422);
      expect(verdicts.client, mutation).toEqual(verdicts.prism.rules);
      expect(verdicts.client, mutation).toContain(rule);
    }),
    { numRuns: runs, seed },
  );
}

/** The submit's query and header parameters as one object schema, as the spec declares them (sent as text). */
export function submitParameterSchema(): ObjectSchema {
  const operation = queueSpec.paths["/fal-ai/flux-1/dev/image-to-image"].post;
  const parameters = (operation.parameters as { name: string; in: string; schema: object }[]).filter((p) => p.in === "query" || p.in === "header");
  return { properties: Object.fromEntries(parameters.map((p) => [p.name, p.schema])), onTheWire: true };
}

/** The rules each side names for the submit's parameters `params` (a valid body goes with them). */
export async function judgeParameters(prismQueueUrl: string, params: Record<string, unknown>): Promise<Verdicts> {
  const operation = queueSpec.paths["/fal-ai/flux-1/dev/image-to-image"].post;
  const places = Object.fromEntries((operation.parameters as { name: string; in: string }[]).map((p) => [p.name, p.in]));
  const url = new URL(`${prismQueueUrl}/fal-ai/flux-1/dev/image-to-image`);
  const headers: Record<string, string> = { "Content-Type": "application/json", Authorization: "Key contract-test" };
  for (const [name, value] of Object.entries(params)) {
    if (places[name] === "query") url.searchParams.set(name, String(value));
    else headers[name] = String(value);
  }
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(imageToImageExamples.minimal) });
  await response.arrayBuffer();
  const violations = JSON.parse(response.headers.get("sl-violations") ?? "[]") as { code: string }[];
  return {
    // The generated validator leaves `format` out; the client checks a webhook URL in code of its own (platform-options.ts).
    client: [...issuesOf(validateSubmitImageToImageParameters, params).map((issue) => issue.rule), ...(typeof params.fal_webhook === "string" && !URL.canParse(params.fal_webhook) ? ["format"] : [])].sort(),
    prism: { status: response.status, rules: violations.map((v) => String(v.code)).sort() },
  };
}

/** `runs` valid and `runs` invalid parameter sets of the submit: the two sides agree on each. */
export async function submitParametersAgree(prismQueueUrl: string, runs: number): Promise<void> {
  const schema = submitParameterSchema();
  await fc.assert(
    fc.asyncProperty(validBody(schema), async (params) => {
      expect(await judgeParameters(prismQueueUrl, params)).toEqual({ client: [], prism: { status: 200, rules: [] } });
    }),
    { numRuns: runs, seed },
  );
  await fc.assert(
    fc.asyncProperty(invalidBody(schema), async ({ body, rule, mutation }) => {
      const verdicts = await judgeParameters(prismQueueUrl, body);
      expect(verdicts.prism.status, mutation).toBe(422);
      expect(verdicts.client, mutation).toEqual(verdicts.prism.rules);
      expect(verdicts.client, mutation).toContain(rule);
    }),
    { numRuns: runs, seed },
  );
}
