// A document added is a client added (issue 22): a second endpoint's documents, shaped like fal's
// text-to-image (test/fixtures/text-to-image/), go through scripts/generate.mjs into a scratch
// folder, and src/ as it is, handed the generated entry, calls that endpoint against Prism mocks
// started from the same documents: the sync call, the submit, subscribe, its own input rules and
// the command line made from its schema, and a contract run of its documents. Nothing of src/ knows
// this endpoint.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runCommand } from "../../src/cli/command.js";
import type { CommandEndpoint, CommandInfo } from "../../src/cli/command-endpoint.js";
import { contractDocuments, runContract, type ContractReport } from "../../src/cli/contract/run.js";
import type { DocumentTables } from "../../src/cli/contract/documents.js";
import { inputFromFlags } from "../../src/cli/flags.js";
import { checkInput } from "../../src/core/validation.js";
import { createEndpointClient, FluxValidationError, type ClientInput, type ClientOutput, type Endpoint, type EndpointClient } from "../../src/index.js";
import { startPrismMock, type PrismMock } from "../../src/testing/mock.js";

const root = resolve(import.meta.dirname, "../..");
const fixture = join(root, "test/fixtures/text-to-image");

/** The fixture's input and output as the generated types give them (checked where they are used below). */
interface TextToImageSpecInput {
  prompt: string;
  image_size?: string;
  num_images?: number;
  seed?: number | null;
}
interface TextToImageSpecOutput {
  images: { url: string }[];
  seed: number;
  prompt: string;
}
type Input = ClientInput<TextToImageSpecInput>;
type Output = ClientOutput<TextToImageSpecOutput>;

interface Generated {
  textToImage: Endpoint & { inputSchema: { properties: object; required?: readonly string[] }; examples: Record<string, Input> };
  textToImageIds: readonly string[];
  textToImageCommand: CommandInfo;
}

/** generated/command.ts's view for the command line, the same name for any endpoint. */
let commandEndpoint: CommandEndpoint;

