// Request data generated from the spec with fast-check (for flux-i2i contract and the tests): valid ones (every property within its
// bounds, optional ones present or not) and invalid ones, each a valid body with exactly one
// constraint broken at its boundary (min - 1, max + 1, a step off an integer, the wrong type, null
// where none is allowed, a required property missing, an unknown property, an enum value
// misspelled, a pattern broken), with the rule it breaks. Seeded: a run is replayed with its seed.
import fc from "fast-check";

/** A property of the spec's input schema, as far as the generators (and the tests' constraint cases) read it. */
export interface PropertySchema {
  type?: string | readonly string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: readonly unknown[];
  pattern?: string;
  format?: string;
  default?: unknown;
  examples?: readonly unknown[];
}

export interface ObjectSchema {
  properties: Readonly<Record<string, PropertySchema>>;
  required?: readonly string[];
  additionalProperties?: boolean;
  /**
   * Values travel as text (headers, a query string): a number written as a string, `null` and a
   * number where a string goes are not wrong on the wire, so those breakings are left out, and
   * strings stay printable ASCII (a header carries nothing else).
   */
  onTheWire?: boolean;
}

export interface InvalidCase {
  body: Record<string, unknown>;
  /** The JSON Schema keyword broken (Prism's sl-violations code). */
  rule: string;
  field: string;
  /** What was done, for a failure's message. */
  mutation: string;
}

/** A property's JSON Schema types, as a list. */
export const typesOf = (prop: PropertySchema) => (prop.type === undefined ? [] : ([] as string[]).concat(prop.type as string | string[]));

/** A URL or data URI the `image_url` pattern accepts; other patterns are not generated (none in the schema yet). */
const imageUrl = fc.oneof(
  fc.webUrl({ validSchemes: ["https", "http"], withQueryParameters: true, withFragments: true }),
  fc.base64String({ minLength: 4, maxLength: 64 }).map((data) => `data:image/png;base64,${data}`),
);

/**
 * A URI (the webhook's) on a host that never resolves (`.invalid`, RFC 2606): in a `--live` run fal
 * POSTs each job's output to its webhook, and a generated host could be someone's.
 */
const webhookUrl = fc.webPath().map((path) => `https://hooks.example.invalid${path.startsWith("/") ? path : `/${path}`}`);

const printable = (text: string) => /^[\x20-\x7e]*$/.test(text);

/** Values a property of this schema accepts. */
function validValue(name: string, prop: PropertySchema, onTheWire: boolean): fc.Arbitrary<unknown> {
  if (prop.enum) return fc.constantFrom(...prop.enum);
  const types = typesOf(prop);
  const nullable = types.includes("null") ? [fc.constant(null)] : [];
  if (types.includes("integer")) {
    return fc.oneof(fc.integer({ min: prop.minimum ?? Number.MIN_SAFE_INTEGER, max: prop.maximum ?? Number.MAX_SAFE_INTEGER }), ...nullable);
  }
  if (types.includes("number")) {
    const min = prop.minimum ?? prop.exclusiveMinimum ?? -1e9;
    const max = prop.maximum ?? prop.exclusiveMaximum ?? 1e9;
    const bounds = { min, max, minExcluded: prop.exclusiveMinimum !== undefined, maxExcluded: prop.exclusiveMaximum !== undefined };
    return fc.oneof(fc.double({ ...bounds, noNaN: true, noDefaultInfinity: true }), ...nullable);
  }
  if (types.includes("boolean")) return fc.oneof(fc.boolean(), ...nullable);
  if (types.includes("string")) {
    if (prop.format === "uri" || (prop.pattern && name === "image_url")) return prop.format === "uri" ? webhookUrl : imageUrl;
    const text = prop.pattern ? fc.stringMatching(new RegExp(prop.pattern)) : fc.string({ maxLength: 200 });
    return fc.oneof(onTheWire ? text.filter(printable) : text, ...nullable);
  }
  throw new Error(`no generator for ${name} (type ${JSON.stringify(prop.type)})`);
}

/** Valid bodies: required properties always, optional ones sometimes. */
export function validBody(schema: ObjectSchema): fc.Arbitrary<Record<string, unknown>> {
  const properties = Object.fromEntries(
    Object.entries(schema.properties).map(([name, prop]) => [name, validValue(name, prop, schema.onTheWire ?? false)]),
  );
  return fc.record(properties, { requiredKeys: [...(schema.required ?? [])] }) as fc.Arbitrary<Record<string, unknown>>;
}

/** `value` off by the smallest step the bound's own precision shows (20 -> 0.1 for a number, 1 for an integer). */
export function stepOf(bound: number, integer: boolean): number {
  if (integer) return 1;
  const decimals = (String(bound).split(".")[1] ?? "").length;
  return 10 ** -(decimals + 1);
}
/** `value` moved by `by`, without the float noise of the sum. */
export const shift = (value: number, by: number) => Number((value + by).toPrecision(12));

