// The clients bench/scaling.mjs compares, each made in the process that measures it
// (bench/scale-client.mjs): bare fetches (what any client must do for a job), this build's
// subscribe, a baseline build's (`baselineDist`), and @fal-ai/client's.
import { createFalClient } from "@fal-ai/client";

const input = { image_url: "https://fal.media/files/koala/Chls9L2ZnvuipUTEwlnJC.png", prompt: "a wizard cat" };
const path = "/fal-ai/flux-1/dev/image-to-image";

/** What any client must do for a job, and no more: submit, the stream up to COMPLETED (then read to its end, unwaited), the result. */
function bareFetches(url) {
  const headers = { Authorization: "Key bench", "Content-Type": "application/json" };
  return async () => {
    const job = await (await fetch(url + path, { method: "POST", headers, body: JSON.stringify(input) })).json();
    const stream = await fetch(`${job.status_url}/stream`, { headers: { Authorization: headers.Authorization, Accept: "text/event-stream" } });
    const reader = stream.body.getReader();
    const decoder = new TextDecoder();
    for (let text = ""; !text.includes('"COMPLETED"'); ) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    void (async () => {
      while (!(await reader.read()).done);
    })().catch(() => undefined);
    return (await fetch(job.response_url, { headers: { Authorization: headers.Authorization } })).json();
  };
}

async function fluxSubscribe(url, dist) {
  const { createFluxClient } = await import(dist);
  const flux = createFluxClient({ credentials: "bench", queueUrl: url });
  return () => flux.subscribe(input);
}

function falSubscribe(url) {
  const fal = createFalClient({
    credentials: "bench",
    requestMiddleware: async (request) => ({ ...request, url: request.url.replace("https://queue.fal.run", url) }),
  });
  return async () => (await fal.subscribe("fal-ai/flux-1/dev/image-to-image", { input, mode: "streaming" })).data;
}

/** The names of the clients, in the order printed: bare fetches first, the baseline of every ratio. */
export function clientNames(baselineSha) {
  return ["bare fetches (baseline)", "flux-i2i subscribe", ...(baselineSha ? [`flux-i2i subscribe at ${baselineSha}`] : []), "@fal-ai/client subscribe (streaming)"];
}

/** One job of client `name` against the fake queue at `url`: a function that runs it. */
export async function makeClient(name, url, baselineDist) {
  if (name.startsWith("bare")) return bareFetches(url);
  if (name === "flux-i2i subscribe") return fluxSubscribe(url, new URL("../dist/src/index.js", import.meta.url).href);
  if (name.startsWith("flux-i2i subscribe at ")) return fluxSubscribe(url, `file://${baselineDist}/src/index.js`);
  return falSubscribe(url);
}
