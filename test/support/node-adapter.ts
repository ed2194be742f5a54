// A Fetch-API handler (flux-i2i/proxy) served on 127.0.0.1 by node:http through the package's own
// adapter, toNodeHandler, as the README mounts it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { toNodeHandler, type NodeHandlerOptions } from "../../src/server/node-handler.js";

export async function serveFetchHandler(
  handler: (request: Request) => Promise<Response>,
  options: NodeHandlerOptions = {},
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(toNodeHandler(handler, options));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
