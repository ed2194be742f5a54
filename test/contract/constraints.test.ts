// Every constraint of the request schema, checked against BOTH Prism (started from the spec) and
// the client's generated validator: the two verdicts must agree, rule by rule.
import { describe, expect, inject, it } from "vitest";
import { checkInput } from "../../src/image-to-image.js";
import { constraintCases } from "../support/constraint-cases.js";

const prismUrl = inject("prismUrl");
const cases = constraintCases();

interface Violation {
  location: (string | number)[];
  code: string | number;
  message: string;
}

async function prismVerdict(body: unknown): Promise<{ status: number; violations: Violation[] }> {
  const response = await fetch(`${prismUrl}/fal-ai/flux-1/dev/image-to-image`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Key contract-test" },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  const header = response.headers.get("sl-violations");
  return { status: response.status, violations: header ? (JSON.parse(header) as Violation[]) : [] };
}

describe("request constraints: Prism and the client's validator agree", () => {
  it("derives cases for every property of the schema", () => {
    // The walker must find work in the spec: bounds, enums, the pattern, required fields.
    const rules = new Set(cases.map((c) => c.rule));
    for (const rule of ["minimum", "maximum", "type", "enum", "pattern", "required", "additionalProperties"]) {
      expect(rules, rule).toContain(rule);
    }
    expect(cases.filter((c) => c.rule === undefined).length).toBeGreaterThan(10);
  });

  it.concurrent.each(cases.map((c) => [c.name, c] as const))("%s", async (_, testCase) => {
    const [prism, issues] = [await prismVerdict(testCase.body), checkInput(testCase.body)];
    if (testCase.rule === undefined) {
      expect(prism.violations).toEqual([]);
      expect(prism.status).toBe(200);
      expect(issues).toEqual([]);
      return;
    }
    expect(prism.status).toBe(422);
    expect(prism.violations.map((v) => v.code)).toContain(testCase.rule);
    expect(issues.map((i) => [i.field, i.rule])).toContainEqual([testCase.field, testCase.rule]);
    // Same rules broken, no more and no fewer.
    expect(issues.map((i) => i.rule).sort()).toEqual(prism.violations.map((v) => String(v.code)).sort());
    // And Prism blames the same field.
    const blamed = prism.violations.find((v) => v.code === testCase.rule)!;
    const where = blamed.location.slice(2).join(".") || (testCase.field === "(input)" ? "(input)" : "");
    if (where) expect(where).toBe(testCase.field);
    else expect(blamed.message).toContain(testCase.field);
  });
});
