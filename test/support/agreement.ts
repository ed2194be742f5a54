// One body judged twice: by the client's validator (generated from the spec) and by Prism serving
// the same spec. The generated-data tests compare the two verdicts and the rules each names.
import fc from "fast-check";
import { expect } from "vitest";
import { checkInput } from "../../src/validation.js";
import { invalidBody, validBody } from "./generated-cases.js";

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
    fc.asyncProperty(validBody(), async (body) => {
      const verdicts = await judge(prismUrl, body);
      expect(verdicts).toEqual({ client: [], prism: { status: 200, rules: [] } });
    }),
    { numRuns: runs, seed },
  );
}

/** `runs` bodies with one constraint broken: both refuse it, name the same rules, and those include the one broken. */
export async function invalidBodiesAgree(prismUrl: string, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(invalidBody(), async ({ body, rule, mutation }) => {
      const verdicts = await judge(prismUrl, body);
      expect(verdicts.prism.status, mutation).toBe(422);
      expect(verdicts.client, mutation).toEqual(verdicts.prism.rules);
      expect(verdicts.client, mutation).toContain(rule);
    }),
    { numRuns: runs, seed },
  );
}
