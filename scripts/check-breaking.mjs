#!/usr/bin/env node
// @ts-check
// The breaking-change gate (npm run check:breaking, part of npm test): each document of openapi/
// compared with the last release's, by `redocly diff` (diff-recommended rules) and by two rules of
// our own that redocly does not have (below). A breaking change fails the gate unless the
// package's major version moved since the release, or CHANGELOG.md's "## Unreleased" /
// "### Breaking" list names it by the id the gate prints for it (`[spec:1a2b3c4d]`, a hash of the
// document, the place and the change): each new breaking change needs an entry of its own, an old
// entry does not cover a new one.
//
// The base is the release snapshot in the repository, spec-release/ (the documents as released and
// release.json, the version they shipped in), so that a fresh clone of main, a branch and a
// pull-request checkout are all judged against the same release: no tag, no history, no `main`
// needed. A missing snapshot is an error, never a pass. `--base REV` compares with a git revision
// instead, for a look at one change. `--record-release` writes the snapshot from openapi/ and
// package.json's version, at a release.
//
// Our rules, over the documents with every $ref followed:
// - a `default` changed or removed on the request side (a parameter, a request body): every caller
//   who leaves the value out gets (and is billed for) something else, which redocly calls no change;
// - an `enum` narrowed on the answer side (a response, a webhook's payload): a server that sent the
//   value removed, fal included, stops conforming, and the client starts refusing its answers.
//
// Webhooks are judged from the receiver's side: a webhook's payload and headers are what *we*
// receive, so a change breaks us when, with base and revision swapped, it would break a request we
// send. redocly diff applies no rules to `webhooks` at all (a required header made optional is a
// "patch" either way), so each webhook is moved to a path of its own (`/webhooks/NAME`) in copies
// of both documents, and that path's changes are taken from the swapped diff.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse, stringify } from "yaml";
import { dereferenced } from "./documents.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The documents compared; components.yaml is compared through them (their $refs are followed). */
const documents = ["openapi/image-to-image.yaml", "openapi/queue.yaml", "openapi/storage.yaml"];
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

/** Where the release snapshot lives, and its record of the version it shipped in. */
export const releaseDir = "spec-release";

/**
 * The base to compare with: a git revision when given, else the release snapshot. Undefined when
 * there is no snapshot (a repository that never recorded a release: an error, not a pass).
 * @param {string} cwd @param {string | undefined} rev
 * @returns {{ why: string, read: (file: string) => string | undefined, major: number | undefined } | undefined}
 */
export function chooseBase(cwd, rev) {
  const major = (/** @type {string | undefined} */ version) => (version ? Number(version.split(".")[0]) : undefined);
  if (rev) {
    const manifest = tryGit(["show", `${rev}:package.json`], cwd);
    return { why: `revision ${rev}`, read: (file) => tryGit(["show", `${rev}:${file}`], cwd), major: major(manifest && JSON.parse(manifest).version) };
  }
  const record = path.join(cwd, releaseDir, "release.json");
  if (!existsSync(record)) return undefined;
  const { version } = JSON.parse(readFileSync(record, "utf8"));
  const read = (/** @type {string} */ file) => {
    const copy = path.join(cwd, releaseDir, file);
    return existsSync(copy) ? readFileSync(copy, "utf8") : undefined;
  };
  return { why: `release ${version} (${releaseDir}/)`, read, major: major(version) };
}

/**
 * The breaking changes between the base's spec and the working tree of `cwd`.
 * @param {string} cwd
 * @param {{ read: (file: string) => string | undefined }} base
 * @returns {Promise<{ id: string, document: string, path: string, message: string }[]>}
 */
