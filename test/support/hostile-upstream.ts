// fal's role played as a broken or hostile server would play it, on 127.0.0.1, for the proxy's
// tests and for bench/proxy-attacks.mjs. What it answers depends on the job id in the path:
// - `cut-stream`: a status stream that sends one event, then the connection is cut;
// - `cut-json`: a JSON answer of unknown length cut halfway;
// - `echo`: the key echoed in the status text, in headers (with CORS and a cookie of its own), and
//   in the body in every encoding of `echoedForms`;
// - `gzip-bomb`: a small gzip answer that inflates to `bombBytes`;
// - `redirect`: a 308 to another model's route on the same host.
// Anything else: a submit gets a job, the rest `COMPLETED`. Every request is logged.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createGzip } from "node:zlib";
import { startLocalServer } from "./local-server.js";

export interface HostileUpstream {
  url: string;
  /** Each request: method, path, the Authorization it carried and its body. */
  log: { method: string; path: string; authorization: string | undefined; body: string }[];
  close(): Promise<void>;
}

/** The key as the `echo` job sends it back, every way servers were seen to (issue 18). */
export function echoedForms(key: string): string[] {
  const secret = key.slice(key.indexOf(":") + 1);
  return [
    key,
    secret,
    key.toUpperCase(),
    encodeURIComponent(key),
    [...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join(""),
    Buffer.from(`Key ${key}`).toString("base64"),
    Buffer.from(key).toString("hex"),
    Buffer.from(secret).toString("hex").toUpperCase(),
  ];
}

/** Whether `text` holds any of {@link echoedForms}, in any letter case. */
export function holdsEchoedKey(text: string, key: string): boolean {
  const lower = text.toLowerCase();
  return echoedForms(key).some((form) => lower.includes(form.toLowerCase()));
}

export const redirectTarget = "/fal-ai/flux-pro/v1.1/requests/x/status";

const bombs = new Map<number, Promise<Buffer>>();
/** `bytes` zero bytes, gzipped (about 1,000 to 1), made once per size. */
function gzipBomb(bytes: number): Promise<Buffer> {
  let bomb = bombs.get(bytes);
  if (!bomb) {
    bomb = new Promise((resolve, reject) => {
      const gzip = createGzip({ level: 9 });
      const parts: Buffer[] = [];
      gzip.on("data", (part: Buffer) => parts.push(part)).on("end", () => resolve(Buffer.concat(parts))).on("error", reject);
      const chunk = Buffer.alloc(1024 * 1024);
      let left = bytes;
      const write = () => {
        while (left > 0) {
          const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= piece.length;
          if (!gzip.write(piece)) return void gzip.once("drain", write);
        }
        gzip.end();
      };
      write();
    });
    bombs.set(bytes, bomb);
  }
  return bomb;
}

export async function startHostileUpstream(key: string, options: { bombBytes?: number } = {}): Promise<HostileUpstream> {
  const log: HostileUpstream["log"] = [];
  const server = await startLocalServer((req, res, body) => {
    log.push({ method: req.method ?? "", path: req.url ?? "/", authorization: req.headers.authorization, body });
    answer(req, res, key, options.bombBytes ?? 300 * 1024 * 1024).catch(() => res.destroy());
  });
  return { url: server.url, log, close: server.close };
}

/** The answer each job id gets (see the file's comment). */
async function answer(req: IncomingMessage, res: ServerResponse, key: string, bombBytes: number): Promise<void> {
  const path = req.url ?? "/";
  const json = (status: number, body: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  if (path.includes("/requests/cut-stream/")) {
    res.writeHead(200, { "Content-Type": "text/event-stream" });
    res.write('data: {"status":"IN_PROGRESS","request_id":"cut-stream"}\n\n');
    setImmediate(() => res.destroy());
  } else if (path.includes("/requests/cut-json")) {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.write('{"images":[{"url":"https://v3.fal.media/files/a.jpeg"}],"prom');
    setImmediate(() => res.destroy());
  } else if (path.includes("/requests/echo/")) {
    res.statusMessage = `OK for Key ${key}`;
    res.writeHead(200, {
      "Content-Type": "application/json",
      "x-fal-debug": `auth=Key ${key}`,
      "x-fal-debug-b64": Buffer.from(`Key ${key}`).toString("base64"),
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Credentials": "true",
      "Set-Cookie": "fal_session=stolen; Path=/",
    });
    res.end(`{"status":"COMPLETED","request_id":"echo","logs":[${echoedForms(key).map((form) => `{"message":"loaded ${form}"}`).join(",")}]}`);
  } else if (path.includes("/requests/gzip-bomb")) {
    const bomb = await gzipBomb(bombBytes);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip", "Content-Length": bomb.length });
    res.end(bomb);
  } else if (path.includes("/requests/redirect/")) {
    res.writeHead(308, { Location: redirectTarget }).end();
  } else if (req.method === "POST") json(200, { request_id: "job-1" });
  else json(200, { status: "COMPLETED", request_id: "job-1" });
}
