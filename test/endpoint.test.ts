// This endpoint under each id fal answers to for it (the spec's `x-endpoint`): the paths each id
// gives, the option checked, and the client's calls under the alias fal's docs page prints.
import { describe, expect, it } from "vitest";
import { endpointIds, operationResponses } from "../generated/spec.js";
import { imageToImageExamples } from "../generated/endpoints.js";
import { checkedEndpointId, endpointPath } from "../src/core/endpoint.js";
import { FluxValidationError } from "../src/core/errors.js";
import { createFluxClient } from "../src/index.js";
import type { FetchLike } from "../src/core/types.js";
import { firstExample, queueExample } from "./support/spec.js";

const [documentsId, alias] = endpointIds;
const input = imageToImageExamples.minimal;

describe("endpointPath", () => {
  it("leaves every path of the documents as it is under their own id", () => {
    for (const { path } of Object.values(operationResponses)) expect(endpointPath(endpointIds, path, documentsId)).toBe(path);
  });

  it("puts the call and the submit at /{alias}, and a job's URLs under the alias's app", () => {
    expect(alias).toBe("fal-ai/flux/dev/image-to-image");
    expect(endpointPath(endpointIds, operationResponses.imageToImage.path, alias)).toBe("/fal-ai/flux/dev/image-to-image");
    expect(endpointPath(endpointIds, operationResponses.submitImageToImage.path, alias)).toBe("/fal-ai/flux/dev/image-to-image");
    expect(endpointPath(endpointIds, operationResponses.getQueueStatus.path, alias)).toBe("/fal-ai/flux/requests/{request_id}/status");
    expect(endpointPath(endpointIds, operationResponses.streamQueueStatus.path, alias)).toBe("/fal-ai/flux/requests/{request_id}/status/stream");
    expect(endpointPath(endpointIds, operationResponses.cancelQueueRequest.path, alias)).toBe("/fal-ai/flux/requests/{request_id}/cancel");
  });

  it("an id the spec does not list is refused, naming the ones it does", () => {
    expect(checkedEndpointId(endpointIds, undefined)).toBe(documentsId);
    expect(() => checkedEndpointId(endpointIds, "fal-ai/flux/dev")).toThrow(FluxValidationError);
    expect(() => createFluxClient({ credentials: "k:s", endpointId: "fal-ai/flux/schnell" as never })).toThrow(`endpointId: must be one of ${endpointIds.join(", ")}`);
  });
});

describe("the client with endpointId: the alias", () => {
  /** A fal that answers the call and the submit (with the job's id alone, so the client builds its URLs) and every job URL. */
  function falOf(urls: string[]): FetchLike {
    return async (url) => {
      // The raw openapi-fetch client hands fetch a Request; the others a URL.
      const target = new URL(url instanceof Request ? url.url : String(url));
      urls.push(target.pathname);
      const submit = target.host.startsWith("queue.") && !target.pathname.includes("/requests/");
      const body = submit ? { request_id: "job-1" } : target.pathname.endsWith("/status") ? queueExample("getQueueStatus", 200) : firstExample(200);
      return new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json" } });
    };
  }

  it("sends the sync call, and the raw openapi-fetch client's, to /fal-ai/flux/dev/image-to-image", async () => {
    const urls: string[] = [];
    const client = createFluxClient({ credentials: "k:s", baseUrl: "https://fal.test", endpointId: alias, fetch: falOf(urls) });
    await client.imageToImage(input);
    await client.raw.POST("/fal-ai/flux-1/dev/image-to-image", { body: input });
    expect(urls).toEqual(["/fal-ai/flux/dev/image-to-image", "/fal-ai/flux/dev/image-to-image"]);
  });

  it("submits to /fal-ai/flux/dev/image-to-image and follows the job under /fal-ai/flux/requests/", async () => {
    const urls: string[] = [];
    const client = createFluxClient({ credentials: "k:s", queueUrl: "https://queue.fal.test", endpointId: alias, fetch: falOf(urls) });
    const job = await client.queue.submit(input);
    expect(job.request_id).toBe("job-1");
    await client.queue.status(job);
    await client.queue.result(job);
    expect(urls).toEqual(["/fal-ai/flux/dev/image-to-image", "/fal-ai/flux/requests/job-1/status", "/fal-ai/flux/requests/job-1"]);
  });
});
