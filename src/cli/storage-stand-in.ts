// fal storage played on this machine for the command's mock mode: the upload's initiate call
// (openapi/storage.yaml) answers a signed URL on this server, which takes the PUT of the bytes and
// keeps nothing. A Prism mock of the storage document cannot stand in: its answer's upload_url is
// the document's example, on fal's CDN, and the image would leave the machine.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { storageUpload } from "../../generated/spec.js";

export interface StorageStandIn {
  url: string;
  stop(): Promise<void>;
}

/** The body, at most `limit` bytes (more is refused); what a PUT sends is counted, not kept. */
async function readAtMost(req: IncomingMessage, limit: number, keep: boolean): Promise<string | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    if (keep) chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function startStorageStandIn(): Promise<StorageStandIn> {
  let uploads = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const answer = (status: number, body?: unknown) =>
      res.writeHead(status, body === undefined ? {} : { "Content-Type": "application/json" }).end(body === undefined ? undefined : JSON.stringify(body));
    const handle = async () => {
      if (req.method === "POST" && url.pathname === storageUpload.initiatePath) {
        const text = await readAtMost(req, 64 * 1024, true);
        const name = (JSON.parse(text ?? "{}") as { file_name?: unknown }).file_name;
        const file = encodeURIComponent(typeof name === "string" && name ? name : "image");
        return answer(200, { upload_url: `${base}/put/${++uploads}/${file}`, file_url: `https://v3b.fal.media/files/mock/${file}` });
      }
      if (req.method === "PUT" && url.pathname.startsWith("/put/")) {
        return answer((await readAtMost(req, storageUpload.maxBytes, false)) === undefined ? 413 : 200);
      }
      answer(404, { detail: "Not found" });
    };
    handle().catch(() => answer(400, { detail: "bad request" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
