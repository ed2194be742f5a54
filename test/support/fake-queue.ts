// A local fake of fal's queue (openapi/queue.yaml) on 127.0.0.1 that runs jobs on timers, or holds
// them in a state until the test moves them on, and can inject faults request by request. Used by
// the queue fault tests, the command's tests and the benches (bench/fake-queue-process.mjs).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";

export type Route = "submit" | "status" | "stream" | "result" | "cancel";

/** What the next request to a route gets instead of the normal answer. */
export type Fault =
  /** An error answer: status, fal's body and headers. */
  | { kind: "status"; status: number; body?: unknown; headers?: Record<string, string> }
  /** The connection is cut as soon as the request line and headers arrive, before the body is read. */
  | { kind: "reset-before-body" }
  /** The request is handled (a submit creates its job), then the connection is cut instead of answering. */
  | { kind: "reset-after-body" }
  /** Handled, then half the answer is sent and the connection cut. */
  | { kind: "truncate" }
  /** Handled, then a 200 that ends cleanly after half its JSON (no Content-Length to betray it). */
  | { kind: "half-json" }
  /** Handled, then a 200 whose body is not JSON. */
  | { kind: "malformed" }
  /** Handled, then the answer is held back this long. */
  | { kind: "slow"; ms: number }
  /** Handled, then the answer is held back until the test calls `release()`. */
  | { kind: "held" }
  /** The status stream sends this many events, then the connection is cut. */
  | { kind: "drop-stream"; afterEvents: number }
  /** The status stream sends this many events, then ends cleanly, before COMPLETED. */
  | { kind: "end-stream"; afterEvents: number };

export interface JobOutcome {
  /** The answer of the result URL when it is not the output: e.g. 422 and fal's detail list. */
  status: number;
  body: unknown;
  /** What its COMPLETED status says of the failure (`error`, `error_type`), as fal's may. */
  statusError?: { error: string; error_type: string };
}

export interface FakeJob {
  id: string;
  /** Its place in submit order, from 0: what `queueMs`, `runMs` and `outcome` are given. */
  n: number;
  input: Record<string, unknown>;
  /** The submit's body as it arrived (JSON.parse would round a big seed in `input`). */
  rawBody: string;
  /** The exact seed the output carries, above 2^53. */
  seed: bigint;
  state: "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";
  cancelled: boolean;
  /** performance.timeOrigin + performance.now() when the job completed. */
  completedAt?: number;
  /** How many times its result was served with a 2xx or its error outcome. */
  resultsServed: number;
  outcome?: JobOutcome;
  webhook?: string;
  headers: IncomingMessage["headers"];
}

export interface FakeQueueOptions {
  /** ms in the queue, then ms in progress, per job (by submit order). Default 0 and 20. */
  queueMs?: (n: number) => number;
  runMs?: (n: number) => number;
  /** The result of job n, when it is not a success. */
  outcome?: (n: number, input: Record<string, unknown>) => JobOutcome | undefined;
  /** The origin written into the URLs of a submit answer. Default: the fake's own. */
  urlOrigin?: string;
  /** `long`: URLs with the model's sub-path, as fal's generated OpenAPI files list them. */
  urlForm?: "short" | "long";
  /** ms between `: ping` comments on a status stream. Default 1000. */
  pingMs?: number;
  /** ms a status stream stays open after its COMPLETED event, as fal's may. Default 1000. `Infinity`: until `endStreams()`. */
  closeAfterCompletedMs?: number;
  /** `self`: output images are served by the fake (`/files/fake/ID.jpeg`, a few JPEG bytes) instead of fal's CDN. */
  images?: "cdn" | "self";
  /** With `images: "self"`: the first this many image downloads answer 404 (images that cannot be saved). */
  failImages?: number;
  /**
   * Jobs keep their state until the test moves them on with {@link FakeQueue.advance}, instead of
   * on timers: a test that must see a state holds the job there until the client has seen it, so
   * a busy machine cannot skip it. `queueMs` and `runMs` apply once the test calls `release()`.
   */
  hold?: boolean;
  /** `ids-only`: the submit answers `{request_id, gateway_request_id}` alone, as fal's webhook docs show it. */
  submitAnswer?: "full" | "ids-only";
  /** A hostile server: the key it receives comes back in log lines, outputs and error bodies. */
  echoKey?: boolean;
  /**
   * At most this many jobs unfinished at once, like an account's concurrency limit: a submit over
   * it gets 429 and makes no job. Default: no limit.
   */
  concurrencyLimit?: number;
}

