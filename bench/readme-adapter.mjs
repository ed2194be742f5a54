// The node:http adapter the README showed for flux-i2i/proxy before toNodeHandler shipped (issue 18
// found that it crashes on a bad Host, a body cut off by a hang-up, an authorize that throws and a
// stream fal cuts). Kept only so that bench/proxy-attacks.mjs can host a baseline build as its
// users did; no one should mount it.
import { Readable } from "node:stream";

export function mount(proxy) {
  return async (req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(name, String(value));
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : Readable.toWeb(req);
    const response = await proxy(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body, duplex: "half" }));
    res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
    if (response.body) Readable.fromWeb(response.body).pipe(res);
    else res.end();
  };
}
