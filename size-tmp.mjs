import * as esbuild from "esbuild";
import { gzipSync } from "node:zlib";
const r = await esbuild.build({ stdin: { contents: `import { createFluxClient } from "./src/index.ts"; createFluxClient({ credentials: "k" }).imageToImage({ image_url: "https://x/y.png", prompt: "p" }).then(console.log);`, resolveDir: process.cwd(), loader: "ts" }, bundle: true, minify: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "silent" });
console.log(r.outputFiles[0].contents.length, gzipSync(r.outputFiles[0].contents, { level: 9 }).length);
