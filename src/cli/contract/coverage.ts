// The coverage phase of a contract run, Schemathesis' deterministic first phase: for an operation,
// every constraint of its body and of its query and header parameters at each of its boundaries
// (valid: the server must take it) and each single breaking of it (the server must refuse it). Each
// request differs from a plain valid one in one value only, so a server that gets one constraint
// wrong fails at any run size, and the failure names the constraint. No randomness: the same spec
// gives the same requests.
import type { ContractDocuments } from "./documents.js";
import { breakings, describeBreaking, shift, stepOf, typesOf, type ObjectSchema, type PropertySchema } from "./cases.js";

/** One request of the coverage phase: what the server must do with it, and the values that differ from the plain one. */
export interface CoverageRequest {
  kind: "positive" | "negative";
  /** The constraint and the value, for a failure's message: `strength above its maximum (1.1)`. */
  label: string;
  /** The JSON text of the body, for an operation that takes one. */
  body?: string;
  query: Record<string, string>;
  headers: Record<string, string>;
}

/** A valid value at one of a property's edges; `raw` is its JSON text when JSON.stringify cannot write it (`40.0`). */
interface Boundary {
  label: string;
  value: unknown;
  raw?: string;
}

/** Texts at a pattern's edges; those it accepts are boundaries (a minimal URL, a data URI, JSON braces, one character). */
const patternCandidates = ["http://a", "https://example.com/cat.png?size=1#top", "data:image/png;base64,iVBORw0KGgo=", "{}", "a", "~"];

function numericBoundaries(prop: PropertySchema, integer: boolean): Boundary[] {
  const out: Boundary[] = [];
  const at = (label: string, value: number) => out.push({ label: `${label} (${value})`, value });
  const step = (bound: number) => stepOf(bound, integer);
  if (prop.minimum !== undefined) {
    at("at its minimum", prop.minimum);
    at("a step above its minimum", shift(prop.minimum, step(prop.minimum)));
  }
  if (prop.maximum !== undefined) {
    at("at its maximum", prop.maximum);
    at("a step below its maximum", shift(prop.maximum, -step(prop.maximum)));
  }
  if (prop.exclusiveMinimum !== undefined) at("a step above its exclusive minimum", shift(prop.exclusiveMinimum, step(prop.exclusiveMinimum)));
  if (prop.exclusiveMaximum !== undefined) at("a step below its exclusive maximum", shift(prop.exclusiveMaximum, -step(prop.exclusiveMaximum)));
  const low = prop.minimum ?? (prop.exclusiveMinimum === undefined ? undefined : Math.floor(prop.exclusiveMinimum) + 1);
  const high = prop.maximum ?? (prop.exclusiveMaximum === undefined ? undefined : Math.ceil(prop.exclusiveMaximum) - 1);
  if (integer) {
    // JSON Schema counts 40.0 as an integer, and so do fal's FastAPI models (pydantic's lax mode).
    const whole = low ?? high ?? 1;
    out.push({ label: `a whole number written with a fraction (${whole}.0)`, value: whole, raw: `${whole}.0` });
    if (low === undefined && high === undefined) {
      out.push({ label: "zero", value: 0 });
      // Past 2^53, where a double can no longer hold every integer: fal's seeds go up to 2^64.
      out.push({ label: "beyond 2^53 (9007199254740993)", value: 2 ** 53, raw: "9007199254740993" });
    }
  } else {
    // A number that happens to be whole: some servers type it as an integer and refuse it.
    const whole = Math.ceil(low ?? 1);
    if (high === undefined || whole <= high) out.push({ label: `a whole number (${whole})`, value: whole });
  }
  return out;
}

function stringBoundaries(prop: PropertySchema, onTheWire: boolean): Boundary[] {
  const texts = [...(prop.examples ?? [])].filter((value): value is string => typeof value === "string");
  if (prop.pattern) {
    const pattern = new RegExp(prop.pattern, "u");
    texts.push(...patternCandidates.filter((text) => pattern.test(text)));
  } else if (prop.format === "uri") {
    texts.push("https://hooks.example.invalid/fal?id=1"); // a host that never resolves: fal may POST the output there
  } else if (!onTheWire) {
    texts.push("", "ünïcödé ✓ 猫");
  }
  return texts.map((text) => ({ label: JSON.stringify(text), value: text }));
}

/** Every valid edge of one property: bounds, a step inside them, whole numbers, each enum value, null where allowed, the pattern's forms, the default. */
export function boundaries(prop: PropertySchema, onTheWire: boolean): Boundary[] {
  const types = typesOf(prop);
  const out: Boundary[] = [];
  if (prop.enum) out.push(...prop.enum.map((value) => ({ label: `enum value ${JSON.stringify(value)}`, value })));
  else if (types.includes("integer") || types.includes("number")) out.push(...numericBoundaries(prop, types.includes("integer")));
  else if (types.includes("boolean")) out.push({ label: "true", value: true }, { label: "false", value: false });
  else if (types.includes("string")) out.push(...stringBoundaries(prop, onTheWire));
  if (types.includes("null") && !onTheWire) out.push({ label: "null", value: null });
  if (prop.default !== undefined) out.push({ label: `at its default (${JSON.stringify(prop.default)})`, value: prop.default });
  // The same value twice (a default that is also a bound) is sent once.
  const seen = new Set<string>();
  return out.filter((boundary) => {
    const key = boundary.raw ?? JSON.stringify(boundary.value);
    return !seen.has(key) && Boolean(seen.add(key));
  });
}

