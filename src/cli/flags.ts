// The request's flags: the generator makes an endpoint's flag table from its input schema
// (generated/endpoint-data.ts's `...Flags`), so a parameter added to the spec becomes a flag, with its
// type, bounds, default, choices and description, and no edit here. This file reads the table.
import type { FluxIssue } from "../core/errors.js";

interface ParameterSchema {
  type: string | readonly string[];
  description?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  enum?: readonly unknown[];
}

/** One request parameter as a flag, as the generator writes it: `num_inference_steps` is `--num-inference-steps`. */
export interface SpecFlag {
  readonly flag: string;
  readonly parameter: string;
  /** Its schema's type, the first that is not "null". */
  readonly type: "boolean" | "integer" | "number" | "string";
  /** Whether the schema takes `null` (typed as `--seed null`). */
  readonly nullable: boolean;
  readonly required: boolean;
  readonly schema: ParameterSchema;
}

/** The `parseArgs` options of the spec's flags: a boolean also gets `--no-NAME`, the rest take a value. */
export function specFlagOptions(flags: readonly SpecFlag[]): Record<string, { type: "boolean" | "string" }> {
  const options: Record<string, { type: "boolean" | "string" }> = {};
  for (const { flag, type } of flags) {
    options[flag] = { type: type === "boolean" ? "boolean" : "string" };
    if (type === "boolean") options[`no-${flag}`] = { type: "boolean" };
  }
  return options;
}

/**
 * The request parameters given as flags, converted by their spec type. A value that is not a
 * number is kept as typed, so that the spec's validator names the flag and the rule it breaks.
 */
export function inputFromFlags(values: Readonly<Record<string, unknown>>, flags: readonly SpecFlag[]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const { flag, parameter, type, nullable } of flags) {
    if (type === "boolean") {
      if (values[flag] !== undefined) input[parameter] = values[flag];
      if (values[`no-${flag}`]) input[parameter] = false;
      continue;
    }
    const text = values[flag];
    if (typeof text !== "string") continue;
    input[parameter] = nullable && text === "null" ? null : convert(text, type);
  }
  return input;
}

function convert(text: string, type: SpecFlag["type"]): unknown {
  if (type === "string") return text;
  const trimmed = text.trim();
  if (type === "integer" && /^[+-]?\d+$/.test(trimmed)) {
    const value = Number(trimmed);
    // A seed above 2^53 keeps every digit.
    return Number.isSafeInteger(value) ? value : BigInt(trimmed);
  }
  // Decimal only: Number() would also take "0x10" or "" as numbers.
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) ? Number(trimmed) : text;
}

/** `num_images: must be <= 4` as the flag a user typed: `--num-images: must be <= 4`. */
export function flagIssue(issue: FluxIssue, flags: readonly SpecFlag[]): string {
  const parameter = issue.field.split(/[.[]/)[0]!;
  const flag = flags.find((each) => each.parameter === parameter)?.flag;
  // A missing image is asked for by the flag --help shows first (the command's own --image).
  if (flag === "image-url" && issue.rule === "required") return `--image FILE|URL (or --image-url): ${issue.message}`;
  return `${flag ? `--${flag}` : issue.field}: ${issue.message}`;
}

const placeholders = { string: "TEXT", integer: "INT", number: "NUM", boolean: "" } as const;

/** The spec flags' part of `--help`: each flag with its type, bounds, default, choices and description. */
export function specFlagsHelp(flags: readonly SpecFlag[], width = 100): string {
  return flags
    .map(({ flag, type, nullable, required: isRequired, schema }) => {
      const name = type === "boolean" ? `--[no-]${flag}` : `--${flag} ${schema.enum ? "CHOICE" : placeholders[type]}`;
      const facts = [
        schema.enum ? `one of ${schema.enum.filter((choice) => choice !== null).join(", ")}` : type,
        schema.minimum !== undefined || schema.maximum !== undefined ? `${schema.minimum ?? "-inf"} to ${schema.maximum ?? "inf"}` : undefined,
        nullable ? "or null" : undefined,
        isRequired ? "required" : undefined,
        schema.default !== undefined ? `default ${String(schema.default)}` : undefined,
      ].filter(Boolean);
      const description = (schema.description ?? "").replace(/\s+/g, " ").trim();
      return `  ${name}\n${wrap(`${facts.join(", ")}. ${description}`, width - 6, "      ")}`;
    })
    .join("\n");
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join("\n");
}
