// flux-i2i as a user runs it: the built command in a subprocess, against the Prism mock it starts
// itself or (with --live --queue-url) the local fake queue. Nothing leaves 127.0.0.1.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultQueueUrl, defaultStorageUrl, resultRetention } from "../../generated/spec.js";
import { imageToImageExamples, imageToImageInputSchema } from "../../generated/endpoints.js";
import { maxImageBytes } from "../../src/cli/image-input.js";
import { createFluxClient } from "../../src/index.js";
import { startContractServer } from "../support/contract-server.js";
import { startStorageFake } from "../support/storage-fake.js";
import { fakeJpeg, png, startFakeQueue, type FakeQueue } from "../support/fake-queue.js";
import { bin, loopbackOnly, runCli, startCli } from "../support/cli.js";
import { waitFor } from "../support/wait.js";
import { refusedOrigin } from "../support/refused.js";

const key = "test-key-id:test-key-secret";

let dir: string;
let fake: FakeQueue;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "flux-i2i-cli-"));
  writeFileSync(join(dir, "cat.png"), png);
  fake = await startFakeQueue({ images: "self", closeAfterCompletedMs: 0 });
});
afterEach(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

// --inline: these tests send the image as a data URI, as the command did before it uploaded; the upload has tests of its own.
const live = (...args: string[]) => ["--live", "--queue-url", fake.url, "--inline", ...args];
const withKey = { FAL_KEY: key };

type Property = { minimum?: number; maximum?: number; default?: unknown; enum?: readonly unknown[] };
const properties = Object.entries(imageToImageInputSchema.properties as Record<string, Property>);

describe("--help", () => {
  it("lists every parameter of the spec as a flag, with its bounds, default and choices, and the exit codes", async () => {
    const { code, stdout } = await runCli(["--help"]);
    expect(code).toBe(0);
    const blocks = stdout.split(/\n(?=  --)/);
    for (const [name, schema] of properties) {
      const flag = `--${name.replace(/_/g, "-")}`;
      const block = blocks.find((b) => b.startsWith(`  ${flag} `) || b.startsWith(`  --[no-]${flag.slice(2)}\n`));
      expect(block, flag).toBeDefined();
      const facts = block!.replace(/\s+/g, " ");
      if (schema.minimum !== undefined) expect(facts, flag).toContain(`${schema.minimum} to ${schema.maximum}`);
      if (schema.default !== undefined) expect(facts, flag).toContain(`default ${String(schema.default)}`);
      for (const choice of schema.enum ?? []) expect(facts, flag).toContain(String(choice));
    }
    for (const exit of ["0 ", "2 ", "3 ", "4 ", "130 "]) expect(stdout).toMatch(new RegExp(`\\n  ${exit}`));
    // The servers' defaults are the documents' (generated/spec.ts), as the client's are.
    expect(blocks.find((b) => b.startsWith("  --queue-url "))?.replace(/\s+/g, " ")).toContain(`default ${defaultQueueUrl}`);
    expect(blocks.find((b) => b.startsWith("  --storage-url "))?.replace(/\s+/g, " ")).toContain(`default ${defaultStorageUrl}`);
  });
});

describe("bad input: exit 2, the flag and the rule named, nothing sent", () => {
  it("every bound, choice and type of the spec, all reported at once", async () => {
    const args: string[] = [];
    const expected: string[] = [];
    for (const [name, schema] of properties) {
      const flag = `--${name.replace(/_/g, "-")}`;
      if (schema.maximum !== undefined) {
        args.push(flag, String(schema.maximum + 1));
        expected.push(`${flag}: must be <= ${schema.maximum}, got ${schema.maximum + 1}`);
      } else if (schema.enum) {
        args.push(flag, "nope");
        expected.push(`${flag}: must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}, got "nope"`);
      }
    }
    const { code, stderr } = await runCli(live("--image", "cat.png", ...args, "--seed", "1.5"), { cwd: dir, env: withKey });
    expect(code).toBe(2);
    expect(stderr).toContain("--prompt: is required");
    expect(stderr).toContain("--seed: must be integer or null, got 1.5");
    for (const line of expected) expect(stderr).toContain(line);
    expect(stderr).toContain("Nothing was sent");
    expect(fake.log).toEqual([]);
  });

  it("below a minimum, not a number, and above a maximum by more than a number holds", async () => {
    const { code, stderr } = await runCli(
      live("--image", "cat.png", "--prompt", "p", "--strength", "0", "--num-images", "two", "--num-inference-steps", "99999999999999999999"),
      { cwd: dir, env: withKey },
    );
    expect(code).toBe(2);
    expect(stderr).toContain("--strength: must be >= 0.01, got 0");
    // Too big for a number: kept exact as a bigint, and still checked against the bound.
    expect(stderr).toContain("--num-inference-steps: must be <= 50, got 100000000000000000000");
    expect(stderr).toContain('--num-images: must be integer, got "two"');
    expect(fake.log).toEqual([]);
  });

  it("a batch flag without --batch, and --queue-url without --live", async () => {
    const resume = await runCli(["--image", "cat.png", "--prompt", "p", "--resume"], { cwd: dir });
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain("--resume is for batches");
    const queueUrl = await runCli(["--queue-url", fake.url], { cwd: dir });
    expect(queueUrl.code).toBe(2);
    expect(queueUrl.stderr).toContain("--queue-url is for --live");
  });

  it("an unknown flag (with the flag meant, as the library suggests a parameter), a missing image, and --live without a key", async () => {
    const unknown = await runCli(["--num-image", "2"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown flag --num-image (did you mean --num-images?)");
    for (const [args, meant] of [[["mock", "--prot", "0"], "--port"], [["contract", "--exmaples", "1"], "--examples"]] as const) {
      const typo = await runCli([...args]);
      expect(typo.code).toBe(2);
      expect(typo.stderr).toContain(`(did you mean ${meant}?)`);
    }
    const imageless = await runCli(["--prompt", "p"]);
    expect(imageless.code).toBe(2);
    expect(imageless.stderr).toContain("--image FILE|URL (or --image-url): is required");
    expect(imageless.stderr).not.toContain("Prism");
    const keyless = await runCli(live("--image", "cat.png", "--prompt", "p"), { cwd: dir });
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toContain("FAL_KEY");
    expect(fake.log).toEqual([]);
  });

  it("a file that is not an image, one too large, and one that is not there: each named with its type or size", async () => {
    writeFileSync(join(dir, "notes.png"), "just text\n");
    writeFileSync(join(dir, "huge.png"), png);
    truncateSync(join(dir, "huge.png"), maxImageBytes + 1);
    const notImage = await runCli(live("--image", "notes.png", "--prompt", "p"), { cwd: dir, env: withKey });
    expect(notImage.code).toBe(2);
    expect(notImage.stderr).toContain("--image: notes.png is not a jpeg, png, webp, gif or avif image");
    const huge = await runCli(live("--image", "huge.png", "--prompt", "p"), { cwd: dir, env: withKey });
    expect(huge.code).toBe(2);
    expect(huge.stderr).toContain("--image: huge.png is 10.0 MiB, over the 10.0 MiB sent inline");
    const missing = await runCli(live("--image", "gone.png", "--prompt", "p"), { cwd: dir, env: withKey });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--image: gone.png is neither an http(s) URL nor a file that exists");
    expect(fake.log).toEqual([]);
  });
});

describe("a job: images in and out", () => {
  it("npm start with no arguments: the seed's example request against the Prism mock, exit 0", async () => {
    const { code, stderr } = await runCli([]);
    expect(code).toBe(0);
    expect(stderr).toContain("example request");
    expect(stderr).toMatch(/request id: \S+/);
  });

  it("a local file is uploaded to fal storage (--storage-url): the initiate call with the key, the bytes PUT to the signed URL with none, the job given the file's URL", async () => {
    const fileUrl = "https://v3b.fal.media/files/b/cat.png";
    const storage = await startStorageFake(fileUrl);
    try {
      const { code, stderr } = await runCli(["--live", "--queue-url", fake.url, "--storage-url", storage.url, "--image", "cat.png", "--prompt", "p"], { cwd: dir, env: withKey });
      expect(code, stderr).toBe(0);
      expect(stderr).toContain("uploading cat.png (0.0 MiB) to fal storage before the submit");
      expect(stderr).not.toContain("uploaded cat.png"); // a small file's end is not told
      expect(storage.requests.map((r) => [r.method, r.headers.authorization ?? null])).toEqual([
        ["POST", `Key ${key}`],
        ["PUT", null],
      ]);
      expect(JSON.parse(storage.requests[0]!.body)).toEqual({ content_type: "image/png", file_name: "cat.png" });
      expect([...fake.jobs.values()][0]!.input.image_url).toBe(fileUrl);
      // A big file, past the inline cap: sent whole, its end told with its size, time and rate.
      writeFileSync(join(dir, "big.png"), Buffer.concat([png, Buffer.alloc(maxImageBytes)]));
      const big = await runCli(["--live", "--queue-url", fake.url, "--storage-url", storage.url, "--image", "big.png", "--prompt", "p"], { cwd: dir, env: withKey });
      expect(big.code, big.stderr).toBe(0);
      expect(big.stderr).toMatch(/uploaded big\.png \(10\.0 MiB\) in \d+\.\d s, [\d.]+ MiB\/s/);
      expect(storage.requests.at(-1)!.bytes.length).toBe(png.length + maxImageBytes);
    } finally {
      await storage.close();
    }
  });

  it("against the mock, --image's file goes to a stand-in for fal storage on this machine; --storage-url is for --live", async () => {
    const mocked = await runCli(["--image", "cat.png", "--prompt", "p"], { cwd: dir });
    expect(mocked.code, mocked.stderr).toBe(0);
    expect(mocked.stderr).toContain("uploading cat.png (0.0 MiB) to the stand-in for fal storage before the submit");
    // A batch's files too, recorded under the stand-in's name: a --live resume would not reuse their URLs.
    writeFileSync(join(dir, "mocked.jsonl"), `${JSON.stringify({ image_url: "cat.png", prompt: "p" })}\n`);
    const batch = await runCli(["--batch", "mocked.jsonl"], { cwd: dir });
    expect(batch.code, batch.stderr).toBe(0);
    expect(readFileSync(join(dir, "mocked.results.jsonl.journal"), "utf8")).toContain(`"event":"uploaded","storage":"the command's stand-in"`);
    const misplaced = await runCli(["--image", "cat.png", "--prompt", "p", "--storage-url", "https://rest.fal.ai"], { cwd: dir });
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain("--storage-url is for --live");
  });

  it("a local file is sent as a data URI of its sniffed type with --inline; the other flags as typed values", async () => {
    const { code, stdout } = await runCli(live("--image", "cat.png", "--prompt", "a wizard", "--num-images", "2", "--no-enable-safety-checker", "--seed", "15860307465884635513"), {
      cwd: dir,
      env: withKey,
    });
    expect(code).toBe(0);
    const [job] = [...fake.jobs.values()];
    expect(job!.input).toMatchObject({
      image_url: `data:image/png;base64,${png.toString("base64")}`,
      prompt: "a wizard",
      num_images: 2,
      enable_safety_checker: false,
    });
    expect(job!.rawBody).toContain('"seed":15860307465884635513');
    expect(stdout.trim()).toBe(`${fake.url}/files/fake/${job!.id}.jpeg`);
  });

  it("--out writes every image, named from input, seed and index, never over an existing file; --json prints the exact seed", async () => {
    const args = live("--image", "cat.png", "--prompt", "p", "--out", "out", "--json");
    const first = await runCli(args, { cwd: dir, env: withKey });
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as { request_id: string; files: string[] };
    const job = fake.jobs.get(summary.request_id)!;
    expect(first.stdout).toContain(`"seed": ${job.seed}`);
    expect(summary.files).toEqual([join("out", `cat-${job.seed}-0.jpeg`)]);
    expect(readFileSync(join(dir, summary.files[0]!))).toEqual(fakeJpeg);

    // The fake's next job has the next seed: a file of that name is already there, and is kept.
    const taken = `cat-${job.seed + 1n}-0.jpeg`;
    writeFileSync(join(dir, "out", taken), "mine");
    const second = await runCli(args, { cwd: dir, env: withKey });
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as { files: string[] }).files).toEqual([join("out", `cat-${job.seed + 1n}-0~2.jpeg`)]);
    expect(readFileSync(join(dir, "out", taken), "utf8")).toBe("mine");
    expect(readdirSync(join(dir, "out")).sort()).toEqual([`cat-${job.seed}-0.jpeg`, taken, `cat-${job.seed + 1n}-0~2.jpeg`].sort());
  });

  it("--out against the mock decodes the spec's inline example image: no network", async () => {
    const { code, stdout } = await runCli(["--image", "cat.png", "--prompt", "p", "--out", "out"], { cwd: dir });
    expect(code).toBe(0);
    const file = stdout.trim();
    expect(file).toMatch(/^out\/cat-\d+-0\.png$/);
    expect(readFileSync(join(dir, file)).subarray(0, 4).toString("latin1")).toBe("\x89PNG");
  });

});

describe("a job: failures, hostile text, the modules it loads", () => {
  it("a job that fails on fal exits 3 with fal's message; piped, stderr has no status line or colour", async () => {
    await fake.close();
    fake = await startFakeQueue({ outcome: () => ({ status: 422, body: { detail: [{ loc: ["body", "prompt"], msg: "prompt rejected", type: "value_error" }] } }) });
    const { code, stderr } = await runCli(live("--image", "cat.png", "--prompt", "p"), { cwd: dir, env: withKey });
    expect(code).toBe(3);
    expect(stderr).toContain("fal answered 422: prompt: prompt rejected");
    expect(stderr).not.toMatch(/\r|\x1b\[/);
    expect(stderr).not.toContain(key);
  });

  it("a server's escape sequences (title, clear screen, clipboard) never reach stderr or stdout", async () => {
    await fake.close();
    const hostile = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZXZpbA==\x07\x9b2J";
    fake = await startFakeQueue({ outcome: () => ({ status: 422, body: { detail: [{ loc: ["body", "prompt"], msg: `rejected${hostile}`, type: "x" }] } }) });
    for (const json of [[], ["--json"]]) {
      const { code, stdout, stderr } = await runCli(live("--image", "cat.png", "--prompt", "p", ...json), { cwd: dir, env: withKey });
      expect(code).toBe(3);
      expect(stderr).toContain("prompt: rejected");
      for (const text of [stdout, stderr]) expect(text).not.toMatch(/[\x07\x1b\x9b]/);
    }
  });

  it("a queue that cannot be reached exits 4", async () => {
    const { code, stderr } = await runCli(["--live", "--queue-url", refusedOrigin, "--inline", "--image", "cat.png", "--prompt", "p"], { cwd: dir, env: withKey });
    expect(code).toBe(4);
    expect(stderr).toContain("FluxNetworkError");
    expect(stderr).toContain("ECONNREFUSED");
  });

  it("a job whose queue goes away mid-job exits 4, naming --follow and the job", async () => {
    await fake.close();
    fake = await startFakeQueue({ hold: true });
    const run = startCli(live("--image", "cat.png", "--prompt", "p"), { cwd: dir, env: withKey });
    await fake.arrived("stream");
    const [job] = [...fake.jobs.values()];
    await fake.close();
    expect(await run.exited).toBe(4);
    expect(run.stderr()).toContain(`flux-i2i --live --follow ${job!.id}`);
    fake = await startFakeQueue();
  });

  it("--help, a bad flag and one job load only their own modules: never the batch's, the contract checks' or fast-check", async () => {
    const logFile = join(dir, "modules.log");
    const preload = `--import=${pathToFileURL(fileURLToPath(new URL("../support/module-log.mjs", import.meta.url))).href}`;
    const loaded = async (args: string[], env: Record<string, string> = {}) => {
      writeFileSync(logFile, "");
      const { code, stderr } = await runCli(args, { cwd: dir, env: { ...env, FLUX_MODULE_LOG: logFile, NODE_OPTIONS: `${loopbackOnly} ${preload}` } });
      const modules = readFileSync(logFile, "utf8").split("\n").filter((url) => url.includes("/dist/src/") || url.includes("/node_modules/"));
      return { code, stderr, modules: modules.map((url) => url.replace(/^.*\/(dist\/src|node_modules)\//, "$1/")) };
    };
    const never = /cli\/batch|cli\/contract|cli\/serve-mock|node_modules\/fast-check/;

    const help = await loaded(["--help"]);
    expect(help.code).toBe(0);
    expect(help.modules).toContain("dist/src/bin/flux-i2i.js");
    expect(help.modules.filter((m) => never.test(m) || /dist\/src\/(client\.js|queue\/|sync\/|testing\/mock\.js)|openapi-fetch|generated\/validators/.test(m))).toEqual([]);
    expect((await loaded(["--bogus"])).modules.filter((m) => /dist\/src\/client\.js/.test(m))).toEqual([]);

    const job = await loaded(live("--image", "cat.png", "--prompt", "p"), withKey);
    expect(job.code, job.stderr).toBe(0);
    expect(job.modules).toContain("dist/src/cli/one-job.js");
    expect(job.modules.filter((m) => never.test(m))).toEqual([]);
  });

});

describe("a job: unsaved images, --out, --follow, a key echoed", () => {
  it("images that cannot be saved: exit 4, and the whole result is kept in a file so nothing paid is lost", async () => {
    // An output whose image is no image: the job is done and paid, its image cannot be saved.
    const notAnImage = { url: "data:text/plain;base64,aGVsbG8=", width: 1, height: 1, content_type: "image/jpeg" };
    await fake.close();
    fake = await startFakeQueue({ outcome: () => ({ status: 200, body: { images: [notAnImage], seed: 4242, has_nsfw_concepts: [false], prompt: "p", timings: {} } }) });
    const { code, stderr } = await runCli(live("--image", "cat.png", "--prompt", "p", "--out", "out"), { cwd: dir, env: withKey });
    expect(code).toBe(4);
    const kept = /The whole result is kept in (\S+\.json)\./.exec(stderr)?.[1];
    expect(kept, stderr).toBeTruthy();
    expect(readFileSync(kept!, "utf8")).toContain('"seed":4242');
    rmSync(kept!);
  });

  it("an --out that cannot be a folder (a file's place, under /proc): a usage error, exit 2, before anything is sent", async () => {
    writeFileSync(join(dir, "out"), "a file where the folder should be");
    const outs = ["out", ...(process.platform === "linux" ? ["/proc/flux-i2i-out"] : [])];
    for (const out of outs) {
      const { code, stderr } = await runCli(live("--image", "cat.png", "--prompt", "p", "--out", out), { cwd: dir, env: withKey });
      expect(code, stderr).toBe(2);
      expect(stderr).toMatch(out === "out" ? /--out: \S+out is a file, not a folder/ : /--out: \/proc\/flux-i2i-out is on proc, a pseudo file system/);
    }
    expect(fake.log).toHaveLength(0);
  });

  it("--follow fetches a job already on the queue to --out and --json, submitting nothing", async () => {
    const { request_id } = await createFluxClient({ credentials: key, queueUrl: fake.url }).queue.submit({ image_url: "https://x.test/a.png", prompt: "p" });
    const { code, stdout, stderr } = await runCli(live("--follow", request_id, "--out", "out", "--json"), { cwd: dir, env: withKey });
    expect(code, stderr).toBe(0);
    const seed = fake.jobs.get(request_id)!.seed;
    expect(JSON.parse(stdout)).toMatchObject({ request_id, files: [join("out", `image-${seed}-0.jpeg`)] });
    expect(fake.count("submit")).toBe(1);
  });

  it("--follow of a job fal no longer knows (404) says its result may have expired, and what to do; exit 3", async () => {
    const { code, stderr } = await runCli(live("--follow", "job-gone"), { cwd: dir, env: withKey });
    expect(code).toBe(3);
    expect(stderr).toContain(`fal no longer knows job job-gone: its result may have expired (fal keeps a request's output ${resultRetention.seconds / 86400} days, none when it was sent with X-Fal-Store-IO: 0)`);
    expect(stderr).toContain("Run the request again (without --follow) for a new result");
    expect(fake.count("submit")).toBe(0);
  });

  it("--follow of a job cancelled while it ran (its result answers 499) says so; exit 3", async () => {
    await fake.close();
    fake = await startFakeQueue({ outcome: () => ({ status: 499, body: { detail: "Request was cancelled." } }) });
    const { request_id } = await createFluxClient({ credentials: key, queueUrl: fake.url }).queue.submit({ image_url: "https://x.test/a.png", prompt: "p" });
    const { code, stderr } = await runCli(live("--follow", request_id), { cwd: dir, env: withKey });
    expect(code).toBe(3);
    expect(stderr).toContain(`job ${request_id} was cancelled while it ran (fal answers 499): it has no result.`);
  });

  it("a queue that echoes the key: no form of it reaches stdout, stderr or --json, for a job and for --follow", async () => {
    await fake.close();
    fake = await startFakeQueue({ echoKey: true, hold: true });
    const secretHalf = "0123456789abcdef0123456789abcdef";
    const given = ` 3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f:${secretHalf}\n`;
    const env = { FAL_KEY: given };
    const run = startCli(live("--image", "cat.png", "--prompt", "p", "--json"), { cwd: dir, env });
    await fake.arrived("stream");
    const [job] = [...fake.jobs.values()];
    fake.advance(job!.id); // IN_PROGRESS, its log line quoting the key, shown on the status line
    fake.release();
    expect(await run.exited).toBe(0);
    const followed = await runCli(live("--follow", "job-unknown", "--json"), { cwd: dir, env });
    expect(followed.code).toBe(3);
    expect(JSON.parse(run.stdout()).output.prompt).toBe("p [redacted]");
    for (const text of [run.stdout(), run.stderr(), followed.stdout, followed.stderr]) {
      for (const form of [given, given.trim(), secretHalf]) expect(text).not.toContain(form);
    }
    expect(followed.stderr).toContain("Request not found for [redacted]");
  });

  it.each(["SIGINT", "SIGTERM"] as const)("%s cancels the job on fal's side, then exits 130", async (signal) => {
    await fake.close();
    fake = await startFakeQueue({ hold: true });
    const run = startCli(live("--image", "cat.png", "--prompt", "p"), { cwd: dir, env: withKey });
    await fake.arrived("stream");
    run.child.kill(signal);
    expect(await run.exited).toBe(130);
    expect(fake.count("cancel")).toBe(1);
    expect([...fake.jobs.values()][0]!.cancelled).toBe(true);
  });
});

// util-linux's `script` runs the command on a pseudo-terminal, as a user's shell would.
const hasScript = spawnSync("script", ["--version"]).status === 0;

describe("on a terminal", () => {
  /** Runs one job on a terminal; its job is held in each state until the terminal has shown it. */
  async function onTerminal(env: Record<string, string>) {
    const command = [process.execPath, bin, ...live("--image", "cat.png", "--prompt", "p")].map((arg) => `'${arg}'`).join(" ");
    const child = spawn("script", ["-qefc", command, "/dev/null"], {
      cwd: dir,
      env: { ...process.env, ...withKey, TERM: "xterm-256color", NO_COLOR: "", NODE_OPTIONS: loopbackOnly, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // a process group of its own: script and the command, killed whole if the test fails
    });
    let screen = "";
    child.stdout.on("data", (chunk: Buffer) => (screen += chunk));
    const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
    try {
      await waitFor(() => screen.includes("in queue, position 0"), 10_000);
      const job = [...fake.jobs.keys()].at(-1)!;
      fake.advance(job);
      await waitFor(() => screen.includes("running"), 10_000);
      fake.advance(job);
      return { code: await closed, screen };
    } finally {
      try {
        if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  it.skipIf(!hasScript)("a status line is redrawn in place with the queue position and the elapsed time, in colour unless NO_COLOR", async () => {
    await fake.close();
    fake = await startFakeQueue({ hold: true, images: "self", closeAfterCompletedMs: 0 });
    const coloured = await onTerminal({});
    expect(coloured.code).toBe(0);
    expect(coloured.screen).toContain("\r\x1b[2Kin queue, position 0");
    expect(coloured.screen).toMatch(/\r\x1b\[2Krunning \x1b\[2m\d+\.\d s\x1b\[0m/);
    const plain = await onTerminal({ NO_COLOR: "1" });
    expect(plain.code).toBe(0);
    expect(plain.screen).toMatch(/\r\x1b\[2Kin queue, position 0 \d+\.\d s/);
    expect(plain.screen).not.toMatch(/\x1b\[\d+m/);
  });
});

describe("the tests' own guard", () => {
  it("a command that tries to leave 127.0.0.1 fails its test", async () => {
    await fake.close();
    fake = await startFakeQueue({ images: "cdn" });
    await expect(runCli(live("--image", "cat.png", "--prompt", "p", "--out", "out"), { cwd: dir, env: withKey })).rejects.toThrow(
      "the command left 127.0.0.1",
    );
  });
});

describe("flux-i2i contract", () => {
  it("against its own mocks: a table of checks by operation, JUnit XML, exit 0", async () => {
    const junit = join(dir, "contract.xml");
    const { code, stdout, stderr } = await runCli(["contract", "--examples", "5", "--seed", "11", "--junit", junit], { cwd: dir });
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("seed 11 (--seed 11 replays this run)");
    expect(stdout).toMatch(/^check\s+imageToImage\s+submitImageToImage/m);
    expect(stdout).toContain("every check passed");
    const xml = readFileSync(junit, "utf8");
    expect(xml).toContain('<testsuite name="submitImageToImage" tests="11" failures="0">');
    expect(stdout).toMatch(/coverage phase: imageToImage \d+, submitImageToImage \d+/);
    expect(stdout).toContain("jobs followed: 5");
  });

  it("at --examples 1 against a server with one bound wrong: exit 1, the failure names the constraint; the same server honest: exit 0", async () => {
    const buggy = await startContractServer({ bug: "strength-up-to-1.5" });
    const honest = await startContractServer();
    try {
      const caught = await runCli(["contract", "--examples", "1", "--target", buggy.syncUrl, "--queue-target", buggy.queueUrl], { cwd: dir });
      expect(caught.code, caught.stderr).toBe(1);
      expect(caught.stdout).toContain("(coverage: strength above its maximum (1.1)): invalid data got 200");
      const passed = await runCli(["contract", "--examples", "1", "--target", honest.syncUrl, "--queue-target", honest.queueUrl], { cwd: dir });
      expect(passed.code, passed.stdout).toBe(0);
      expect(passed.stdout).toContain("jobs followed: 1 (1 through the URLs their submit answered)");
    } finally {
      await Promise.all([buggy.close(), honest.close()]);
    }
  });

  it("against a server that breaks the spec: the failing checks named, exit 1", async () => {
    const { code, stdout } = await runCli(["contract", "--examples", "3", "--target", fake.url], { cwd: dir });
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAIL \d+\/\d+/);
  });

  it("with FAL_KEY set, a plain-http --target that is not this machine gets nothing: exit 2", async () => {
    const { code, stderr } = await runCli(["contract", "--target", "http://gateway.example.com"], { cwd: dir, env: withKey });
    expect(code).toBe(2);
    expect(stderr).toContain("refusing to send credentials to http://gateway.example.com");
    expect(stderr).not.toContain(key);
  });

  it("--live without --max-paid sends nothing and says why, exit 2", async () => {
    const { code, stderr } = await runCli(["contract", "--live"], { cwd: dir, env: withKey });
    expect(code).toBe(2);
    expect(stderr).toContain("give --max-paid N to cap them (nothing was sent)");
  });
});

describe("flux-i2i mock", () => {
  it("serves the Prism mock of the spec until Ctrl-C, then stops it", async () => {
    const run = startCli(["mock", "--port", "0"]);
    await waitFor(() => run.stdout().includes("http://"), 30_000);
    const url = run.stdout().trim();
    const call = (headers: Record<string, string>) =>
      fetch(`${url}/fal-ai/flux-1/dev/image-to-image`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body: JSON.stringify(imageToImageExamples["seed-example"]),
      });
    expect((await call({ Authorization: `Key ${key}` })).status).toBe(200);
    expect((await call({})).status).toBe(401);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
    await expect(call({ Authorization: `Key ${key}` })).rejects.toThrow();
  });

  it.each(["SIGKILL", "SIGHUP", "SIGQUIT"] as const)("killed by %s, it leaves no Prism listening", async (signal) => {
    const run = startCli(["mock", "--port", "0"]);
    await waitFor(() => run.stdout().includes("http://"), 30_000);
    // Prism is the command's child; it is watched as a process, without a request that could make it fail on its own.
    const [prism] = execFileSync("ps", ["-o", "pid=", "--ppid", String(run.child.pid)], { encoding: "utf8" }).trim().split(/\s+/).map(Number);
    expect(prism).toBeGreaterThan(0);
    run.child.kill(signal);
    await run.exited;
    const alive = () => {
      try {
        process.kill(prism!, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(() => !alive(), 10_000); // rejects if Prism is still there after 10 s
  });

  it("--queue plays a job that is not done yet when asked with Prefer: 202 IN_QUEUE, 202 IN_PROGRESS, then 200 COMPLETED", async () => {
    const run = startCli(["mock", "--queue", "--port", "0"]);
    await waitFor(() => run.stdout().includes("http://"), 30_000);
    const url = run.stdout().trim();
    const status = async (prefer?: string) => {
      const response = await fetch(`${url}/fal-ai/flux-1/requests/8a1f4c2e-5b7d-4e0a-9c3b-2d6f1e8a7b90/status`, {
        headers: { Authorization: `Key ${key}`, ...(prefer ? { Prefer: prefer } : {}) },
      });
      return [response.status, ((await response.json()) as { status: string }).status];
    };
    expect(await status("code=202, example=in-queue")).toEqual([202, "IN_QUEUE"]);
    expect(await status("code=202, example=in-progress")).toEqual([202, "IN_PROGRESS"]);
    expect(await status()).toEqual([200, "COMPLETED"]);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
  });
});