/** The body as JSON text with `field` set to the value, written as `raw` when JSON.stringify cannot write it so (`40.0`, an integer past 2^53), or removed. */
function bodyText(base: Record<string, unknown>, field: string, boundary: { value?: unknown; raw?: string; remove?: boolean }): string {
  const body: Record<string, unknown> = { ...base };
  if (boundary.remove) {
    delete body[field];
    return JSON.stringify(body);
  }
  if (boundary.raw === undefined) return JSON.stringify({ ...body, [field]: boundary.value });
  const mark = "\u0000raw\u0000";
  return JSON.stringify({ ...body, [field]: mark }).replace(JSON.stringify(mark), boundary.raw);
}

/** How a value goes into a query string or a header: as text. */
const wireText = (value: unknown) => String(value);

type Parameter = { name: string; in: string; required: boolean; schema: PropertySchema };
/** The operation's query and header parameters (a job's id, a path parameter, is followed, not made up). */
export const parametersOf = (documents: ContractDocuments, operation: string) => ((documents.operationParameters[operation] ?? []) as readonly Parameter[]).filter((p) => p.in === "query" || p.in === "header");

/** The query and headers every request of the operation carries: each required parameter at its first valid value (`storage_type=fal-cdn-v3`). */
export function requiredParameters(documents: ContractDocuments, operation: string): Pick<CoverageRequest, "query" | "headers"> {
  const query: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const parameter of parametersOf(documents, operation).filter((p) => p.required)) {
    const [first] = boundaries(parameter.schema, true);
    if (first) (parameter.in === "query" ? query : headers)[parameter.name] = wireText(first.raw ?? first.value);
  }
  return { query, headers };
}

/** The coverage requests of the body schema, on top of the plain valid body `base` and the required parameters. */
function bodyRequests(schema: ObjectSchema, base: Record<string, unknown>, required: Pick<CoverageRequest, "query" | "headers">): CoverageRequest[] {
  const out: CoverageRequest[] = [];
  const requiredFields = new Set(schema.required ?? []);
  const request = (kind: CoverageRequest["kind"], label: string, body: string): CoverageRequest => ({ kind, label, body, ...required });
  for (const [field, prop] of Object.entries(schema.properties)) {
    for (const boundary of boundaries(prop, false)) out.push(request("positive", `${field} ${boundary.label}`, bodyText(base, field, boundary)));
    for (const breaking of breakings(prop, requiredFields.has(field), false)) out.push(request("negative", describeBreaking(field, breaking), bodyText(base, field, breaking)));
  }
  if (schema.additionalProperties === false) {
    // A near miss of a real name, as a typo makes it.
    const names = Object.keys(schema.properties);
    const typo = names.map((name) => name.slice(0, -1)).find((name) => name && !names.includes(name))!;
    out.push(request("negative", `an unknown property ${typo}`, JSON.stringify({ ...base, [typo]: 1 })));
  }
  out.push(request("negative", "a body that is not an object (a list)", JSON.stringify([base])));
  return out;
}

/**
 * The coverage requests of the operation's query and header parameters (a job's id is followed,
 * not made up), one parameter changed or, when required, left out, the others as `required` has them.
 */
function parameterRequests(parameters: readonly Parameter[], body: string | undefined, required: Pick<CoverageRequest, "query" | "headers">): CoverageRequest[] {
  const out: CoverageRequest[] = [];
  for (const parameter of parameters) {
    const place = parameter.in === "query" ? "query" : "headers";
    const request = (kind: CoverageRequest["kind"], label: string, value: unknown): CoverageRequest => {
      const changed = { ...required[place] };
      if (value === undefined) delete changed[parameter.name];
      else changed[parameter.name] = wireText(value);
      return { kind, label: `${parameter.in} ${label}`, body, ...required, [place]: changed };
    };
    for (const boundary of boundaries(parameter.schema, true)) out.push(request("positive", `${parameter.name} ${boundary.label}`, boundary.raw ?? boundary.value));
    for (const breaking of breakings(parameter.schema, parameter.required, true)) {
      out.push(request("negative", describeBreaking(parameter.name, breaking), breaking.remove ? undefined : breaking.value));
    }
  }
  return out;
}

/** Every coverage request of an operation: its body's constraints (when it takes one, from its plainest example), then its parameters'. */
export function coverageRequests(documents: ContractDocuments, operation: string): CoverageRequest[] {
  const body = documents.operationBodies[operation];
  const base = body ? ({ ...(body.example as object) } as Record<string, unknown>) : undefined;
  const required = requiredParameters(documents, operation);
  return [
    ...(body && base ? bodyRequests(body.schema as ObjectSchema, base, required) : []),
    ...parameterRequests(parametersOf(documents, operation), base ? JSON.stringify(base) : undefined, required),
  ];
}
