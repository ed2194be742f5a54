// What the command's extras need and the library never does: Prism (the mock) and fast-check (the
// contract checks) are optional peers of this package (package.json's peerDependenciesMeta), not
// installed with it. A path that needs one names the install line, with the version package.json
// pins, so that the line and the package never disagree.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type Extra = "@stoplight/prism-cli" | "fast-check";

/** `npm install --save-dev NAME@VERSION`, the version as this package's package.json asks for it. */
export function installLine(extra: Extra): string {
  return `npm install --save-dev ${extra}@${peerVersions()[extra] ?? "latest"}`;
}

/** An extra is not installed where this package is: a usage problem of the command (exit 2), not a bug. */
export class ExtraMissingError extends Error {
  override name = "ExtraMissingError";
  constructor(
    readonly extra: Extra,
    what: string,
  ) {
    super(`${what} needs ${extra}, which is not installed (an optional peer of flux-i2i): ${installLine(extra)}`);
  }
}

/** Whether `error` is the failure to load `extra` (an import or require that found no such package). */
export function isMissing(error: unknown, extra: Extra): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && typeof message === "string" && message.includes(`'${extra}`);
}

function peerVersions(): Record<string, string> {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; peerDependencies?: Record<string, string> };
    if (parsed.name === "flux-i2i") return parsed.peerDependencies ?? {};
  }
  return {};
}
