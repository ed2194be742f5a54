// What a browser bundle of one call takes of generated/: only what the call uses. A bundler drops a
// generated constant no call reads only when nothing at the top level of its module could run code
// on load; a property read there (`schema.properties.x`) could, so it would keep the constant and
// everything it names. Bundled from src/ as bench/run.mjs bundles the built package (bench/one-call.mjs:
// esbuild, tree-shaken, minified); the bench measures the sizes, this checks what is in them.
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { oneCallBundle } from "../bench/one-call.mjs";
import { imageToImageFlags, imageToImageInputSchema } from "../generated/endpoint-data.js";

const root = resolve(import.meta.dirname, "..");

/** The minified browser bundle of `contents`, which imports the package's entries from src/ (`flux-i2i` is src/index.ts). */
const bundle = async (contents: string) => new TextDecoder().decode(await oneCallBundle(contents, root, { alias: { "flux-i2i": join(root, "src/index.ts") } }));

const call = (entry: string, factory: string, method: string) =>
  `import { ${factory} } from "${entry}";\n${factory}({ credentials: "k" }).${method}({ image_url: "https://x/y.png", prompt: "p" }).then(console.log);`;

describe("a browser bundle of one call", () => {
  it.each([
    ["the sync entry's imageToImage", call("./src/sync.ts", "createSyncClient", "imageToImage")],
    ["the queue entry's subscribe", call("./src/queue.ts", "createQueueClient", "subscribe")],
    ["the main entry's imageToImage", call("flux-i2i", "createFluxClient", "imageToImage")],
  ])("%s holds neither the command's flag table nor the input schema's descriptions", async (_, contents) => {
    const code = await bundle(contents);
    expect(code).toContain("fal.run"); // the bundle is the call's
    const flagNames = imageToImageFlags.filter((flag) => flag.flag !== flag.parameter).map((flag) => `"${flag.flag}"`);
    expect(flagNames.length).toBeGreaterThan(3);
    expect(flagNames.filter((name) => code.includes(name))).toEqual([]);
    expect(code).not.toContain(imageToImageInputSchema.properties.prompt.description);
  });
});
