// fal's seeds are 64-bit: most are above 2^53, where a JSON number parsed by JSON.parse is rounded
// (15860307465884635512 becomes 15860307465884635000). Reusing a seed is how a user reproduces an
// image, so the client reads and writes seeds exactly: a bigint when a number cannot hold one.
import { numberTextAt } from "./json-text.js";
import type { Seed } from "./types.js";

/**
 * `parsed` (the seed JSON.parse read from `text` at `path`) as it is written there: the same number
 * when JSON.parse kept it exactly, else a bigint. Node 20's JSON.parse gives a reviver no source
 * text, so the digits are read from the text, at that path (the top-level `seed`, not the first
 * `"seed"` written: an image's own `seed` may come before it), the last when the key repeats.
 */
export function exactSeed(text: string, parsed: number, path: readonly string[] = ["seed"]): Seed {
  if (Number.isSafeInteger(parsed) || !Number.isInteger(parsed)) return parsed;
  const digits = numberTextAt(text, path);
  if (digits === undefined || !/^-?\d+$/.test(digits)) return parsed;
  const exact = BigInt(digits);
  return Number(exact) === parsed ? exact : parsed;
}

/** Makes `body.seed`, if it is a number, exact (see {@link exactSeed}); `path` is where `body` sits in `text`. */
export function withExactSeed(body: unknown, text: string, path: readonly string[] = []): void {
  const target = body as { seed?: unknown } | null;
  if (target !== null && typeof target === "object" && typeof target.seed === "number") {
    target.seed = exactSeed(text, target.seed, [...path, "seed"]);
  }
}

/**
 * The body as the spec's validator sees it: a bigint (an exact seed, or a command-line integer too
 * big for a number) as the number nearest to it, so that its type, sign and bounds are checked.
 */
export function forValidation<T extends object>(body: T): T {
  if (body === null || typeof body !== "object" || !Object.values(body).some((value) => typeof value === "bigint")) return body;
  return Object.fromEntries(Object.entries(body).map(([key, value]) => [key, typeof value === "bigint" ? Number(value) : value])) as T;
}

/**
 * `JSON.stringify` that writes a bigint (an exact seed) as a JSON number with every digit, where
 * `JSON.stringify` itself throws. The client sends request bodies with it; use it to store outputs.
 */
export function stringifyExact(value: unknown, space?: number): string {
  // Most values hold no bigint: JSON.stringify without a replacer is several times quicker, and
  // throws on a bigint (or a cycle, which the replacer's pass throws on again).
  try {
    return JSON.stringify(value, undefined, space);
  } catch {
    return stringifyWithBigints(value, space);
  }
}

function stringifyWithBigints(value: unknown, space?: number): string {
  const marker = `\u0000bigint:${Math.random().toString(36).slice(2)}:`;
  let found = false;
  const text = JSON.stringify(
    value,
    (_key, item: unknown) => {
      if (typeof item !== "bigint") return item;
      found = true;
      return `${marker}${item}`;
    },
    space,
  );
  if (!found) return text;
  // A string of the value would have to hold the random marker to be taken for a bigint.
  const escaped = JSON.stringify(marker).slice(1, -1).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text.replace(new RegExp(`"${escaped}(-?\\d+)"`, "g"), "$1");
}
