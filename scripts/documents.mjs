// The spec's documents read as one: Redocly's bundler brings in what a document's `$ref`s point to
// in other files. Shared by the generator (scripts/generate.mjs) and the breaking-change check
// (scripts/check-breaking.mjs), so that both read a document the same way.
import { bundle, createConfig } from "@redocly/openapi-core";

async function read(file, dereference) {
  const config = await createConfig({}, {});
  const { bundle: result } = await bundle({ ref: file, config, dereference });
  return result.parsed;
}

/** A document with every `$ref` followed, across files. @param {string} file */
export const dereferenced = (file) => read(file, true);

/** A document with its `$ref`s to other files brought in as its own components (`#/components/...`). @param {string} file */
export const bundled = (file) => read(file, false);
