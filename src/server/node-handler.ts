// toNodeHandler: a Fetch-API handler (createFalProxy's) as a node:http listener or an Express
// route, shipped here so that nobody copies a few lines from a README that crash on the first
// odd request. Whatever arrives (a Host no URL can hold, a body cut off by a client that hangs up,
// a body Express has already parsed) gets an answer, and whatever fails (the handler, the answer's
// stream) ends that one connection, never the process.
//
// It imports nothing from Node at run time (only types), so the entry that re-exports it still
// loads in an edge runtime, where createFalProxy is mounted without it.
import type { IncomingMessage, ServerResponse } from "node:http";

/** What Express and body-parser add to a request, read when they are there. */
type NodeRequest = IncomingMessage & {
  /** Express: the URL before a mount point (`app.use("/api/fal", ...)`) was taken off `url`. */
  originalUrl?: string;
  /** What a body parser made of the body (`express.json()`: an object). */
  body?: unknown;
  /** The bytes as received, where an app's parser keeps them (a `verify` hook). */
  rawBody?: unknown;
  /** body-parser's mark that it has read the body. */
  _body?: boolean;
};

export interface NodeHandlerOptions {
  /** Told of each failure answered with a 500 or a cut connection, for your logs. What it throws is ignored. */
  onError?: (error: unknown) => void;
}

/**
 * `handler` as `(req, res) => void` for `http.createServer(...)`, `app.use(...)` / `app.all(...)`
 * in Express (before or after `express.json()`: a parsed body is serialized again), or any
 * framework that hands over Node's request and response. The returned promise never rejects.
 */
export function toNodeHandler(
  handler: (request: Request) => Promise<Response>,
  options: NodeHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // A logger's failure is not the caller's.
    }
  };
  return async (req, res) => {
    // A client that hangs up makes its request and response emit errors: they are read here, as
    // the end of this exchange, not thrown at the process.
    req.on("error", () => undefined);
    res.on("error", () => undefined);
    const gone = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) gone.abort();
    });
    try {
      const request = toRequest(req as NodeRequest, gone.signal);
      if (typeof request === "string") return answer(req, res, 400, request);
      await writeResponse(req, res, await handler(request));
    } catch (error) {
      // A browser that went away ended the exchange itself: nothing failed.
      if (!gone.signal.aborted) report(error);
      if (res.headersSent) return void res.destroy();
      for (const name of res.getHeaderNames()) res.removeHeader(name); // the answer's, if copying them failed midway
      answer(req, res, 500, "the proxy could not handle this request");
    }
  };
}

/** A Host header's form: a name or IPv4 address, or an IPv6 literal, and a port. Anything else (`a:b:c`, a path, a user name) is refused. */
const hostForm = /^(?:[A-Za-z0-9.\-_~!$&'()*+,;=%]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The Fetch API's Request for Node's request, or why it cannot be made (answered 400). */
function toRequest(req: NodeRequest, signal: AbortSignal): Request | string {
  const path = req.originalUrl ?? req.url ?? "";
  // A path, not an absolute URL (`GET http://elsewhere/ HTTP/1.1`), which would name another host.
  if (!path.startsWith("/")) return "the request target must be a path";
  const host = req.headers.host;
  if (!host || !hostForm.test(host)) return "the Host header is missing or is not a host";
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  const method = req.method ?? "GET";
  try {
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const parsed = method === "GET" || method === "HEAD" ? undefined : parsedBody(req);
    // A body made again from what a parser kept has a length of its own.
    if (parsed !== undefined) headers.delete("content-length");
    const body = method === "GET" || method === "HEAD" ? undefined : (parsed ?? streamOf(req));
    return new Request(`${scheme}://${host}${path}`, { method, headers, body, signal, duplex: "half" } as RequestInit);
  } catch {
    return "the request cannot be read (its URL, a header or its method)";
  }
}

/**
 * The body a parser has already read (Express with `express.json()` before this route), as bytes
 * again: the raw bytes if the app kept them, else the parsed value serialized. Undefined when the
 * body has not been read: it is then streamed from the request.
 */
function parsedBody(req: NodeRequest): string | Uint8Array | undefined {
  if (req._body !== true && !req.readableEnded) return undefined;
  for (const value of [req.rawBody, req.body]) {
    if (typeof value === "string" || value instanceof Uint8Array) return value;
  }
  return req.body === undefined || req.body === null ? "" : JSON.stringify(req.body);
}

/** The request's body as a stream that errors (instead of crashing anything) when the client hangs up before its end. */
function streamOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  let detach = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let ended = false;
      const finish = (error?: Error) => {
        if (ended) return;
        ended = true;
        detach();
        if (error) controller.error(error);
        else controller.close();
      };
      const onData = (chunk: Buffer) => {
        if (ended) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      };
      const onEnd = () => finish();
      const onError = (error: Error) => finish(error);
      const onClose = () => finish(req.complete ? undefined : new Error("the client hung up before the body ended"));
      req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
      detach = () => req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
    },
    pull() {
      req.resume();
    },
    cancel() {
      // Read no more; what is left is dropped by Node once the answer is sent (with Connection: close).
      detach();
    },
  });
}

/** The handler's Response written to Node's response: status, headers, and the body streamed with backpressure. */
async function writeResponse(req: IncomingMessage, res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) res.setHeader("set-cookie", cookies);
  // A body left unread (refused for its size, say) is not read on: the connection ends with the answer.
  if (!req.complete) res.setHeader("connection", "close");
  if (!response.body || req.method === "HEAD") {
    await response.body?.cancel().catch(() => undefined);
    res.end();
    return;
  }
  // Headers now, so that a status stream's events are not held up behind them.
  res.flushHeaders();
  const reader = response.body.getReader();
  const stopReading = () => void reader.cancel().catch(() => undefined);
  res.once("close", stopReading);
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      if (res.destroyed) return;
      if (!res.write(read.value)) await writable(res);
    }
    res.end();
  } finally {
    res.off("close", stopReading);
  }
}

/** Resolves when `res` can take more, or has closed. */
function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}

function answer(req: IncomingMessage, res: ServerResponse, status: number, detail: string): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (!req.complete) headers.connection = "close";
  res.writeHead(status, headers).end(JSON.stringify({ detail }));
}
