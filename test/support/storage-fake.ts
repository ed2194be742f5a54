// fal storage played on 127.0.0.1 for the upload tests: the initiate call answers a signed URL on
// this server and `fileUrl`; the PUT there is taken (CORS open, as a CDN's signed URL is, for the
// browser tier). Every request is in `requests`, with its method, headers and body.
import { storageUpload } from "../../generated/spec.js";
import { startLocalServer, type LocalServer } from "./local-server.js";

export async function startStorageFake(fileUrl: string): Promise<LocalServer> {
  const cors = { "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": "content-type" };
  const storage: LocalServer = await startLocalServer((req, res) => {
    const path = new URL(req.url!, "http://127.0.0.1").pathname;
    if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
    if (req.method === "POST" && path === storageUpload.initiatePath) {
      return res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ upload_url: `${storage.url}/put/1?signature=s`, file_url: fileUrl }));
    }
    res.writeHead(req.method === "PUT" && path.startsWith("/put/") ? 200 : 404, cors).end();
  });
  return storage;
}
