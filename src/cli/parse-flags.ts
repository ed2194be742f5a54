// The command's flags, read strictly by node:util's parseArgs, with a flag it does not know told as
// a usage error that names the flag meant, from the same suggestion the library gives an unknown
// parameter (src/suggest.ts).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closest } from "../core/suggest.js";
import { UsageError } from "./usage-error.js";

export type FlagValues = Record<string, string | boolean | undefined>;

/** The flags' values; a bad command line is a UsageError (`unknown flag --num-image (did you mean --num-images?)`). */
export function parseFlags(args: string[], options: NonNullable<ParseArgsConfig["options"]>): FlagValues {
  try {
    return parseArgs({ args, options, strict: true }).values as FlagValues;
  } catch (error) {
    const unknown = /^Unknown option '(-{1,2})([^']+)'/.exec((error as Error).message);
    if (!unknown) throw new UsageError((error as Error).message);
    const [, dashes, name] = unknown;
    const guess = closest(name!, Object.keys(options));
    throw new UsageError(`unknown flag ${dashes}${name}${guess ? ` (did you mean --${guess}?)` : ""}`);
  }
}
