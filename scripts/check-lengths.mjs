// npm run check:lengths: no function of src/ or test/support/ longer than 80 lines, and no
// `describe` block of test/ longer than 150, so that each reads on a screen or two. Lengths are
// counted from a function's first line to its last, nested functions inside their parent too.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
const maxFunctionLines = 80;
const maxDescribeLines = 150;

function* files(dir) {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) yield path;
  }
}

/** Each node of `source` that `pick` names, with its length in lines. */
function measured(path, pick) {
  const text = readFileSync(join(root, path), "utf8");
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    const name = pick(node);
    if (name) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ path, line: first + 1, name, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function functionName(node) {
  if (!ts.isFunctionDeclaration(node) && !ts.isFunctionExpression(node) && !ts.isArrowFunction(node) && !ts.isMethodDeclaration(node)) return undefined;
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))) return parent.name.getText();
  return "(anonymous)";
}

function describeName(node) {
  if (!ts.isCallExpression(node)) return undefined;
  const callee = node.expression.getText();
  if (!/^describe(\.\w+)?$/.test(callee)) return undefined;
  const [title] = node.arguments;
  return title && ts.isStringLiteralLike(title) ? `describe("${title.text}")` : "describe";
}

const problems = [
  ...["src", "test/support"].flatMap((dir) => [...files(dir)].flatMap((path) => measured(path, functionName)).filter((f) => f.lines > maxFunctionLines).map((f) => ({ ...f, limit: maxFunctionLines }))),
  ...[...files("test")].flatMap((path) => measured(path, describeName)).filter((d) => d.lines > maxDescribeLines).map((d) => ({ ...d, limit: maxDescribeLines })),
];
for (const p of problems) console.log(`${relative(root, join(root, p.path))}:${p.line}  ${p.name}: ${p.lines} lines (at most ${p.limit})`);
if (problems.length) {
  console.log(`\n${problems.length} too long`);
  process.exit(1);
}
console.log(`every function of src/ and test/support/ within ${maxFunctionLines} lines, every describe within ${maxDescribeLines}`);
