// Test cases derived by walking the request schema: a constraint added to the spec gets its cases
// here with no edit to the tests.
import { imageToImageExamples, imageToImageInputSchema } from "../../generated/endpoints.js";
import type { ObjectSchema } from "../../src/cli/contract/cases.js";

export interface ConstraintCase {
  name: string;
  body: unknown;
  /** The JSON Schema keyword (= Prism's sl-violations code) the body breaks; undefined if valid. */
  rule?: string;
  field: string;
}

const wrongTypeValue: Record<string, unknown> = { number: "7", integer: "7", string: 7, boolean: "true", array: {}, object: [] };

/** A step finer than the bound's own precision: 0.01 -> 0.001, 20 -> 0.1. */
function stepBelowPrecision(bound: number): number {
  const decimals = (String(bound).split(".")[1] ?? "").length;
  return 10 ** -(decimals + 1);
}

const offset = (value: number, by: number) => Number((value + by).toPrecision(12));

export function constraintCases(
  schema: ObjectSchema = imageToImageInputSchema as unknown as ObjectSchema,
  base: Record<string, unknown> = { ...imageToImageExamples["seed-example"] },
): ConstraintCase[] {
  const cases: ConstraintCase[] = [];
  const required = new Set(schema.required ?? []);
  const withValue = (field: string, value: unknown) => ({ ...base, [field]: value });

  for (const [field, prop] of Object.entries(schema.properties)) {
    const types = prop.type === undefined ? [] : ([] as string[]).concat(prop.type as string | string[]);
    const numeric = types.includes("integer") ? "integer" : types.includes("number") ? "number" : undefined;
    const add = (name: string, value: unknown, rule?: string) =>
      cases.push({ name: `${field} ${name}`, body: withValue(field, value), rule, field });

    if (numeric) {
      const step = (bound: number) => (numeric === "integer" ? 1 : stepBelowPrecision(bound));
      if (prop.minimum !== undefined) {
        add(`at minimum ${prop.minimum}`, prop.minimum);
        add(`just below minimum`, offset(prop.minimum, -step(prop.minimum)), "minimum");
      }
      if (prop.maximum !== undefined) {
        add(`at maximum ${prop.maximum}`, prop.maximum);
        add(`just above maximum`, offset(prop.maximum, step(prop.maximum)), "maximum");
      }
      if (prop.exclusiveMinimum !== undefined) {
        add(`at exclusiveMinimum`, prop.exclusiveMinimum, "exclusiveMinimum");
        add(`just above exclusiveMinimum`, offset(prop.exclusiveMinimum, step(prop.exclusiveMinimum)));
      }
      if (prop.exclusiveMaximum !== undefined) {
        add(`at exclusiveMaximum`, prop.exclusiveMaximum, "exclusiveMaximum");
        add(`just below exclusiveMaximum`, offset(prop.exclusiveMaximum, -step(prop.exclusiveMaximum)));
      }
      if (numeric === "integer") {
        const inside = prop.minimum ?? prop.maximum ?? 1;
        add(`not an integer`, inside + 0.5, "type");
      }
    }
    for (const value of prop.enum ?? []) add(`enum value ${JSON.stringify(value)}`, value);
    if (prop.enum) {
      const first = String(prop.enum[0]);
      const outsider = prop.enum.includes(first.toUpperCase()) ? `${first}_other` : first.toUpperCase();
      add(`outside the enum (${JSON.stringify(outsider)})`, outsider, "enum");
    }
    if (prop.pattern !== undefined) {
      const regex = new RegExp(prop.pattern, "u");
      for (const example of prop.examples ?? []) add(`matching example`, example);
      const outsider = ["", " ", "not a match", "/tmp/image.png"].find((s) => !regex.test(s))!;
      add(`not matching the pattern (${JSON.stringify(outsider)})`, outsider, "pattern");
    }
    if (prop.default !== undefined) add(`at its default`, prop.default);

    const primary = types.find((t) => t !== "null");
    if (primary && wrongTypeValue[primary] !== undefined) add(`of the wrong type`, wrongTypeValue[primary], "type");
    add(`null`, null, types.includes("null") ? undefined : "type");

    const { [field]: _, ...without } = base;
    cases.push({ name: `${field} missing`, body: without, rule: required.has(field) ? "required" : undefined, field });
  }

  if (schema.additionalProperties === false) {
    const names = Object.keys(schema.properties);
    const typo = names.map((n) => n.slice(0, -1)).find((n) => n && !names.includes(n))!;
    cases.push({ name: `unknown property ${typo}`, body: { ...base, [typo]: 1 }, rule: "additionalProperties", field: typo });
  }
  cases.push({ name: `a body that is not an object`, body: [base], rule: "type", field: "(input)" });
  return cases;
}
