// One call's browser bundle, built the one way every size figure of this package is: esbuild, for
// the browser, bundled and tree-shaken, minified, ES2022; its weight is gzip -9 bytes. Used by
// bench/run.mjs, bench/size-parts.mjs and test/bundles.test.ts.
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

/**
 * The minified bundle of `contents` (a module that imports the package and makes one call), whose
 * imports resolve from `resolveDir`. `options`: more esbuild options (plugins, aliases).
 * @param {string} contents @param {string} resolveDir @param {import("esbuild").BuildOptions} [options]
 * @returns {Promise<Uint8Array>}
 */
export async function oneCallBundle(contents, resolveDir, options = {}) {
  const result = await esbuild.build({
    stdin: { contents, resolveDir, loader: "ts" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
    ...options,
  });
  return result.outputFiles[0].contents;
}

/** What a bundle weighs over the wire: gzip -9 bytes. @param {Uint8Array} code */
export const gzipBytes = (code) => gzipSync(code, { level: 9 }).length;
