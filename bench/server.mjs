// The benchmark's server, in its own process: answers every POST with the spec's 200 example.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { parse } from "yaml";

const spec = parse(readFileSync(new URL("../openapi/image-to-image.yaml", import.meta.url), "utf8"));
const examples = spec.paths["/fal-ai/flux-1/dev/image-to-image"].post.responses["200"].content["application/json"].examples;
const body = JSON.stringify(examples.hosted.value);

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
      "x-fal-request-id": "bench",
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
process.on("disconnect", () => process.exit(0));
