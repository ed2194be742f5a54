// flux-i2i --batch as a subprocess against the local fake queue: a batch killed at any point and
// resumed has every line exactly once in its results and no line submitted twice.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeJpeg, png, startFakeQueue, type FakeQueue, type FakeQueueOptions } from "../support/fake-queue.js";
import { runCli, startCli } from "../support/cli.js";
import { startLocalServer, type LocalServer } from "../support/local-server.js";
import { startStorageFake } from "../support/storage-fake.js";
import { waitFor } from "../support/wait.js";
import { maxSubmitsAtOnce } from "../../src/cli/batch/scheduler.js";

const env = { FAL_KEY: "test-key-id:test-key-secret" };

let dir: string;
let fake: FakeQueue;
/** fal storage for the lines' local files: every run of a test uploads there. */
let storage: LocalServer;
const fileUrl = "https://v3b.fal.media/files/b/cat.png";
async function useFake(options: FakeQueueOptions) {
  await fake?.close();
  fake = await startFakeQueue({ closeAfterCompletedMs: 0, images: "self", ...options });
}
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "flux-i2i-batch-"));
  writeFileSync(join(dir, "cat.png"), png);
  await useFake({ runMs: () => 300 });
  storage = await startStorageFake(fileUrl);
});
afterEach(async () => {
  await Promise.all([fake.close(), storage.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function writeBatch(lines: string[]) {
  writeFileSync(join(dir, "batch.jsonl"), `${lines.join("\n")}\n`);
}
const jobLines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ image_url: "cat.png", prompt: `line ${i + 1}` }));
const batch = (...args: string[]) => ["--live", "--queue-url", fake.url, "--storage-url", storage.url, "--batch", "batch.jsonl", ...args];
const puts = () => storage.requests.filter((r) => r.method === "PUT");

/** The results file's records; a line torn by a kill is not one. */
function results(): { line: number; status: string; request_id?: string; output?: { prompt: string } }[] {
  const path = join(dir, "batch.results.jsonl");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
}

/** How many times the fake queue received each prompt. */
function submits(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const job of fake.jobs.values()) counts.set(String(job.input.prompt), (counts.get(String(job.input.prompt)) ?? 0) + 1);
  return counts;
}

/** Starts the batch and SIGKILLs it once its first job has been submitted and is being followed. */
async function killOnceFollowing() {
  const run = startCli(batch(), { cwd: dir, env });
  await fake.arrived("stream");
  run.child.kill("SIGKILL");
  await run.exited;
}

const uncertainLines = (stderr: string) => [...stderr.matchAll(/line (\d+): its submit may have reached fal/g)].map((m) => Number(m[1]));

