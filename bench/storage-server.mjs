// bench:upload's fal storage, in a process of its own: the initiate call answers a signed URL on
// this server, whose PUT is read at memory speed and dropped (its size counted). Prints its URL.
import { createServer } from "node:http";

let putBytes = 0;
let base = "";
const server = createServer((req, res) => {
  let size = 0;
  req.on("data", (chunk) => (size += chunk.length));
  req.on("end", () => {
    if (req.method === "POST" && req.url.startsWith("/storage/upload/initiate")) {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ upload_url: `${base}/put/1`, file_url: "https://v3b.fal.media/files/bench/image.png" }));
    } else if (req.method === "PUT") {
      putBytes += size;
      res.writeHead(200).end();
    } else res.writeHead(404).end();
  });
});
server.listen(0, "127.0.0.1", () => {
  base = `http://127.0.0.1:${server.address().port}`;
  process.send({ url: base });
});
process.on("message", (message) => {
  if (message === "report") process.send({ putBytes });
});
process.on("disconnect", () => server.close(() => process.exit(0)));
