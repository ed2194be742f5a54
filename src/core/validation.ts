// An endpoint's rules (generated/endpoints.ts) applied: its input checked on the exact bytes that
// will be sent, its output checked as it came, each broken rule worded for a person.
import { closest } from "./suggest.js";
import { ruleMessages } from "../../generated/spec.js";
import type { ValidationIssue, Validator } from "../../generated/validators.js";
import type { FluxIssue } from "./errors.js";
import { stringifyExact } from "./seed.js";
import type { EndpointRules } from "./types.js";

/** An endpoint's rules for its input: every broken one, or an empty list. Never changes `input`. */
export function checkInput(rules: EndpointRules, input: unknown): FluxIssue[] {
  return issuesOf(rules.validateInput, input, "(input)", rules);
}

/**
 * The request body as it will be sent, and the spec's verdict on exactly those bytes: what is
 * checked is what `JSON.stringify` makes of the value (a `toJSON`, a class instance, a dropped
 * function), never the object beside it. A value that cannot be written as JSON (a cycle, a getter
 * that throws) is an issue too, so any value gives either issues or the checked text.
 */
export function serializeInput(rules: EndpointRules, input: unknown): { text: string; issues: FluxIssue[] } {
  let text: string | undefined;
  try {
    text = stringifyExact(input);
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0];
    return { text: "", issues: [{ field: "(input)", rule: "type", message: `cannot be written as JSON (${reason})`, params: { type: "object" } }] };
  }
  if (text === undefined) return { text: "", issues: [{ field: "(input)", rule: "type", message: "must be an object", params: { type: "object" } }] };
  let dropped: FluxIssue[] = [];
  try {
    dropped = unwritableValues(input);
  } catch {
    // a getter that threw the second time it was read: the bytes written once are what is judged
  }
  return { text, issues: [...dropped, ...checkInput(rules, JSON.parse(text))] };
}

/**
 * Values JSON leaves out without a word (a function, a symbol: `num_images: () => 1` would vanish
 * from the body and the call go out without it), each as an issue naming its field.
 */
function unwritableValues(value: unknown, path = "", depth = 0): FluxIssue[] {
  if (value === null || typeof value !== "object" || depth > 32) return [];
  return Object.entries(value).flatMap(([name, item]) => {
    const field = path ? `${path}${Array.isArray(value) ? `[${name}]` : `.${name}`}` : name;
    if (typeof item === "function" || typeof item === "symbol") {
      return [{ field, rule: "type", message: `must be a JSON value, got a ${typeof item} (JSON would leave it out)`, params: { type: typeof item } }];
    }
    return unwritableValues(item, field, depth + 1);
  });
}

/** An endpoint's rules for its 200 body. */
export function checkOutput(rules: EndpointRules, output: unknown): FluxIssue[] {
  return issuesOf(rules.validateOutput, output, "(body)", rules);
}

/**
 * What the spec says of the rules, for wording: an endpoint's input (its fields' messages, the
 * names to suggest for a typo), or the parameters of every operation (spec.ts's `ruleMessages`).
 */
type Wording = Pick<EndpointRules, "ruleMessages" | "inputParameters">;
const parametersOnly: Wording = { ruleMessages, inputParameters: [] };

/** A generated validator's verdict on `data` as issues; `root` names the whole value. */
export function issuesOf(validate: Validator<unknown>, data: unknown, root = "(body)", wording: Wording = parametersOnly): FluxIssue[] {
  if (validate(data)) return [];
  return (validate.errors ?? []).map((issue) => toFluxIssue(issue, data, root, wording));
}

function toFluxIssue(issue: ValidationIssue, data: unknown, root: string, wording: Wording): FluxIssue {
  const { keyword, params, instancePath } = issue;
  const named = keyword === "required" ? params.missingProperty : keyword === "additionalProperties" ? params.additionalProperty : undefined;
  const pointer = typeof named === "string" ? `${instancePath}/${named}` : instancePath;
  return { field: fieldName(pointer) || root, rule: keyword, message: explain(issue, pointer, data, wording), params };
}

function explain({ keyword, params }: ValidationIssue, pointer: string, data: unknown, wording: Wording): string {
  const spec = wording.ruleMessages[pointer]?.[keyword];
  const hint = spec?.hint ? ` (${spec.hint})` : "";
  switch (keyword) {
    case "required":
      return `is required${hint}`;
    case "additionalProperties": {
      const name = String(params.additionalProperty);
      const guess = pointer.lastIndexOf("/") === 0 ? closest(name, wording.inputParameters) : undefined;
      return `is not a parameter of this endpoint${guess ? ` (did you mean ${guess}?)` : ""}`;
    }
    case "type":
      return `must be ${String(params.type).split(",").join(" or ")}${got(pointer, data)}${hint}`;
    case "enum":
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}${got(pointer, data)}${hint}`;
    default: {
      // minimum, maximum and their exclusive forms carry a comparison; other rules show their params.
      const rule = params.comparison ? `must be ${params.comparison} ${params.limit}` : `must satisfy ${keyword} ${JSON.stringify(params)}`;
      return `${spec?.message ?? rule}${got(pointer, data)}${hint}`;
    }
  }
}

/** What the caller sent, short enough for a message (a data URI can be megabytes). */
function got(pointer: string, data: unknown): string {
  let value = data;
  for (const key of pointer.split("/").slice(1)) {
    value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  }
  if (value === undefined) return "";
  const text = JSON.stringify(value);
  return `, got ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function fieldName(pointer: string): string {
  return pointer
    .slice(1)
    .split("/")
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join("");
}