describe("--batch: a run, and runs killed and resumed", () => {
  it("runs every line, appends each result as it completes, with the seed exact and images written", async () => {
    writeBatch(jobLines(5));
    const { code, stdout } = await runCli(batch("--concurrency", "2", "--out", "out", "--json"), { cwd: dir, env });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ lines: 5, done: 5, failed: 0, invalid: 0, uncertain: [] });
    const records = results();
    expect(records.map((r) => r.line).sort()).toEqual([1, 2, 3, 4, 5]);
    for (const record of records) {
      const job = fake.jobs.get(record.request_id!)!;
      expect(job.input.prompt).toBe(`line ${record.line}`);
      expect((record as { files?: string[] }).files).toEqual([join("out", `cat-${job.seed}-0.jpeg`)]);
      expect(readFileSync(join(dir, "out", `cat-${job.seed}-0.jpeg`))).toEqual(fakeJpeg);
      expect(readFileSync(join(dir, "batch.results.jsonl"), "utf8")).toContain(`"seed":${job.seed}`);
    }
    expect([...submits().values()]).toEqual([1, 1, 1, 1, 1]);
    // Never more than --concurrency jobs on fal at once: submits less results fetched, request by request.
    let inFlight = 0;
    let most = 0;
    for (const { route } of fake.log) {
      inFlight += route === "submit" ? 1 : route === "result" ? -1 : 0;
      most = Math.max(most, inFlight);
    }
    expect(most).toBe(2);
  });

  it("killed (SIGKILL) mid-way and resumed: every line exactly once in the results, no line submitted twice", async () => {
    const lines = 12;
    writeBatch(jobLines(lines));
    const first = startCli(batch("--concurrency", "3"), { cwd: dir, env });
    await waitFor(() => results().length >= 4, 20_000);
    first.child.kill("SIGKILL");
    await first.exited;
    expect(results().length).toBeLessThan(lines);

    const resumed = await runCli(batch("--concurrency", "3", "--resume"), { cwd: dir, env });
    // Killed between a submit's journal record and its answer, a line is named and not re-sent unless asked.
    const uncertain = uncertainLines(resumed.stderr);
    expect(resumed.code, resumed.stderr).toBe(uncertain.length ? 4 : 0);
    if (uncertain.length) {
      const resent = await runCli(batch("--resume", "--resend-uncertain"), { cwd: dir, env });
      expect(resent.code, resent.stderr).toBe(0);
    }

    const records = results();
    expect(records.map((r) => r.line).sort((a, b) => a - b)).toEqual(Array.from({ length: lines }, (_, i) => i + 1));
    expect(records.every((r) => r.status === "done")).toBe(true);
    for (const record of records) expect(fake.jobs.get(record.request_id!)!.input.prompt).toBe(`line ${record.line}`);
    const counts = submits();
    for (let line = 1; line <= lines; line++) {
      // An uncertain line was sent again because it was asked: at most once more.
      if (uncertain.includes(line)) expect(counts.get(`line ${line}`), `line ${line}`).toBeLessThanOrEqual(2);
      else expect(counts.get(`line ${line}`), `line ${line}`).toBe(1);
    }
  });

  it("killed (SIGKILL) at --concurrency 32 with submits on their way, then resumed: at most 2 lines uncertain, every other line once, none submitted twice", async () => {
    await useFake({ runMs: () => 20 });
    const lines = 96;
    writeBatch(jobLines(lines));
    // The first two submits' answers are held: the batch is killed while they are on their way and
    // 32 lines want to submit. Only the submits under way can be uncertain, and at most two are.
    fake.inject("submit", { kind: "held" }, { kind: "held" });
    const run = startCli(batch("--concurrency", "32"), { cwd: dir, env });
    await Promise.race([fake.arrived("submit", 2), run.exited]);
    run.child.kill("SIGKILL");
    await run.exited;
    fake.release(); // to a process that is gone: its jobs stay on the fake, uncertain
    const resumed = await runCli(batch("--concurrency", "32", "--resume", "--json"), { cwd: dir, env });
    const uncertain = uncertainLines(resumed.stderr);
    // Submits go out at most two at a time, between their journal records: at most two lines can be
    // caught between them, however busy the machine; every other line is followed or sent once.
    expect(uncertain.length).toBeLessThanOrEqual(maxSubmitsAtOnce);
    expect(uncertain).toHaveLength(2); // the two held: sent, their answers never read
    expect(JSON.parse(resumed.stdout)).toMatchObject({ lines, done: lines - uncertain.length, uncertain });
    const counts = submits();
    for (let line = 1; line <= lines; line++) expect(counts.get(`line ${line}`) ?? 0, `line ${line}`).toBeLessThanOrEqual(1);
  });

  it("killed again and again at different moments, then resumed: still every line once, none submitted twice unless asked", async () => {
    const lines = 10;
    writeBatch(jobLines(lines));
    const named = new Set<number>();
    // Each run is killed at a moment of its own, whatever the machine's speed (or runs to its end
    // first): an event at the fake queue, or a record in the results file.
    let ended = false;
    const nextRecord = () => {
      const before = results().length;
      return waitFor(() => ended || results().length > before, 30_000);
    };
    const moments = [
      () => fake.arrived("submit", fake.count("submit") + 1), // a submit on its way, its request id not yet recorded
      () => fake.arrived("stream", fake.count("stream") + 1), // a job being followed
      () => fake.arrived("result", fake.count("result") + 1), // a result on its way, not yet recorded
      nextRecord, // a result just recorded
      () => fake.arrived("submit", fake.count("submit") + 2), // submits under way side by side
    ];
    for (const moment of moments) {
      ended = false;
      const reached = moment();
      const run = startCli(batch("--concurrency", "4", "--resume"), { cwd: dir, env });
      const exited = run.exited.finally(() => (ended = true));
      await Promise.race([reached, exited]);
      run.child.kill("SIGKILL");
      await exited;
      for (const line of uncertainLines(run.stderr())) named.add(line);
    }
    const last = await runCli(batch("--concurrency", "4", "--resume"), { cwd: dir, env });
    for (const line of uncertainLines(last.stderr)) named.add(line);
    if (named.size) expect((await runCli(batch("--resume", "--resend-uncertain"), { cwd: dir, env })).code).toBe(0);

    const records = results();
    expect(records.map((r) => r.line).sort((a, b) => a - b)).toEqual(Array.from({ length: lines }, (_, i) => i + 1));
    const counts = submits();
    for (let line = 1; line <= lines; line++) {
      if (named.has(line)) expect(counts.get(`line ${line}`), `line ${line}`).toBeLessThanOrEqual(2);
      else expect(counts.get(`line ${line}`), `line ${line}`).toBe(1);
    }
  });

});

