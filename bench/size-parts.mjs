// npm run bench:size-parts: what one call of each entry would ship without each feature, so that a
// size target can be weighed against what it would cost. Each row stubs modules (or single
// validators) out of the bundle, cumulatively, and bundles one call as bench/run.mjs does
// (bench/one-call.mjs). A stubbed part is gone with everything only it imports; the rows are
// what the bundle would weigh, not a build that works.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipBytes, oneCallBundle } from "./one-call.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const input = `{ image_url: "https://x/y.png", prompt: "p" }`;
const entries = {
  "flux-i2i/sync imageToImage": `import { createSyncClient } from "flux-i2i/sync"; createSyncClient({ credentials: "k" }).imageToImage(${input}).then(console.log);`,
  "flux-i2i/queue subscribe": `import { createQueueClient } from "flux-i2i/queue"; createQueueClient({ credentials: "k" }).subscribe(${input}).then(console.log);`,
  "flux-i2i imageToImage": `import { createFluxClient } from "flux-i2i"; createFluxClient({ credentials: "k" }).imageToImage(${input}).then(console.log);`,
};
const answerValidators = ["validateImageToImageOutput", "validateQueueStatus", "validateQueueSubmitted", "validateCancelAnswer", "validateCancelNotFound"];
/** Each row adds to the one before: [what is left out, modules stubbed, validators stubbed]. */
const rows = [
  ["nothing (as shipped)", [], []],
  ["uploads of bytes (storage/upload)", ["src/storage/upload.js"], []],
  ["+ the answers' validation", ["src/storage/upload.js"], answerValidators],
  ["+ fal's platform options (headers)", ["src/storage/upload.js", "src/core/platform-options.js"], answerValidators],
  ["+ every validator, the input's too", ["src/storage/upload.js", "src/core/platform-options.js", "generated/validators.js"], []],
  ["+ the key's redaction", ["src/storage/upload.js", "src/core/platform-options.js", "generated/validators.js", "src/core/redaction.js"], []],
];

/** A plugin that swaps each export of a stubbed module (or each named validator) for a global of no size. */
function stubs(modules, validators) {
  const stub = (names) => names.map((name) => `export const ${name} = globalThis.stub;`).join("\n");
  return {
    name: "stubs",
    setup(build) {
      build.onLoad({ filter: /\.m?js$/ }, ({ path }) => {
        const source = readFileSync(path, "utf8");
        if (modules.some((module) => path.endsWith(module))) {
          const names = [...source.matchAll(/export (?:const|function|class|async function) (\w+)/g)].map((m) => m[1]);
          return { contents: stub(names), loader: "js" };
        }
        if (validators.length && path.endsWith("generated/validators.js")) {
          let contents = source;
          for (const name of validators) contents = contents.replace(new RegExp(`export const ${name} = \\w+;`), `export const ${name} = globalThis.stub;`);
          return { contents, loader: "js" };
        }
        return undefined;
      });
    },
  };
}

const weigh = async (contents, modules, validators) => gzipBytes(await oneCallBundle(contents, root, { plugins: [stubs(modules, validators)] }));

console.log("One call's bundle (esbuild, browser, minified; gzip -9 bytes) with each part left out, each row on top of the one before");
console.log(`${"left out".padEnd(40)}${Object.keys(entries).map((name) => name.padStart(28)).join("")}`);
for (const [name, modules, validators] of rows) {
  const sizes = [];
  for (const contents of Object.values(entries)) sizes.push(await weigh(contents, modules, validators));
  console.log(`${name.padEnd(40)}${sizes.map((size) => `${size} B`.padStart(28)).join("")}`);
}
