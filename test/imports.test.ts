// npm run check:imports passes on src/ as it is and fails, naming the files, on an import up the
// layers, a file in no layer, and a circle of imports, type-only ones included.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkImports, importGraph } from "../scripts/check-imports.mjs";

const root = resolve(import.meta.dirname, "..");

describe("the import graph of src/", () => {
  it("runs down the layers, with no cycle", () => {
    expect(checkImports(root)).toEqual([]);
  });

  it("is read whole: the client reaches the queue, and the types module only generated/", () => {
    const graph = importGraph(root);
    expect(graph.get("src/client.ts")).toContain("src/queue/client.ts");
    expect(graph.get("src/queue/client.ts")).toContain("src/queue/calls.ts");
    expect(graph.get("src/core/types.ts")).toEqual(["generated/queue.ts", "generated/spec.ts", "generated/validators.ts"]); // `import type` of operationResponses, for OperationId
    // The endpoint's entry is bound by the library's binding; the bin takes generated/command.ts's commandEndpoint, which names none; the rest of src/ takes an entry.
    const binders = [...graph].filter(([file, targets]) => file.startsWith("src/") && targets.some((t) => /^generated\/(endpoints|endpoint-data|command)\.ts$/.test(t))).map(([file]) => file);
    expect(binders.sort()).toEqual(["src/bin/flux-i2i.ts", "src/image-to-image.ts"]);
    expect(graph.get("src/index.ts")).toContain("src/core/types.ts"); // `export type ... from` counts
  });
});

describe("a planted problem is found and named", () => {
  const scratch = mkdtempSync(join(tmpdir(), "flux-imports-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function tree(name: string, files: Record<string, string>): string {
    const dir = join(scratch, name);
    for (const [path, text] of Object.entries({ "generated/spec.ts": "export const x = 1;\n", ...files })) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  }

  it("an import up the layers: shared types reaching for the client, the client for the command line; the sync call for the queue; the queue for an endpoint's entry", () => {
    const dir = tree("upward", {
      "src/core/types.ts": 'import type { Client } from "../client.js";\nexport type T = Client;\n',
      "src/client.ts": 'import { flags } from "./cli/flags.js";\nexport type Client = typeof flags;\n',
      "src/cli/flags.ts": 'import { x } from "../../generated/spec.js";\nexport const flags = x;\n',
      "src/sync/client.ts": 'import { q } from "../queue/client.js";\nexport const s = q;\n',
      "src/queue/client.ts": "export const q = 1;\n",
      "src/queue/calls.ts": 'import { imageToImageQueue } from "../../generated/endpoints.js";\nexport const e = imageToImageQueue;\n',
      "generated/endpoints.ts": "export const imageToImageQueue = {};\n",
    });
    expect(checkImports(dir)).toEqual([
      "src/client.ts (client) imports src/cli/flags.ts (cli): imports run down the layers only",
      "src/core/types.ts (shared types) imports src/client.ts (client): imports run down the layers only",
      "src/queue/calls.ts (calls) imports generated/endpoints.ts: only src/image-to-image.ts and the bin bind an endpoint; the rest takes its entry",
      "src/sync/client.ts imports src/queue/client.ts: the sync call and the queue stand apart (each entry ships without the other)",
    ]);
  });

  it("a circle of type-only imports, the knot src/ had: every file of it named, and one way round", () => {
    const dir = tree("cycle", {
      "src/core/client.ts": 'import { send } from "./request.js";\nexport type FetchLike = () => void;\nexport const c = send;\n',
      "src/core/request.ts": 'import type { FetchLike } from "./client.js";\nexport const send = (f: FetchLike) => f;\n',
      "src/core/queue.ts": 'export { send } from "./request.js";\nexport type Q = import("./queue-types.js").Q;\n',
      "src/core/queue-types.ts": 'import type { send } from "./queue.js";\nexport type Q = typeof send;\n',
    });
    expect(checkImports(dir)).toEqual([
      "import cycle among src/core/client.ts, src/core/request.ts (one way round: src/core/client.ts -> src/core/request.ts -> src/core/client.ts)",
      "import cycle among src/core/queue-types.ts, src/core/queue.ts (one way round: src/core/queue-types.ts -> src/core/queue.ts -> src/core/queue-types.ts)",
    ]);
  });

  it("a file in no layer, and an import from outside the layers", () => {
    const dir = tree("nowhere", {
      "src/deep/helper.ts": "export const h = 1;\n",
      "src/client.ts": 'import { fake } from "../test/support/fake.js";\nexport const c = fake;\n',
      "test/support/fake.ts": "export const fake = 1;\n",
    });
    expect(checkImports(dir)).toEqual([
      "src/client.ts imports test/support/fake.ts, which is in no layer of scripts/check-imports.mjs",
      "src/deep/helper.ts is in no layer of scripts/check-imports.mjs",
    ]);
  });
});
