#!/usr/bin/env node
// @ts-check
// The breaking-change gate (npm run check:breaking, part of npm test): each document of openapi/
// compared with its version at a base revision by `redocly diff` (diff-recommended rules). A
// breaking change fails the gate unless the package's major version moved since the base, or
// CHANGELOG.md's "## Unreleased" / "### Breaking" list names it by the id the gate prints for it
// (`[spec:1a2b3c4d]`, a hash of the document, the place and the change): each new breaking change
// needs an entry of its own, an old entry does not cover a new one.
//
// Webhooks are judged from the receiver's side: a webhook's payload and headers are what *we*
// receive, so a change breaks us when, with base and revision swapped, it would break a request we
// send. redocly diff applies no rules to `webhooks` at all (a required header made optional is a
// "patch" either way), so each webhook is moved to a path of its own (`/webhooks/NAME`) in copies
// of both documents, and that path's changes are taken from the swapped diff.
//
// The base: `--base REV`, else $SPEC_BASE, else the newest `v*` tag, else the merge base with
// `main` when HEAD is not on it; with none of these (a clean clone of main, never released), the
// gate says so and passes.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse, stringify } from "yaml";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The documents compared; components.yaml is compared through them (their $refs are followed). */
const documents = ["openapi/image-to-image.yaml", "openapi/queue.yaml"];
const specFiles = ["openapi/components.yaml", ...documents];

/** @param {string[]} args @param {string} cwd */
function git(args, cwd) {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
}

/** @param {string} cwd @returns {string | undefined} */
function tryGit(args, cwd) {
  try {
    return git(args, cwd) || undefined;
  } catch {
    return undefined;
  }
}

/** The revision to compare with, and why it was chosen. @param {string} cwd @param {string | undefined} explicit */
export function chooseBase(cwd, explicit) {
  if (explicit) return { rev: explicit, why: "given" };
  if (process.env.SPEC_BASE) return { rev: process.env.SPEC_BASE, why: "SPEC_BASE" };
  const tag = tryGit(["describe", "--tags", "--abbrev=0", "--match", "v*"], cwd);
  if (tag) return { rev: tag, why: `the last release tag ${tag}` };
  const head = tryGit(["rev-parse", "HEAD"], cwd);
  const main = tryGit(["rev-parse", "--verify", "--quiet", "main"], cwd);
  if (head && main && head !== main) {
    const mergeBase = tryGit(["merge-base", "HEAD", "main"], cwd);
    if (mergeBase) return { rev: mergeBase, why: "the merge base with main" };
  }
  return undefined;
}

/**
 * The breaking changes between the spec at `rev` and in the working tree of `cwd`.
 * @param {string} cwd
 * @param {string} rev
 * @returns {Promise<{ id: string, document: string, path: string, message: string }[]>}
 */