export async function breakingChanges(cwd, base) {
  const scratch = mkdtempSync(path.join(tmpdir(), "flux-i2i-spec-diff-"));
  const config = path.join(scratch, "redocly-diff.yaml");
  writeFileSync(config, "extends:\n  - diff-recommended\n");
  try {
    // Both sides as copies whose webhooks are paths: the base from git, the revision from the working tree.
    for (const side of ["base", "revision"]) {
      mkdirSync(path.join(scratch, side, "openapi"), { recursive: true });
      for (const file of specFiles) {
        const text = side === "base" ? base.read(file) : readFileSync(path.join(cwd, file), "utf8");
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
          const [forward, swapped, ours] = await Promise.all([diff(before, after, config, cwd), diff(after, before, config, cwd), ourRules(before, after)]);
          return { document, forward, swapped, ours };
        }),
    );
    for (const { document, forward, swapped, ours } of compared) {
      const isWebhook = (/** @type {{ path: string }} */ change) => change.path.startsWith("#/paths/~1webhooks~1");
      for (const change of [...forward.filter((c) => !isWebhook(c)), ...swapped.filter(isWebhook), ...ours]) {
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

/** A JSON pointer's segment. @param {string} key */
const segment = (key) => key.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * Each schema under `node` (every keyword that holds one), by JSON pointer, for `visit`. Cycles of
 * a dereferenced document are walked once.
 * @param {unknown} node @param {string} pointer @param {(schema: Record<string, unknown>, pointer: string) => void} visit @param {Set<unknown>} seen
 */
function walkSchema(node, pointer, visit, seen = new Set()) {
  if (!node || typeof node !== "object" || seen.has(node)) return;
  seen.add(node);
  const schema = /** @type {Record<string, any>} */ (node);
  visit(schema, pointer);
  for (const [name, sub] of Object.entries(schema.properties ?? {})) walkSchema(sub, `${pointer}/properties/${segment(name)}`, visit, seen);
  for (const key of ["items", "additionalProperties", "not", "contentSchema", "x-event-data"]) walkSchema(schema[key], `${pointer}/${key}`, visit, seen);
  for (const key of ["oneOf", "anyOf", "allOf"]) (schema[key] ?? []).forEach((/** @type {unknown} */ sub, /** @type {number} */ i) => walkSchema(sub, `${pointer}/${key}/${i}`, visit, seen));
}

/**
 * The schemas of each operation (webhooks as the paths redocly sees them here), on the side the
 * caller sends (`request`: parameters, request bodies) or receives (`answer`: responses; a
 * webhook's request, which fal sends to us), by JSON pointer.
 * @param {any} document @returns {{ request: Map<string, Record<string, any>>, answer: Map<string, Record<string, any>> }}
 */
function schemasBySide(document) {
  const request = new Map();
  const answer = new Map();
  for (const [route, item] of Object.entries(document.paths ?? {})) {
    const received = route.startsWith("/webhooks/");
    for (const [method, operation] of Object.entries(/** @type {Record<string, any>} */ (item))) {
      if (!operation?.responses) continue;
      const at = `#/paths/${segment(route)}/${method}`;
      const collect = (/** @type {Map<string, any>} */ into, /** @type {unknown} */ schema, /** @type {string} */ pointer) =>
        walkSchema(schema, pointer, (sub, where) => into.set(where, sub));
      (operation.parameters ?? []).forEach((/** @type {any} */ p) => collect(received ? answer : request, p.schema, `${at}/parameters/${segment(p.name)}/schema`));
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        collect(received ? answer : request, /** @type {any} */ (media).schema, `${at}/requestBody/content/${segment(type)}/schema`);
      }
      if (received) continue;
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const [type, media] of Object.entries(/** @type {any} */ (response).content ?? {})) {
          collect(answer, /** @type {any} */ (media).schema, `${at}/responses/${status}/content/${segment(type)}/schema`);
        }
      }
    }
  }
  return { request, answer };
}

/**
 * The breaking changes redocly does not see: a request-side default changed or removed, an
 * answer-side enum narrowed. Parameters are matched by name, not by position.
 * @param {string} before @param {string} after @returns {Promise<{ path: string, message: string }[]>}
 */