/** What the fake serves for an image with `images: "self"`: a JPEG's first bytes, enough for a type sniffer. */
/** A 1x1 PNG, for tests that send a local image file. */
export const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

export const fakeJpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0xff, 0xd9]);

export interface FakeQueue {
  url: string;
  jobs: Map<string, FakeJob>;
  /** Every request, in arrival order. */
  log: { route: Route | "unknown"; method: string; url: string; headers: IncomingMessage["headers"]; at: number; connection: number }[];
  /** How many connections clients have opened to the fake so far. */
  connections(): number;
  /** Ends every status stream held open after its COMPLETED event (`closeAfterCompletedMs: Infinity`). */
  endStreams(): void;
  count(route: Route): number;
  /** How many submits `concurrencyLimit` refused. */
  refused(): number;
  /** Resolves once `count(route)` has reached `n` (requests are counted as they arrive). */
  arrived(route: Route, n?: number): Promise<void>;
  /** Moves a held job (`hold: true`) on: IN_QUEUE to IN_PROGRESS, IN_PROGRESS to COMPLETED. Gives its new state. */
  advance(id: string): FakeJob["state"];
  /** Ends holding: held jobs, and every later one, run on their timers from now; held answers are sent. */
  release(): void;
  /** Queues faults for a route; each is used by one request, in order. */
  inject(route: Route, ...faults: Fault[]): void;
  close(): Promise<void>;
}

const now = () => performance.timeOrigin + performance.now();
/** The key a request carried, as a hostile server would echo it. */
const echoOf = (headers: IncomingMessage["headers"]) => String(headers.authorization ?? "").replace(/^Key /, "");
const baseSeed = 15860307465884635512n;

/** Everything one fake holds: its jobs, its log, the faults waiting, what it holds back, its connections. */
interface FakeState {
  options: FakeQueueOptions;
  jobs: Map<string, FakeJob>;
  log: FakeQueue["log"];
  faults: Map<Route, Fault[]>;
  listeners: Map<string, Set<(job: FakeJob) => void>>;
  timers: Set<ReturnType<typeof setTimeout>>;
  sockets: Set<Socket>;
  /** Each connection's number, in the order they were opened (from 1). */
  connectionIds: WeakMap<Socket, number>;
  connectionCount: number;
  heldStreams: Set<ServerResponse>;
  arrivals: Set<() => boolean>;
  holding: boolean;
  heldAnswers: (() => void)[];
  submitted: number;
  imagesToFail: number;
  refused: number;
  origin: string;
}

/** What a route made of a request: its job, how to send its answer, and the answer's text (for the faults that cut it). */
interface Handled {
  job?: FakeJob;
  send: () => void;
  text?: string;
}