describe("--batch: uncertain submits, Ctrl-C, fal's refusals and a key it echoes", () => {
  it("a line whose submit reached fal but whose id was never recorded is named on resume, and re-sent only when asked", async () => {
    writeBatch(jobLines(2));
    fake.inject("submit", { kind: "held" });
    const first = startCli(batch("--concurrency", "1"), { cwd: dir, env });
    await fake.arrived("submit");
    first.child.kill("SIGKILL");
    await first.exited;

    const resumed = await runCli(batch("--resume"), { cwd: dir, env });
    expect(resumed.code).toBe(4);
    expect(uncertainLines(resumed.stderr)).toEqual([1]);
    expect(resumed.stderr).toContain("--resend-uncertain");
    expect(submits()).toEqual(new Map([["line 1", 1], ["line 2", 1]]));
    expect(results().map((r) => r.line)).toEqual([2]);

    const resent = await runCli(batch("--resume", "--resend-uncertain"), { cwd: dir, env });
    expect(resent.code).toBe(0);
    expect(submits().get("line 1")).toBe(2);
    expect(results().map((r) => r.line).sort()).toEqual([1, 2]);
  });

  it("Ctrl-C leaves running jobs on fal (no cancel); a resume follows them instead of submitting again", async () => {
    await useFake({ hold: true }); // the jobs run until the test releases them
    writeBatch(jobLines(3));
    const first = startCli(batch("--concurrency", "2"), { cwd: dir, env });
    await fake.arrived("stream", 2);
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(130);
    expect(first.stderr()).toContain("2 job(s) still running on fal");
    expect(fake.count("cancel")).toBe(0);
    fake.release();

    const resumed = await runCli(batch("--resume"), { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain("following 2 job(s) submitted by an earlier run");
    expect(submits()).toEqual(new Map([["line 1", 1], ["line 2", 1], ["line 3", 1]]));
    expect(results().map((r) => r.line).sort()).toEqual([1, 2, 3]);
  });

  it("Ctrl-C while a submit is on its way waits for its answer and records its id: the resume follows it, nothing is uncertain", async () => {
    writeBatch(jobLines(1));
    fake.inject("submit", { kind: "held" }); // answered once the batch says it is waiting for it
    const first = startCli(batch(), { cwd: dir, env });
    await fake.arrived("submit");
    first.child.kill("SIGINT");
    await waitFor(() => first.stderr().includes("waiting for 1 submit(s) under way"), 10_000);
    fake.release();
    expect(await first.exited).toBe(130);
    expect(first.stderr()).toContain("waiting for 1 submit(s) under way");

    const resumed = await runCli(batch("--resume"), { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(uncertainLines(resumed.stderr)).toEqual([]);
    expect(resumed.stderr).toContain("following 1 job(s) submitted by an earlier run");
    expect(fake.count("submit")).toBe(1);
  });

  it("over the account's concurrency limit (429): the batch backs off, runs fewer at once, and finishes every line once, exit 0", async () => {
    // fal runs one job at a time for this account, and holds the first until the batch has throttled.
    await useFake({ hold: true, concurrencyLimit: 1, runMs: () => 100 });
    writeBatch(jobLines(3));
    const run = startCli(batch("--concurrency", "3", "--json"), { cwd: dir, env });
    await waitFor(() => run.stderr().includes("fal refused a submit (429"), 30_000);
    expect(run.stderr()).toContain("running at most 1 job(s) at once");
    fake.release();
    expect(await run.exited, run.stderr()).toBe(0);
    expect(JSON.parse(run.stdout())).toMatchObject({ lines: 3, done: 3, failed: 0, unfinished: 0, uncertain: [] });
    expect(fake.refused()).toBeGreaterThan(0);
    expect(submits()).toEqual(new Map([["line 1", 1], ["line 2", 1], ["line 3", 1]]));
    expect(results().map((r) => r.line).sort()).toEqual([1, 2, 3]);
  });

  it("a resume whose recorded job fal no longer knows (404) says its result may have expired and what to do, records it failed, exit 3", async () => {
    await useFake({ hold: true });
    writeBatch(jobLines(1));
    const first = startCli(batch(), { cwd: dir, env });
    await fake.arrived("stream");
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(130);
    await useFake({}); // a queue that has never heard of the job, as after its result expired

    const resumed = await runCli(batch("--resume"), { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(3);
    expect(resumed.stderr).toMatch(/line 1: FluxApiError: fal answered 404[^\n]*\n {2}fal no longer knows job job-0-\w+, submitted \d+ seconds ago: its result may have expired/);
    expect(resumed.stderr).toContain("put line 1 in a new batch file");
    expect(results()).toMatchObject([{ line: 1, status: "failed" }]);
    expect(fake.count("submit")).toBe(0);
  });

  it("a queue that echoes the key: no form of it in the results file, the journal, stdout or stderr", async () => {
    await useFake({ echoKey: true, runMs: () => 20 });
    const secretHalf = "0123456789abcdef0123456789abcdef";
    const given = `3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f:${secretHalf} `;
    writeBatch(jobLines(2));
    const run = await runCli(batch("--json"), { cwd: dir, env: { FAL_KEY: given } });
    expect(run.code, run.stderr).toBe(0);
    const files = ["batch.results.jsonl", "batch.results.jsonl.journal"].map((name) => readFileSync(join(dir, name), "utf8"));
    expect(files[0]).toContain("[redacted]"); // the outputs' prompts quoted it
    for (const text of [...files, run.stdout, run.stderr]) {
      for (const form of [given, given.trim(), secretHalf]) expect(text).not.toContain(form);
    }
  });

});

describe("--batch: its lines, the flags as defaults, local files", () => {
  it("a bad line is reported with its number and skipped; the others go on; exit 2", async () => {
    writeBatch([
      JSON.stringify({ image_url: "cat.png", prompt: "line 1" }),
      "not json",
      JSON.stringify({ prompt: "line 3" }),
      JSON.stringify({ image_url: "cat.png", prompt: "line 4", strength: 2 }),
      JSON.stringify({ image_url: "missing.png", prompt: "line 5" }),
      JSON.stringify({ image_url: "cat.png", prompt: "line 6" }),
      // JSON.parse keeps the last seed; a reader of the line may mean the first: sent neither.
      `{"image_url":"cat.png","prompt":"line 7","seed":15860307465884635512,"seed":42}`,
    ]);
    const { code, stderr, stdout } = await runCli(batch("--json"), { cwd: dir, env });
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({ invalid: 5 });
    expect((JSON.parse(stdout) as { invalidLines: number[] }).invalidLines.sort()).toEqual([2, 3, 4, 5, 7]);
    expect(stderr).toContain("line 2: not JSON");
    expect(stderr).toContain("line 7: seed: the key is given twice; give it once");
    expect(stderr).toContain("line 3: image_url: is required");
    expect(stderr).toContain("line 4: strength: must be <= 1, got 2");
    expect(stderr).toContain("line 5: image_url: missing.png is neither an http(s) URL nor a file that exists");
    expect(results().map((r) => r.line).sort()).toEqual([1, 6]);
    expect(submits()).toEqual(new Map([["line 1", 1], ["line 6", 1]]));
  });

  it("flags are defaults of every line, checked before anything is sent", async () => {
    writeBatch([JSON.stringify({ prompt: "line 1" }), JSON.stringify({ prompt: "line 2", num_images: 3 })]);
    const bad = await runCli(batch("--image", "cat.png", "--num-images", "5"), { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--num-images: must be <= 4, got 5");
    expect(fake.log).toEqual([]);
    const { code } = await runCli(batch("--image", "cat.png", "--num-images", "2"), { cwd: dir, env });
    expect(code).toBe(0);
    const inputs = [...fake.jobs.values()].map((job) => job.input);
    expect(inputs.map((input) => input.num_images).sort()).toEqual([2, 3]);
    expect(inputs.map((input) => input.image_url)).toEqual([fileUrl, fileUrl]);
    expect(puts()).toHaveLength(1); // the flags' file, once for both lines
  });

  it("--inline sends every local file as a data URI: nothing is uploaded", async () => {
    writeBatch([JSON.stringify({ prompt: "line 1" }), JSON.stringify({ prompt: "line 2", image_url: "cat.png" })]);
    const { code, stderr } = await runCli(batch("--image", "cat.png", "--inline"), { cwd: dir, env });
    expect(code, stderr).toBe(0);
    const inputs = [...fake.jobs.values()].map((job) => job.input);
    expect(inputs.map((input) => input.image_url)).toEqual([`data:image/png;base64,${png.toString("base64")}`, `data:image/png;base64,${png.toString("base64")}`]);
    expect(storage.requests).toEqual([]);
  });

  it("each distinct file is uploaded once, whatever path names it; the journal records its URL, and --resume uploads nothing again", async () => {
    await useFake({ hold: true }); // the first job runs until the batch has been killed
    writeFileSync(join(dir, "dog.png"), Buffer.concat([png, Buffer.from("dog")]));
    writeBatch([
      JSON.stringify({ image_url: "cat.png", prompt: "line 1" }),
      JSON.stringify({ image_url: "./cat.png", prompt: "line 2" }),
      JSON.stringify({ image_url: join(dir, "cat.png"), prompt: "line 3" }),
      JSON.stringify({ image_url: "dog.png", prompt: "line 4" }),
    ]);
    const first = startCli(batch("--concurrency", "1"), { cwd: dir, env });
    await fake.arrived("stream");
    first.child.kill("SIGKILL");
    await first.exited;
    expect(puts()).toHaveLength(1);
    const journal = readFileSync(join(dir, "batch.results.jsonl.journal"), "utf8");
    expect(journal).toContain(`"event":"uploaded","storage":"${storage.url}"`);
    fake.release();
    const resumed = await runCli(batch("--resume", "--json"), { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ done: 4, uploads: { uploaded: 1, reused: 2 } });
    expect(puts()).toHaveLength(2); // cat.png in the first run, dog.png in the resume
    expect(new Set(puts().map((put) => put.bytes.length))).toEqual(new Set([png.length, png.length + 3]));
    expect(submits()).toEqual(new Map([1, 2, 3, 4].map((n) => [`line ${n}`, 1])));
    expect([...fake.jobs.values()].every((job) => job.input.image_url === fileUrl)).toBe(true);
  });

  it("a failed upload leaves its line for --resume, nothing submitted (exit 4); the resume uploads it and sends the line", async () => {
    writeBatch(jobLines(2));
    const refusing = await startLocalServer((_req, res) => res.writeHead(403, { "Content-Type": "application/json" }).end('{"detail":"storage refused"}'));
    try {
      const failed = await runCli(["--live", "--queue-url", fake.url, "--storage-url", refusing.url, "--batch", "batch.jsonl"], { cwd: dir, env });
      expect(failed.code, failed.stderr).toBe(4);
      expect(failed.stderr).toContain("line 1: FluxUploadError: the upload of cat.png to fal storage failed, so nothing was submitted");
      expect(failed.stderr).toContain("not submitted, --resume sends it");
      expect(fake.count("submit")).toBe(0);
    } finally {
      await refusing.close();
    }
    const resumed = await runCli(batch("--resume"), { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(puts()).toHaveLength(1);
    expect(submits()).toEqual(new Map([["line 1", 1], ["line 2", 1]]));
  });

});

describe("--batch: failed jobs, refused keys, edited lines, unsaved images, the lock", () => {
  it("a job that fails on fal is recorded as failed (exit 3) and not re-sent by a resume", async () => {
    await useFake({
      runMs: () => 50,
      outcome: (_n, input) => (input.prompt === "line 2" ? { status: 422, body: { detail: [{ loc: ["body", "prompt"], msg: "rejected", type: "value_error" }] } } : undefined),
    });
    writeBatch(jobLines(3));
    const { code, stderr } = await runCli(batch(), { cwd: dir, env });
    expect(code, stderr).toBe(3);
    expect(results().find((r) => r.line === 2)).toMatchObject({ status: "failed", error: { status: 422 } });
    const resumed = await runCli(batch("--resume"), { cwd: dir, env });
    expect(resumed.code).toBe(3);
    expect(fake.count("submit")).toBe(3);
  });

  it("a key fal refuses stops the batch at its first submit: exit 3, nothing recorded as failed, --resume sends the lines", async () => {
    writeBatch(jobLines(4));
    fake.inject("submit", { kind: "status", status: 401, body: { detail: "Invalid key" } });
    const refused = await runCli(batch("--concurrency", "1"), { cwd: dir, env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("fal answered 401: Invalid key");
    expect(refused.stderr).toContain("stopping the batch");
    expect(fake.count("submit")).toBe(1);
    expect(results()).toEqual([]);
    const resumed = await runCli(batch("--resume"), { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(results().map((r) => r.line).sort()).toEqual([1, 2, 3, 4]);
  });

  it("a key refused while following a recorded job records nothing: the job is followed again by the next resume", async () => {
    await useFake({ hold: true }); // the job runs until the wrong key has been refused
    writeBatch(jobLines(1));
    await killOnceFollowing();
    const refused = { kind: "status", status: 401, body: { detail: "Invalid key" } } as const;
    fake.inject("stream", refused);
    fake.inject("status", refused);
    const wrongKey = await runCli(batch("--resume"), { cwd: dir, env });
    expect(wrongKey.code).toBe(3);
    expect(results()).toEqual([]);
    fake.release();
    const resumed = await runCli(batch("--resume"), { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(results()).toMatchObject([{ line: 1, status: "done" }]);
    expect(fake.count("submit")).toBe(1);
  });

  it("--image is read once for every line that has none, and names their outputs", async () => {
    writeFileSync(join(dir, "dog.png"), png);
    writeBatch([JSON.stringify({ prompt: "line 1" }), JSON.stringify({ prompt: "line 2", image_url: "dog.png" })]);
    const { code, stderr } = await runCli(batch("--image", "cat.png", "--out", "out"), { cwd: dir, env });
    expect(code, stderr).toBe(0);
    const files = results().flatMap((r) => (r as { files?: string[] }).files ?? []).map((f) => f.split("/").pop()!.split("-")[0]);
    expect(files.sort()).toEqual(["cat", "dog"]);
  });

  it("a line edited after its job was submitted: resume warns, and keeps what was recorded", async () => {
    await useFake({ hold: true });
    writeBatch(jobLines(1));
    await killOnceFollowing();
    writeBatch([JSON.stringify({ image_url: "cat.png", prompt: "something else" })]);
    const resumed = startCli(batch("--resume"), { cwd: dir, env });
    await waitFor(() => resumed.stderr().includes("following 1 job"), 10_000);
    expect(resumed.stderr()).toContain("line 1 has changed since an earlier run sent it");
    resumed.child.kill("SIGKILL");
    expect(fake.count("submit")).toBe(1);
  });

  it("images that cannot be saved: the result is recorded (nothing paid is lost), exit 4; a resume saves it from the record without asking fal", async () => {
    await useFake({ failImages: 2 }); // each job's image download fails once: the jobs are done and paid
    writeBatch(jobLines(2));
    const first = await runCli(batch("--out", "out"), { cwd: dir, env });
    expect(first.code).toBe(4);
    expect(first.stderr).toContain("saving its images failed");
    expect(results().map((r) => r.status)).toEqual(["unsaved", "unsaved"]);
    const seeds = [...readFileSync(join(dir, "batch.results.jsonl"), "utf8").matchAll(/"seed":(\d+)/g)].map((m) => m[1]);
    const asked = fake.log.length;
    const resumed = await runCli(batch("--out", "out", "--resume"), { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain("saving the images of 2 result(s) an earlier run recorded");
    expect(fake.log.slice(asked)).toEqual([]); // nothing asked of the queue (the fake does not log its image downloads)
    const done = results().filter((r) => r.status === "done");
    expect(done.map((r) => (r as { files?: string[] }).files?.length)).toEqual([1, 1]);
    // The files are named with the exact seeds the record kept.
    expect(readdirSync(join(dir, "out")).sort()).toEqual(seeds.map((seed) => `cat-${seed}-0.jpeg`).sort());
    expect(fake.count("submit")).toBe(2);
  });

  it("one batch runs in one process at a time; a lock left by a killed run is taken over, and removed at the end", async () => {
    writeBatch(jobLines(1));
    const lock = join(dir, "batch.results.jsonl.lock");
    writeFileSync(lock, String(process.pid)); // a live process holds it
    const refused = await runCli(batch(), { cwd: dir, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`another flux-i2i (pid ${process.pid}) is running this batch`);
    expect(fake.log).toEqual([]);

    const gone = spawnSync(process.execPath, ["-e", "0"]).pid!;
    writeFileSync(lock, String(gone));
    const { code } = await runCli(batch(), { cwd: dir, env });
    expect(code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it("refuses to start over a results file of an earlier batch without --resume", async () => {
    writeBatch(jobLines(1));
    writeFileSync(join(dir, "batch.results.jsonl"), '{"line":1,"status":"done"}\n');
    const { code, stderr } = await runCli(batch(), { cwd: dir, env });
    expect(code).toBe(2);
    expect(stderr).toContain("--resume");
    expect(fake.log).toEqual([]);
    // Against the mock too, before a Prism is started for nothing.
    const mocked = await runCli(["--batch", "batch.jsonl"], { cwd: dir });
    expect(mocked.code).toBe(2);
    expect(mocked.stderr).toContain("already records a batch: add --resume");
    expect(mocked.stderr).not.toContain("Prism");
  });
});