async function ourRules(before, after) {
  const [base, revision] = (await Promise.all([dereferenced(before), dereferenced(after)])).map(schemasBySide);
  const found = [];
  for (const [pointer, schema] of base.request) {
    const now = revision.request.get(pointer);
    if (!now || !("default" in schema)) continue;
    if (JSON.stringify(now.default) !== JSON.stringify(schema.default)) {
      const was = JSON.stringify(schema.default);
      found.push({ path: `${pointer}/default`, message: "default" in now ? `The default changed from ${was} to ${JSON.stringify(now.default)}: a caller who leaves it out gets another result.` : `The default ${was} was removed.` });
    }
  }
  for (const [pointer, schema] of base.answer) {
    const now = revision.answer.get(pointer);
    if (!now || !Array.isArray(schema.enum) || !Array.isArray(now.enum)) continue;
    const removed = schema.enum.filter((/** @type {unknown} */ value) => !now.enum.some((/** @type {unknown} */ v) => JSON.stringify(v) === JSON.stringify(value)));
    if (removed.length) found.push({ path: `${pointer}/enum`, message: `An answer's enum lost ${removed.map((v) => JSON.stringify(v)).join(", ")}: a server that sends it no longer conforms.` });
  }
  return found;
}

/**
 * The changes not acknowledged: all of them when nothing acknowledges them, none when the major
 * version moved since the base, else those whose id CHANGELOG.md's Unreleased / Breaking list does not name.
 * @param {string} cwd @param {{ major: number | undefined }} base @param {{ id: string }[]} changes
 */
export function unacknowledged(cwd, base, changes) {
  const baseMajor = base.major;
  const headMajor = Number(JSON.parse(readFileSync(path.join(cwd, "package.json"), "utf8")).version.split(".")[0]);
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

/** Writes the release snapshot: openapi/ as it is, with package.json's version. @param {string} cwd */
function recordRelease(cwd) {
  const { version } = JSON.parse(readFileSync(path.join(cwd, "package.json"), "utf8"));
  mkdirSync(path.join(cwd, releaseDir, "openapi"), { recursive: true });
  for (const file of specFiles) writeFileSync(path.join(cwd, releaseDir, file), readFileSync(path.join(cwd, file), "utf8"));
  const commit = tryGit(["rev-parse", "HEAD"], cwd);
  writeFileSync(path.join(cwd, releaseDir, "release.json"), `${JSON.stringify({ version, commit, recorded: new Date().toISOString().slice(0, 10) }, null, 2)}\n`);
  console.log(`check:breaking: recorded openapi/ as release ${version} in ${releaseDir}/; move CHANGELOG.md's Unreleased entries under ${version}`);
}

async function main() {
  // The repository judged is the one the command runs in (npm runs it at the package's root).
  const repo = process.cwd();
  if (process.argv.includes("--record-release")) return recordRelease(repo);
  const explicit = process.argv.includes("--base") ? process.argv[process.argv.indexOf("--base") + 1] : undefined;
  const base = chooseBase(repo, explicit);
  if (!base) {
    console.error(`check:breaking: no base to compare with: ${releaseDir}/release.json is missing. Record the last release with \`node scripts/check-breaking.mjs --record-release\` (or compare with a revision: --base REV).`);
    process.exit(1);
  }
  const changes = await breakingChanges(repo, base);
  if (!changes.length) {
    console.log(`check:breaking: no breaking change since ${base.why}`);
    return;
  }
  const open = unacknowledged(repo, base, changes);
  const list = (/** @type {typeof changes} */ some) => some.map((c) => `  [${c.id}] ${c.document} ${c.path}: ${c.message}`).join("\n");
  if (!open.length) {
    console.log(`check:breaking: ${changes.length} breaking change(s) since ${base.why}, each acknowledged`);
    return;
  }
  console.error(
    `check:breaking: ${open.length} breaking change(s) since ${base.why} not acknowledged:\n${list(open)}\n` +
      'Undo each, or acknowledge it: an entry naming its [spec:...] id under "## Unreleased" / "### Breaking" in CHANGELOG.md, or raise the major version.',
  );
  process.exit(1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