let scratch: string;
let generated: Generated;
/** Its documents' tables and validators, as the contract run takes them. */
let tables: DocumentTables;
let syncMock: PrismMock | undefined;
let queueMock: PrismMock | undefined;
let client: EndpointClient<{}, Input, Output>;
const sent: string[] = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "flux-second-endpoint-"));
  const out = join(scratch, "generated");
  const documents = ["--endpoint", join(fixture, "text-to-image.yaml"), "--queue", join(fixture, "queue.yaml"), "--out", out];
  await promisify(execFile)(process.execPath, [join(root, "scripts/generate.mjs"), ...documents], { cwd: root });
  generated = (await import(pathToFileURL(join(out, "endpoints.ts")).href)) as Generated;
  const [spec, validators] = await Promise.all(["spec.ts", "validators.ts"].map((file) => import(pathToFileURL(join(out, file)).href)));
  tables = { ...(spec as Omit<DocumentTables, "validators">), validators: validators as Record<string, unknown> };
  ({ commandEndpoint } = (await import(pathToFileURL(join(out, "command.ts")).href)) as { commandEndpoint: CommandEndpoint });
  [syncMock, queueMock] = await Promise.all([
    startPrismMock({ spec: join(fixture, "text-to-image.yaml") }),
    startPrismMock({ spec: join(fixture, "queue.yaml") }),
  ]);
  client = createEndpointClient<{}, Input, Output>(generated.textToImage, {
    credentials: "fixture-key",
    baseUrl: syncMock.url,
    queueUrl: queueMock.url,
    retry: false,
    onRequest: ({ method, url }) => void sent.push(`${method} ${new URL(url).pathname}`),
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([syncMock?.stop(), queueMock?.stop()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("a second endpoint's documents, generated and called with src/ unchanged", () => {
  it("the generator names it from its documents: its ids, its operations, its schemas", () => {
    expect(generated.textToImageIds).toEqual(["fal-ai/flux-1/dev", "fal-ai/flux/dev"]);
    expect(generated.textToImage.run.path).toBe("/fal-ai/flux-1/dev");
    expect(generated.textToImage.submit.path).toBe("/fal-ai/flux-1/dev");
    expect(generated.textToImage.inputParameters).toContain("image_size");
    expect(generated.textToImage.inputParameters).not.toContain("image_url");
  });

  it("its generated types fit the client: the entry is an Endpoint, its input refuses another endpoint's parameter", async () => {
    const src = relative(scratch, join(root, "src")).split("\\").join("/");
    writeFileSync(
      join(scratch, "uses.ts"),
      [
        'import type { paths } from "./generated/text-to-image.js";',
        'import { textToImage, type TextToImageSpecInput, type TextToImageSpecOutput } from "./generated/endpoints.js";',
        `import { createEndpointClient, type ClientInput, type ClientOutput } from "${src}/index.js";`,
        "const client = createEndpointClient<paths, ClientInput<TextToImageSpecInput>, ClientOutput<TextToImageSpecOutput>>(textToImage);",
        'export const seed: Promise<number | bigint> = client.run({ prompt: "p", image_size: "square" }).then((output) => output.seed);',
        "// @ts-expect-error image_url is the image-to-image endpoint's parameter, not this one's",
        'void client.run({ prompt: "p", image_url: "https://x/y.png" });',
        "// @ts-expect-error image_size takes one of its enum's names",
        'void client.subscribe({ prompt: "p", image_size: "huge" });',
      ].join("\n"),
    );
    const config = {
      extends: join(root, "tsconfig.json"),
      compilerOptions: { typeRoots: [join(root, "node_modules/@types")] },
      include: [join(scratch, "uses.ts")],
    };
    writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify(config));
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ type: "module" }));
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const result = await promisify(execFile)(process.execPath, [tsc, "-p", join(scratch, "tsconfig.json")]).then(
      () => "",
      (error: { stdout: string }) => error.stdout,
    );
    expect(result).toBe("");
  }, 60_000);

  it("the sync call: its own path on Prism, the document's example back, the seed above 2^53 a bigint with the digits sent", async () => {
    sent.length = 0;
    const output = await client.run({ prompt: "a lighthouse at dusk, in watercolour" });
    expect(sent).toEqual(["POST /fal-ai/flux-1/dev"]);
    expect(output.seed).toBe(15860307465884635000n); // Prism writes the example's seed as a double
    expect(output.images[0]!.url).toMatch(/^https:\/\/v3\.fal\.media\//);
  });

  it("its input is checked by its own rules before anything is sent: image_url is not its parameter, image_size is", async () => {
    sent.length = 0;
    const error = await client.run({ prompt: "p", image_size: "huge", image_url: "https://x/y.png" } as Input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxValidationError);
    const issues = (error as FluxValidationError).issues.map((issue) => `${issue.field} ${issue.rule}`);
    expect(issues).toEqual(expect.arrayContaining(["image_url additionalProperties", "image_size enum"]));
    expect((error as FluxValidationError).message).toContain('image_size: must be one of "square_hd", "square"');
    expect(sent).toEqual([]);
  });

  it("the submit and subscribe: its submit path, then the queue's status and result paths, the result its output", async () => {
    const job = await client.queue.submit({ prompt: "p" });
    expect(job.request_id).toBe("5c2e8a1f-4b7d-4e0a-9c3b-2d6f1e8a7b90");
    sent.length = 0;
    const output = await client.subscribe({ prompt: "p", num_images: 1 }, { mode: "poll" });
    expect(output.prompt).toBe("a lighthouse at dusk, in watercolour");
    expect(output.seed).toBe(15860307465884635000n); // Prism writes the example's seed as a double
    expect(sent).toEqual([
      "POST /fal-ai/flux-1/dev",
      "GET /fal-ai/flux-1/requests/5c2e8a1f-4b7d-4e0a-9c3b-2d6f1e8a7b90/status",
      "GET /fal-ai/flux-1/requests/5c2e8a1f-4b7d-4e0a-9c3b-2d6f1e8a7b90",
    ]);
  });

  it("the command's flags are generated from its schema: --image-size and its choices, numbers converted, checked by its rules", () => {
    const flags = commandEndpoint.info.flags;
    expect(flags.map((flag) => flag.flag)).toEqual(["prompt", "image-size", "num-inference-steps", "guidance-scale", "seed", "num-images", "enable-safety-checker", "output-format"]);
    expect(flags.find((flag) => flag.flag === "image-size")?.schema).toEqual((generated.textToImage.inputSchema.properties as Record<string, unknown>).image_size);
    expect(flags.find((flag) => flag.flag === "image-size")?.schema.enum).toContain("portrait_16_9");
    expect(flags.find((flag) => flag.flag === "seed")).toMatchObject({ type: "integer", nullable: true, required: false });
    expect(flags.find((flag) => flag.flag === "prompt")).toMatchObject({ type: "string", nullable: false, required: true });
    const input = inputFromFlags({ prompt: "p", "image-size": "square", "num-images": "2" }, flags);
    expect(input).toEqual({ prompt: "p", image_size: "square", num_images: 2 });
    expect(checkInput(generated.textToImage, input)).toEqual([]);
    expect(checkInput(generated.textToImage, { ...input, "num-images": 9 }).map((issue) => issue.message)).toEqual(["is not a parameter of this endpoint (did you mean num_images?)"]);
  });

  it("a contract run of its documents against its mocks: its own operations covered, every check passed", async () => {
    const documents = contractDocuments(generated.textToImage, tables);
    const report = await runContract({ documents, syncUrl: syncMock!.url, queueUrl: queueMock!.url, key: "contract-test", examples: 2, seed: 1 });
    expect(failed(report)).toEqual([]);
    expect(Object.keys(report.results).sort()).toEqual(["cancelQueueRequest", "getQueueResult", "getQueueStatus", "streamQueueStatus", "submitTextToImage", "textToImage"]);
    expect(report.coverage.textToImage).toBeGreaterThan(20);
    expect(report.jobs.followed).toBe(2);
  }, 120_000);

  it("the same run with the queue's mock as its sync call fails: the submit's answer, where the call's output should be, breaks its output schema", async () => {
    const documents = contractDocuments(generated.textToImage, tables);
    const report = await runContract({ documents, syncUrl: queueMock!.url, queueUrl: queueMock!.url, key: "contract-test", examples: 1, seed: 1 });
    expect(failed(report)).toEqual(["textToImage response_schema_conformance"]);
    expect(report.results.textToImage!.response_schema_conformance!.failures[0]).toContain("breaks TextToImageOutput");
  }, 120_000);

  it("`flux-i2i contract` of its documents, through the command line, against its mocks: exit 0, its operations in the table", async () => {
    // generated/command.ts gives its own documents' tables: nothing is handed in.
    const command = commandEndpoint;
    expect(Object.keys((await command.tables!()).operationResponses)).toEqual(Object.keys(tables.operationResponses));
    const args = ["contract", "--target", syncMock!.url, "--queue-target", queueMock!.url, "--examples", "1", "--seed", "1"];
    const run = await capture(() => runCommand(args, command));
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^check\s+.*\btextToImage\b.*\bsubmitTextToImage\b/m);
    expect(run.stdout).toContain("every check passed");
    const untargeted = await capture(() => runCommand(["contract", "--examples", "1"], command));
    expect([untargeted.code, untargeted.stderr]).toEqual([2, expect.stringContaining("--target: other documents than this package's need a server")]);
  }, 120_000);

  it("the command line: --help from its schema, a job with its flags (--image-size) on fal and on its own mock, --image refused, a bad value named by its flag", async () => {
    // The generated view the bin runs, as it is: its data, and its entry loaded on demand.
    const command = commandEndpoint;
    expect(command.info).toBe(generated.textToImageCommand);
    const printed = await capture(() => runCommand(["--help"], command));
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain("Runs fal's fal-ai/flux-1/dev: Generate images from a prompt.");
    expect(printed.stdout).toContain("--image-size CHOICE");
    const live = ["--live", "--queue-url", queueMock!.url, "--json"];
    const listening = [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];
    const job = await capture(() => runCommand([...live, "--prompt", "p", "--image-size", "square", "--num-images", "1"], command), { FAL_KEY: "fixture-key" });
    expect(job.code, job.stderr).toBe(0);
    expect(JSON.parse(job.stdout)).toMatchObject({ request_id: "5c2e8a1f-4b7d-4e0a-9c3b-2d6f1e8a7b90", output: { prompt: "a lighthouse at dusk, in watercolour" } });
    const image = await capture(() => runCommand([...live, "--prompt", "p", "--image", "cat.png"], command), { FAL_KEY: "fixture-key" });
    expect([image.code, image.stderr]).toEqual([2, expect.stringContaining("--image: fal-ai/flux-1/dev takes no image")]);
    const bad = await capture(() => runCommand([...live, "--prompt", "p", "--image-size", "huge"], command), { FAL_KEY: "fixture-key" });
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--image-size: must be one of "square_hd"')]);
    // With no --live, a Prism mock of its own queue document (generated/command.ts's queueDocument), not this package's.
    const mocked = await capture(() => runCommand(["--prompt", "p", "--image-size", "square", "--json"], command));
    expect(mocked.code, mocked.stderr).toBe(0);
    expect(mocked.stderr).toContain("Starting a Prism mock of queue.yaml");
    expect(JSON.parse(mocked.stdout)).toMatchObject({ output: { prompt: "a lighthouse at dusk, in watercolour" } });
    const saved = await capture(() => runCommand(["--prompt", "p", "--out", join(scratch, "out")], command));
    expect([saved.code, saved.stderr]).toEqual([2, expect.stringContaining("--out is for --live with these documents")]);
    // A run in a host process (not the bin's own) lets go of the signals it listened to.
    expect([process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")]).toEqual(listening);
  }, 60_000);
});

/** The checks that failed, as `operation check`. */
function failed(report: ContractReport): string[] {
  return Object.entries(report.results).flatMap(([operation, checks]) =>
    Object.entries(checks ?? {}).filter(([, tally]) => tally!.failed > 0).map(([check]) => `${operation} ${check}`),
  );
}

/** What a run of the command printed on stdout and stderr, and its exit code; `env` set for it only. */
async function capture(run: () => Promise<number>, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void err.push(args.join(" ")));
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  try {
    const code = await run();
    return { code, stdout: out.join("\n"), stderr: err.join("") };
  } finally {
    log.mockRestore();
    error.mockRestore();
    stderr.mockRestore();
    vi.unstubAllEnvs();
  }
}
