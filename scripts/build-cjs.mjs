// The CommonJS half of the package: after `tsc` has written the ESM build (dist/src, dist/generated),
// each of its files is turned into CommonJS by esbuild, file by file (not bundled: one module per
// file, so that every entry shares one copy of each class, as in the ESM build), under dist/cjs,
// whose package.json says "commonjs"; the declarations are copied beside them, where TypeScript
// reads them as CommonJS ones. `import.meta.url` (the mock's and extras' way to find openapi/ and
// package.json) becomes the file's own URL. The command (dist/src/bin, dist/src/cli) stays ESM only.
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const out = join(dist, "cjs");

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== join(dist, "src", "bin") && path !== join(dist, "src", "cli")) yield* files(path);
    } else yield path;
  }
}

await rm(out, { recursive: true, force: true });
const urlOfThisFile = 'const importMetaUrl = require("node:url").pathToFileURL(__filename).href;';
for (const part of ["src", "generated"]) {
  for await (const path of files(join(dist, part))) {
    const target = join(out, relative(dist, path));
    await mkdir(dirname(target), { recursive: true });
    if (path.endsWith(".d.ts")) {
      await copyFile(path, target);
    } else if (path.endsWith(".js")) {
      const source = await readFile(path, "utf8");
      const usesMeta = source.includes("import.meta");
      const { code } = await esbuild.transform(source, {
        format: "cjs",
        platform: "node",
        target: "node20",
        sourcefile: relative(root, path),
        ...(usesMeta ? { define: { "import.meta.url": "importMetaUrl" }, banner: urlOfThisFile } : {}),
      });
      await writeFile(target, code);
    }
  }
}
await writeFile(join(out, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);