export async function startFakeQueue(options: FakeQueueOptions = {}): Promise<FakeQueue> {
  const state: FakeState = {
    options,
    jobs: new Map(),
    log: [],
    faults: new Map(),
    listeners: new Map(),
    timers: new Set(),
    sockets: new Set(),
    connectionIds: new WeakMap(),
    connectionCount: 0,
    heldStreams: new Set(),
    arrivals: new Set(),
    holding: options.hold ?? false,
    heldAnswers: [],
    submitted: 0,
    imagesToFail: options.failImages ?? 0,
    refused: 0,
    origin: "",
  };
  const server = createServer((req, res) => onRequest(state, req, res));
  server.on("connection", (socket) => {
    state.sockets.add(socket);
    state.connectionIds.set(socket, ++state.connectionCount);
    socket.on("close", () => state.sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return controls(state, server);
}

/** The fake as a test drives it. */
function controls(state: FakeState, server: Server): FakeQueue {
  const count = (route: Route) => state.log.filter((entry) => entry.route === route).length;
  return {
    url: state.origin,
    jobs: state.jobs,
    log: state.log,
    count,
    refused: () => state.refused,
    connections: () => state.connectionCount,
    endStreams() {
      for (const res of state.heldStreams) res.end();
      state.heldStreams.clear();
    },
    arrived: (route, n = 1) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (count(route) < n) return false;
          resolve();
          return true;
        };
        if (!check()) state.arrivals.add(check);
      }),
    advance(id) {
      const job = state.jobs.get(id);
      if (!job) throw new Error(`the fake has no job ${id}`);
      return step(state, job);
    },
    release() {
      if (state.holding) for (const job of state.jobs.values()) runOnTimers(state, job);
      state.holding = false;
      for (const answer of state.heldAnswers.splice(0)) answer();
    },
    inject(route, ...more) {
      state.faults.set(route, [...(state.faults.get(route) ?? []), ...more]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of state.timers) clearTimeout(timer);
        for (const socket of state.sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function later(state: FakeState, ms: number, fn: () => void) {
  const timer = setTimeout(() => {
    state.timers.delete(timer);
    fn();
  }, ms);
  state.timers.add(timer);
}

/** Moves the job through its remaining states: `queueMs` in the queue, then `runMs` in progress. */
function runOnTimers(state: FakeState, job: FakeJob) {
  const run = () => later(state, state.options.runMs?.(job.n) ?? 20, () => step(state, job));
  if (job.state === "IN_QUEUE") {
    later(state, state.options.queueMs?.(job.n) ?? 0, () => {
      step(state, job);
      run();
    });
  } else if (job.state === "IN_PROGRESS") run();
}

/** The job's next state: IN_QUEUE, IN_PROGRESS, COMPLETED; a cancelled job stays where it is. */
function step(state: FakeState, job: FakeJob): FakeJob["state"] {
  if (job.cancelled || job.state === "COMPLETED") return job.state;
  job.state = job.state === "IN_QUEUE" ? "IN_PROGRESS" : "COMPLETED";
  if (job.state === "COMPLETED") job.completedAt = now();
  state.listeners.get(job.id)?.forEach((listener) => listener(job));
  return job.state;
}

function statusOf(state: FakeState, job: FakeJob) {
  const { response_url } = urls(state, job.id);
  if (job.state === "IN_QUEUE") return { status: "IN_QUEUE", queue_position: 0, response_url };
  if (job.state === "IN_PROGRESS") return { status: "IN_PROGRESS", response_url, logs: state.options.echoKey ? [{ message: `loaded ${echoOf(job.headers)}` }] : [] };
  return { status: "COMPLETED", response_url, logs: [], metrics: { inference_time: 0.02 }, ...job.outcome?.statusError };
}

function urls(state: FakeState, id: string) {
  const base = `${state.options.urlOrigin ?? state.origin}/fal-ai/flux-1${state.options.urlForm === "long" ? "/dev/image-to-image" : ""}/requests/${id}`;
  return { response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` };
}

function submitText(state: FakeState, job: FakeJob | undefined): string {
  if (!job) return "{}";
  if (state.options.submitAnswer === "ids-only") return JSON.stringify({ request_id: job.id, gateway_request_id: job.id });
  return JSON.stringify({ request_id: job.id, ...urls(state, job.id), status: "IN_QUEUE", queue_position: 0 });
}

function outputText(state: FakeState, job: FakeJob): string {
  const rest = JSON.stringify({
    images: [{ url: `${state.options.images === "self" ? state.origin : "https://v3.fal.media"}/files/fake/${job.id}.jpeg`, width: 1024, height: 768, content_type: "image/jpeg" }],
    timings: { inference: 0.02 },
    has_nsfw_concepts: [false],
    prompt: state.options.echoKey ? `${String(job.input.prompt)} ${echoOf(job.headers)}` : job.input.prompt,
  });
  // Written by hand so that the seed keeps every digit.
  return `{"seed":${job.seed},${rest.slice(1)}`;
}

function jsonAnswer(res: ServerResponse) {
  return (status: number, value: unknown, headers: Record<string, string> = {}) => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
    res.end(text);
  };
}

/** A submit: a job made (or refused, over `concurrencyLimit`), run on its timers unless the fake holds jobs. */
function submitJob(state: FakeState, req: IncomingMessage, res: ServerResponse, body: string): Handled {
  const { options } = state;
  const json = jsonAnswer(res);
  const unfinished = [...state.jobs.values()].filter((job) => job.state !== "COMPLETED" && !job.cancelled).length;
  if (options.concurrencyLimit !== undefined && unfinished >= options.concurrencyLimit) {
    state.refused++;
    return { send: () => json(429, { detail: "Concurrent requests limit exceeded. Please try again later." }) };
  }
  const n = state.submitted++;
  const job: FakeJob = {
    id: `job-${n}-${Math.random().toString(36).slice(2, 8)}`,
    n,
    input: JSON.parse(body),
    rawBody: body,
    seed: baseSeed + BigInt(n),
    state: "IN_QUEUE",
    cancelled: false,
    resultsServed: 0,
    outcome: options.outcome?.(n, JSON.parse(body)),
    webhook: new URL(req.url!, "http://x").searchParams.get("fal_webhook") ?? undefined,
    headers: req.headers,
  };
  state.jobs.set(job.id, job);
  if (!state.holding) runOnTimers(state, job);
  return { job, send: () => json(200, submitText(state, job), { "x-fal-request-id": job.id }), text: submitText(state, job) };
}

function handle(state: FakeState, route: Route, req: IncomingMessage, res: ServerResponse, body: string, id: string | undefined): Handled {
  const json = jsonAnswer(res);
  if (route === "submit") return submitJob(state, req, res, body);
  const job = id === undefined ? undefined : state.jobs.get(id);
  if (!job) return { send: () => json(404, { detail: state.options.echoKey ? `Request not found for ${echoOf(req.headers)}` : "Request not found" }) };
  if (route === "status") return { job, send: () => json(job.state === "COMPLETED" ? 200 : 202, statusOf(state, job)) };
  if (route === "cancel") {
    if (job.state === "COMPLETED") return { job, send: () => json(400, { status: "ALREADY_COMPLETED" }) };
    job.cancelled = true;
    return { job, send: () => json(202, { status: "CANCELLATION_REQUESTED" }) };
  }
  if (route === "result") {
    if (job.state !== "COMPLETED") return { job, send: () => json(400, { detail: "Request is still in progress" }) };
    return {
      job,
      send: () => {
        job.resultsServed++;
        if (job.outcome) json(job.outcome.status, job.outcome.body);
        else json(200, outputText(state, job));
      },
      text: job.outcome ? JSON.stringify(job.outcome.body) : outputText(state, job),
    };
  }
  return { job, send: () => stream(state, job, res) };
}

function stream(state: FakeState, job: FakeJob, res: ServerResponse, cut?: { afterEvents: number; end?: boolean }) {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
  let sent = 0;
  let last = "";
  const ping = setInterval(() => res.write(": ping\n\n"), state.options.pingMs ?? 1000);
  const stop = () => {
    clearInterval(ping);
    state.listeners.get(job.id)?.delete(emit);
  };
  const emit = (current: FakeJob) => {
    const frame = JSON.stringify(statusOf(state, current));
    if (frame === last) return;
    last = frame;
    if (cut && sent >= cut.afterEvents) {
      stop();
      if (cut.end) res.end();
      else res.socket?.destroy();
      return;
    }
    res.write(`data: ${frame}\n\n`);
    sent++;
    if (current.state === "COMPLETED") {
      stop();
      const closeAfter = state.options.closeAfterCompletedMs ?? 1000;
      if (closeAfter === Number.POSITIVE_INFINITY) state.heldStreams.add(res);
      else later(state, closeAfter, () => res.end());
    }
  };
  if (!state.listeners.has(job.id)) state.listeners.set(job.id, new Set());
  state.listeners.get(job.id)!.add(emit);
  res.on("close", stop);
  emit(job);
}

/** An output image, when the fake serves them itself (`images: "self"`); false for any other request. */
function servedImage(state: FakeState, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  if (state.options.images !== "self" || req.method !== "GET" || !url.pathname.startsWith("/files/fake/")) return false;
  if (state.imagesToFail > 0) {
    state.imagesToFail--;
    res.writeHead(404, { "Content-Type": "text/plain" }).end("no such image");
  } else res.writeHead(200, { "Content-Type": "image/jpeg", "Content-Length": fakeJpeg.length }).end(fakeJpeg);
  return true;
}

/** The queue route a request is for, and its job's id. */
function routeOf(req: IncomingMessage, url: URL): { route: Route | "unknown"; id: string | undefined } {
  const match = /^\/fal-ai\/flux-1(?:\/dev\/image-to-image)?\/requests\/([^/]+)(\/status(\/stream)?|\/cancel)?$/.exec(url.pathname);
  const id = match?.[1];
  if (req.method === "POST" && url.pathname === "/fal-ai/flux-1/dev/image-to-image") return { route: "submit", id };
  if (!match) return { route: "unknown", id };
  if (match[3]) return { route: "stream", id };
  if (match[2] === "/status") return { route: "status", id };
  if (match[2] === "/cancel") return { route: req.method === "PUT" ? "cancel" : "unknown", id };
  return { route: "result", id };
}

function onRequest(state: FakeState, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url!, "http://x");
  if (servedImage(state, req, res, url)) return;
  const { route, id } = routeOf(req, url);
  state.log.push({ route, method: req.method!, url: req.url!, headers: req.headers, at: now(), connection: state.connectionIds.get(req.socket) ?? 0 });
  for (const check of state.arrivals) if (check()) state.arrivals.delete(check);
  if (route === "unknown") {
    res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ detail: "Not found" }));
    return;
  }
  const fault = state.faults.get(route)?.shift();
  if (fault?.kind === "reset-before-body") {
    req.socket.destroy();
    return;
  }
  let body = "";
  req.on("data", (chunk: Buffer) => (body += chunk));
  req.on("end", () => {
    if (fault?.kind === "status") {
      const text = JSON.stringify(fault.body ?? { detail: "fault" });
      res.writeHead(fault.status, { "Content-Type": "application/json", ...fault.headers }).end(text);
      return;
    }
    answer(state, route, req, res, handle(state, route, req, res, body, id), fault);
  });
}

/** The handled request's answer, as its fault (if any) bends it. */
function answer(state: FakeState, route: Route, req: IncomingMessage, res: ServerResponse, handled: Handled, fault: Fault | undefined) {
  if ((fault?.kind === "drop-stream" || fault?.kind === "end-stream") && route === "stream" && handled.job) {
    stream(state, handled.job, res, { afterEvents: fault.afterEvents, end: fault.kind === "end-stream" });
  } else if (fault?.kind === "reset-after-body") {
    req.socket.destroy();
  } else if (fault?.kind === "truncate") {
    const text = handled.text ?? '{"status":"IN_QUEUE","request_id":"cut"}';
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.write(text.slice(0, Math.floor(text.length / 2)));
    later(state, 5, () => req.socket.destroy());
  } else if (fault?.kind === "half-json") {
    const text = handled.text ?? submitText(state, handled.job);
    res.writeHead(200, { "Content-Type": "application/json" }).end(text.slice(0, Math.floor(text.length / 2)));
  } else if (fault?.kind === "malformed") {
    // As fal's answers do, the header names the job (the spec's x-fal-request-id on the submit's 200).
    res.writeHead(200, { "Content-Type": "application/json", ...(handled.job ? { "x-fal-request-id": handled.job.id } : {}) }).end("<html>Bad gateway</html>");
  } else if (fault?.kind === "held") {
    state.heldAnswers.push(() => (req.socket.destroyed ? undefined : handled.send()));
  } else if (fault?.kind === "slow") {
    later(state, fault.ms, () => (req.socket.destroyed ? undefined : handled.send()));
  } else {
    handled.send();
  }
}
