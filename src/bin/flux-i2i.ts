#!/usr/bin/env node
// The main job: the endpoint document's example request, end to end, against a Prism mock of the
// spec (no key, no network) or, with --live, against fal.run; with --queue, through fal's queue.
import { parseArgs } from "node:util";
import { imageToImageExamples } from "../../generated/spec.js";
import { createFluxClient, type ImageToImageOutput } from "../client.js";
import { resolveCredentials } from "../credentials.js";
import { FluxApiError, FluxConfigError, FluxNetworkError, FluxValidationError } from "../errors.js";
import { specPath, startPrismMock, type PrismMock } from "../mock.js";
import { stringifyExact } from "../seed.js";

const help = `Usage: flux-i2i [--queue] [--live] [--json]

Sends the example request of fal's endpoint document to FLUX.1 [dev] image-to-image and
prints what came back.

  (default)  against a Prism mock started from the spec: no key, no network
  --queue    through the queue (openapi/queue.yaml): submit, follow the status stream, fetch the
             result; progress on stderr
  --live     against fal (https://fal.run, or https://queue.fal.run with --queue), with the key in
             FAL_KEY (or FAL_KEY_ID + FAL_KEY_SECRET)
  --json     print the output body as JSON on stdout (seeds above 2^53 with every digit)
  -h, --help this text

Exit codes: 0 done, 2 bad input or usage, 3 API error, 4 network error, 130 interrupted.`;

async function main(args: string[]): Promise<number> {
  let values: { live?: boolean; json?: boolean; queue?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        live: { type: "boolean" },
        json: { type: "boolean" },
        queue: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    console.log(help);
    return 0;
  }
  const input = imageToImageExamples["seed-example"];
  let mock: PrismMock | undefined;
  const interrupted = new AbortController();
  const onSigint = () => interrupted.abort(new Error("interrupted"));
  process.once("SIGINT", onSigint);
  try {
    let client;
    if (values.live) {
      if (!resolveCredentials(undefined)) {
        console.error("--live needs a key: set FAL_KEY (or FAL_KEY_ID and FAL_KEY_SECRET).");
        return 2;
      }
      client = createFluxClient();
    } else {
      const document = values.queue ? "queue.yaml" : "image-to-image.yaml";
      console.error(`Starting a Prism mock of openapi/${document} (no key, no network)…`);
      mock = await startPrismMock({ spec: specPath(document) });
      client = createFluxClient({ baseUrl: mock.url, queueUrl: mock.url, credentials: "mock-key" });
    }
    const started = performance.now();
    let output: ImageToImageOutput;
    if (values.queue) {
      console.error(`Submitting to ${client.queueUrl}/fal-ai/flux-1/dev/image-to-image`);
      output = await client.subscribe(input, {
        signal: interrupted.signal,
        onEnqueue: (requestId) => console.error(`request id: ${requestId}`),
        onQueueUpdate: (status) =>
          console.error(`status: ${status.status}${status.status === "IN_QUEUE" ? ` (position ${status.queue_position ?? "?"})` : ""}`),
      });
    } else {
      console.error(`POST ${client.baseUrl}/fal-ai/flux-1/dev/image-to-image`);
      output = await client.imageToImage(input, { signal: interrupted.signal });
    }
    if (values.json) console.log(stringifyExact(output, 2));
    else console.log(summary(output, performance.now() - started));
    return 0;
  } catch (error) {
    if (interrupted.signal.aborted) return 130;
    console.error(`${(error as Error).name}: ${(error as Error).message}`);
    if (error instanceof FluxValidationError || error instanceof FluxConfigError) return 2;
    if (error instanceof FluxApiError) return 3;
    if (error instanceof FluxNetworkError) return 4;
    return 1;
  } finally {
    process.removeListener("SIGINT", onSigint);
    await mock?.stop();
  }
}

function summary(output: ImageToImageOutput, ms: number): string {
  const shorten = (url: string) => (url.length > 100 ? `${url.slice(0, 60)}… (${url.length} characters)` : url);
  const lines = output.images.map((image, i) => {
    const size = image.width && image.height ? ` ${image.width}x${image.height}` : "";
    const nsfw = output.has_nsfw_concepts[i] ? " [flagged NSFW]" : "";
    return `image ${i + 1}: ${shorten(image.url)}${size}${image.content_type ? ` ${image.content_type}` : ""}${nsfw}`;
  });
  const timings = Object.entries(output.timings)
    .map(([stage, seconds]) => `${stage} ${seconds} s`)
    .join(", ");
  return [
    ...lines,
    `seed: ${output.seed}`,
    `prompt: ${output.prompt}`,
    `timings: ${timings || "none reported"}`,
    `round trip: ${ms.toFixed(0)} ms`,
  ].join("\n");
}

process.exitCode = await main(process.argv.slice(2));