export async function breakingChanges(cwd, rev) {
  const scratch = mkdtempSync(path.join(tmpdir(), "flux-i2i-spec-diff-"));
  const config = path.join(scratch, "redocly-diff.yaml");
  writeFileSync(config, "extends:\n  - diff-recommended\n");
  try {
    // Both sides as copies whose webhooks are paths: the base from git, the revision from the working tree.
    for (const side of ["base", "revision"]) {
      mkdirSync(path.join(scratch, side, "openapi"), { recursive: true });
      for (const file of specFiles) {
        const text = side === "base" ? tryGit(["show", `${rev}:${file}`], cwd) : readFileSync(path.join(cwd, file), "utf8");
        if (text !== undefined) writeFileSync(path.join(scratch, side, file), webhooksAsPaths(text));
      }
    }
    const found = [];
    // Every diff at once: each is a process of its own, mostly waiting to start.
    const compared = await Promise.all(
      documents
        .filter((document) => existsSync(path.join(scratch, "base", document))) // a new document breaks nothing
        .map(async (document) => {
          const before = path.join(scratch, "base", document);
          const after = path.join(scratch, "revision", document);
          const [forward, swapped] = await Promise.all([diff(before, after, config, cwd), diff(after, before, config, cwd)]);
          return { document, forward, swapped };
        }),
    );
    for (const { document, forward, swapped } of compared) {
      const isWebhook = (/** @type {{ path: string }} */ change) => change.path.startsWith("#/paths/~1webhooks~1");
      for (const change of [...forward.filter((c) => !isWebhook(c)), ...swapped.filter(isWebhook)]) {
        const id = `spec:${createHash("sha256").update(`${document}\n${change.path}\n${change.message}`).digest("hex").slice(0, 8)}`;
        found.push({ id, document, path: change.path, message: change.message });
      }
    }
    return found;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A document with each webhook moved to `paths["/webhooks/NAME"]`, so that request rules judge it. @param {string} text */
function webhooksAsPaths(text) {
  const document = parse(text);
  if (!document?.webhooks) return text;
  document.paths ??= {};
  for (const [name, item] of Object.entries(document.webhooks)) document.paths[`/webhooks/${name}`] = item;
  delete document.webhooks;
  return stringify(document);
}

/** The major changes of one `redocly diff`, as { path, message }. @param {string} base @param {string} revision @param {string} config @param {string} cwd */
async function diff(base, revision, config, cwd) {
  const bin = path.join(root, "node_modules", ".bin", "redocly");
  // redocly exits 1 when it finds a major change: the report is read either way.
  const run = await promisify(execFile)(bin, ["diff", base, revision, "--config", config, "--format", "json"], { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    (/** @type {{ stdout?: string, stderr?: string, code?: number }} */ error) => ({ stdout: error.stdout ?? "", stderr: error.stderr ?? "", code: error.code }),
  );
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    throw new Error(`redocly diff gave no report:\n${String(run.stderr).slice(-2000)}`);
  }
  return (report.changes ?? [])
    .filter((/** @type {{ impact: string }} */ change) => change.impact === "major")
    .map((/** @type {{ path: string, verdicts?: { message?: string }[], kind: string, property?: string }} */ change) => ({
      path: change.path,
      message: change.verdicts?.map((v) => v.message).filter(Boolean).join("; ") || `${change.kind} ${change.property ?? ""}`.trim(),
    }));
}

/**
 * The changes not acknowledged: all of them when nothing acknowledges them, none when the major
 * version moved, else those whose id CHANGELOG.md's Unreleased / Breaking list does not name.
 * @param {string} cwd @param {string} rev @param {{ id: string }[]} changes
 */
export function unacknowledged(cwd, rev, changes) {
  const major = (/** @type {string | undefined} */ text) => (text ? Number(JSON.parse(text).version.split(".")[0]) : undefined);
  const baseMajor = major(tryGit(["show", `${rev}:package.json`], cwd));
  const headMajor = major(readFileSync(path.join(cwd, "package.json"), "utf8"));
  if (baseMajor !== undefined && headMajor !== undefined && headMajor > baseMajor) return [];
  const changelog = existsSync(path.join(cwd, "CHANGELOG.md")) ? readFileSync(path.join(cwd, "CHANGELOG.md"), "utf8") : "";
  const named = new Set(breakingSection(changelog).match(/spec:[0-9a-f]{8}/g) ?? []);
  return changes.filter((change) => !named.has(change.id));
}

/** The text under "### Breaking" in "## Unreleased", or "" when there is none. @param {string} text */
function breakingSection(text) {
  const unreleased = /^## Unreleased\s*$([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(text)?.[1] ?? "";
  return /^### Breaking\s*$([\s\S]*?)(?=^### |(?![\s\S]))/m.exec(unreleased)?.[1] ?? "";
}

async function main() {
  // The repository judged is the one the command runs in (npm runs it at the package's root).
  const repo = process.cwd();
  const explicit = process.argv.includes("--base") ? process.argv[process.argv.indexOf("--base") + 1] : undefined;
  const base = chooseBase(repo, explicit);
  if (!base) {
    console.log("check:breaking: no base to compare with (no release tag, no SPEC_BASE, HEAD is main): nothing to judge");
    return;
  }
  const changes = await breakingChanges(repo, base.rev);
  if (!changes.length) {
    console.log(`check:breaking: no breaking change since ${base.why} (${base.rev})`);
    return;
  }
  const open = unacknowledged(repo, base.rev, changes);
  const list = (/** @type {typeof changes} */ some) => some.map((c) => `  [${c.id}] ${c.document} ${c.path}: ${c.message}`).join("\n");
  if (!open.length) {
    console.log(`check:breaking: ${changes.length} breaking change(s) since ${base.why} (${base.rev}), each acknowledged`);
    return;
  }
  console.error(
    `check:breaking: ${open.length} breaking change(s) since ${base.why} (${base.rev}) not acknowledged:\n${list(open)}\n` +
      'Undo each, or acknowledge it: an entry naming its [spec:...] id under "## Unreleased" / "### Breaking" in CHANGELOG.md, or raise the major version.',
  );
  process.exit(1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