/** One way to break a property: the value it gets (or its removal), what was done, the keyword broken. */
export interface Breaking {
  mutation: string;
  rule: string;
  value?: unknown;
  remove?: boolean;
}

/**
 * Texts that break a pattern at its usual edges: a local path and a `file:` URL (what a user at a
 * terminal tries for an image), another scheme, a scheme with no host, a control character, words,
 * nothing, a blank.
 * Those the pattern refuses are its breakings; on the wire only those a header can carry.
 */
const offPatternCandidates = ["file:///tmp/cat.png", "/tmp/cat.png", "ftp://example.com/cat.png", "https://", "a\tb", "not a match", "", " "];

/** Every way to break one property's constraint at its boundary, with the rule it breaks. */
export function breakings(prop: PropertySchema, required: boolean, onTheWire: boolean): Breaking[] {
  const types = typesOf(prop);
  const integer = types.includes("integer");
  const out: Breaking[] = [];
  if (prop.minimum !== undefined) out.push({ mutation: "below its minimum", rule: "minimum", value: shift(prop.minimum, -stepOf(prop.minimum, integer)) });
  if (prop.maximum !== undefined) out.push({ mutation: "above its maximum", rule: "maximum", value: shift(prop.maximum, stepOf(prop.maximum, integer)) });
  if (prop.exclusiveMinimum !== undefined) out.push({ mutation: "at its exclusive minimum", rule: "exclusiveMinimum", value: prop.exclusiveMinimum });
  if (prop.exclusiveMaximum !== undefined) out.push({ mutation: "at its exclusive maximum", rule: "exclusiveMaximum", value: prop.exclusiveMaximum });
  if (integer) out.push({ mutation: "not a whole number", rule: "type", value: (prop.minimum ?? 0) + 0.5 });
  if (!onTheWire) {
    if (types.includes("number") || types.includes("integer")) out.push({ mutation: "a number as a string", rule: "type", value: String(prop.minimum ?? 7) });
    if (types.includes("string")) out.push({ mutation: "a number where a string goes", rule: "type", value: 7 });
    if (types.includes("boolean")) out.push({ mutation: "a string where a boolean goes", rule: "type", value: "true" });
    if (!types.includes("null")) out.push({ mutation: "null", rule: "type", value: null });
  }
  if (prop.enum) out.push({ mutation: "an enum value misspelled", rule: "enum", value: `${String(prop.enum[0])}x` });
  if (prop.pattern) {
    // Every candidate has something between its ends: fetch trims a header's spaces, and an empty header may not be sent at all.
    const pattern = new RegExp(prop.pattern, "u");
    // On the wire, only a text with something between its ends: fetch trims a header's spaces, and an empty one may not be sent at all.
    const candidates = onTheWire ? offPatternCandidates.filter((text) => text.trim() === text && text !== "") : offPatternCandidates;
    for (const broken of candidates.filter((text) => !pattern.test(text))) out.push({ mutation: "off its pattern", rule: "pattern", value: broken });
  }
  if (prop.format === "uri") out.push({ mutation: "not a URI", rule: "format", value: "not a uri" });
  if (required) out.push({ mutation: "missing", rule: "required", remove: true });
  return out;
}

/** A breaking in words, for a failure's message: `strength above its maximum (1.1)`, `prompt missing`. */
export function describeBreaking(field: string, breaking: Breaking): string {
  return breaking.remove ? `${field} ${breaking.mutation}` : `${field} ${breaking.mutation} (${JSON.stringify(breaking.value)})`;
}

/** Invalid bodies: a valid body with exactly one constraint broken. */
export function invalidBody(schema: ObjectSchema): fc.Arbitrary<InvalidCase> {
  const required = new Set(schema.required ?? []);
  const options = Object.entries(schema.properties).flatMap(([field, prop]) =>
    breakings(prop, required.has(field), schema.onTheWire ?? false).map((breaking) => ({ field, ...breaking })),
  );
  const known = new Set(Object.keys(schema.properties));
  const unknownName = fc.stringMatching(/^[a-z][a-z_]{2,15}$/).filter((name) => !known.has(name));
  const oneBroken = fc.tuple(validBody(schema), fc.constantFrom(...options)).map(([body, breaking]) => {
    const broken: Record<string, unknown> = { ...body };
    if (breaking.remove) delete broken[breaking.field];
    else broken[breaking.field] = breaking.value;
    return { body: broken, rule: breaking.rule, field: breaking.field, mutation: describeBreaking(breaking.field, breaking) };
  });
  const unknownProperty = fc.tuple(validBody(schema), unknownName).map(([body, name]) => ({
    body: { ...body, [name]: 1 },
    rule: "additionalProperties",
    field: name,
    mutation: `an unknown property ${name}`,
  }));
  return schema.additionalProperties === false ? fc.oneof(oneBroken, unknownProperty) : oneBroken;
}
