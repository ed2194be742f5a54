#!/usr/bin/env node
// @ts-check
// npm run check:imports: src/'s imports run one way, down the layers below, and no file imports a
// file that imports it (directly or around a longer circle). Type-only imports count: a circle of
// types is still a circle a reader has to untangle. Parsed with TypeScript's own pre-processor, so
// `import type`, `export ... from` and `import()` are all seen.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * The layers, bottom first. A file may import its own layer or a lower one; the first pattern
 * that matches a path (relative to the root, `/`-separated) gives its layer.
 * @type {readonly { name: string; pattern: RegExp }[]}
 */
export const layers = [
  { name: "generated", pattern: /^generated\// },
  { name: "shared types", pattern: /^src\/core\/types\.ts$/ },
  // Transport, errors, retries, bounded reads, SSE, credentials, redaction, seeds, validation: no endpoint call of their own.
  { name: "core", pattern: /^src\/core\// },
  { name: "storage", pattern: /^src\/storage\// },
  // The sync call and the queue: one floor, neither imports the other.
  { name: "calls", pattern: /^src\/(sync|queue)\// },
  { name: "server", pattern: /^src\/server\// },
  { name: "testing", pattern: /^src\/testing\// },
  // One endpoint's whole client (both halves), from its generated entry.
  { name: "client", pattern: /^src\/client\.ts$/ },
  // The one module that names this package's endpoint: its entry bound to the client, under the public names.
  { name: "binding", pattern: /^src\/image-to-image\.ts$/ },
  // The package's entries: the main one and flux-i2i/sync, flux-i2i/queue.
  { name: "entry", pattern: /^src\/(index|sync|queue)\.ts$/ },
  { name: "cli", pattern: /^src\/cli\// },
  { name: "bin", pattern: /^src\/bin\// },
];

/** The folders whose files are checked, relative to the root. */
const folders = ["src", "generated"];

/**
 * Every problem with the import graph under `root`: a file in no layer, an import up the layers or
 * out of them, and each knot of imports. Empty when the graph is clean.
 * @param {string} root
 * @param {Map<string, string[]>} [graph] the graph of `root`, if already read
 * @returns {string[]}
 */
export function checkImports(root, graph = importGraph(root)) {
  const problems = [];
  for (const [file, targets] of graph) {
    const from = layers.find(({ pattern }) => pattern.test(file));
    if (!from) {
      problems.push(`${file} is in no layer of scripts/check-imports.mjs`);
      continue;
    }
    for (const target of targets) {
      const to = layers.find(({ pattern }) => pattern.test(target));
      if (!to) {
        problems.push(`${file} imports ${target}, which is in no layer of scripts/check-imports.mjs`);
      } else if (layers.indexOf(to) > layers.indexOf(from)) {
        problems.push(`${file} (${from.name}) imports ${target} (${to.name}): imports run down the layers only`);
      } else if (/^generated\/(endpoints|endpoint-data|command)\.ts$/.test(target) && !["generated", "binding", "bin"].includes(from.name)) {
        problems.push(`${file} (${from.name}) imports ${target}: only src/image-to-image.ts and the bin bind an endpoint; the rest takes its entry`);
      } else if (from.name === "calls" && to.name === "calls" && file.split("/")[1] !== target.split("/")[1]) {
        problems.push(`${file} imports ${target}: the sync call and the queue stand apart (each entry ships without the other)`);
      }
    }
  }
  for (const { files, circle } of cycles(graph)) {
    problems.push(`import cycle among ${files.join(", ")} (one way round: ${[...circle, circle[0]].join(" -> ")})`);
  }
  return problems;
}

/**
 * Each .ts file under the checked folders, with the files of the project it imports.
 * @param {string} root
 * @returns {Map<string, string[]>}
 */
export function importGraph(root) {
  /** @type {Map<string, string[]>} */
  const graph = new Map();
  for (const folder of folders) {
    for (const path of tsFiles(join(root, folder))) {
      const file = toKey(root, path);
      const { importedFiles } = ts.preProcessFile(readFileSync(path, "utf8"), true, true);
      const targets = importedFiles
        .map(({ fileName }) => fileName)
        .filter((specifier) => specifier.startsWith("."))
        .map((specifier) => toKey(root, resolve(dirname(path), specifier.replace(/\.js$/, ".ts"))));
      graph.set(file, [...new Set(targets)].sort());
    }
  }
  return new Map([...graph].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The knots of the graph: each strongly connected component with more than one file (or a file
 * importing itself), with one circle through its first file (Tarjan's algorithm).
 * @param {Map<string, string[]>} graph
 * @returns {{ files: string[]; circle: string[] }[]}
 */
export function cycles(graph) {
  let counter = 0;
  /** @type {Map<string, { index: number; low: number }>} */
  const seen = new Map();
  /** @type {string[]} */
  const stack = [];
  const onStack = new Set();
  /** @type {{ files: string[]; circle: string[] }[]} */
  const found = [];

  /** @param {string} file @returns {{ index: number; low: number }} */
  function visit(file) {
    const mark = { index: counter, low: counter };
    counter++;
    seen.set(file, mark);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      const known = seen.get(target);
      if (!known) mark.low = Math.min(mark.low, visit(target).low);
      else if (onStack.has(target)) mark.low = Math.min(mark.low, known.index);
    }
    if (mark.low !== mark.index) return mark;
    // `file` is the root of a component: the files above it on the stack are the rest of it.
    const component = stack.splice(stack.indexOf(file));
    for (const member of component) onStack.delete(member);
    if (component.length > 1 || graph.get(file)?.includes(file)) {
      component.sort();
      found.push({ files: component, circle: circleThrough(graph, component) });
    }
    return mark;
  }

  for (const file of graph.keys()) if (!seen.has(file)) visit(file);
  return found;
}

/**
 * One circle through a component's files, starting from its first: the path a reader would follow.
 * @param {Map<string, string[]>} graph
 * @param {string[]} component
 */
function circleThrough(graph, component) {
  const members = new Set(component);
  const start = /** @type {string} */ (component[0]);
  // Breadth-first from the start back to itself, inside the component: the shortest circle.
  /** @type {Map<string, string[]>} the path from the start to each file reached */
  const pathTo = new Map([[start, [start]]]);
  for (const [file, path] of pathTo) {
    for (const target of graph.get(file) ?? []) {
      if (target === start) return path;
      if (members.has(target) && !pathTo.has(target)) pathTo.set(target, [...path, target]);
    }
  }
  return component;
}

/** @param {string} dir @returns {string[]} */
function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** @param {string} root @param {string} path */
function toKey(root, path) {
  return relative(root, path).split(sep).join("/");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const graph = importGraph(root);
  const problems = checkImports(root, graph);
  for (const problem of problems) console.error(problem);
  if (problems.length) {
    console.error(`\n${problems.length} import problem(s); the layers, bottom first: ${layers.map((l) => l.name).join(" < ")}`);
    process.exit(1);
  }
  const edges = [...graph.values()].reduce((sum, targets) => sum + targets.length, 0);
  console.log(`imports run down the layers, no cycle (${graph.size} files, ${edges} imports)`);
}
