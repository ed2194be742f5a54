// Type-level contract, checked by `tsc --noEmit` (npm test), beside the runtime verdicts it mirrors.
import type { RequestListener } from "node:http";
import type { RequestHandler } from "express";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createFalProxy, toNodeHandler, type ProxyTarget } from "../src/server/proxy.js";
import {
  checkInput,
  createFluxClient,
  type FluxApiError,
  type FluxRedirectError,
  type CancelResult,
  type FluxClient,
  type ImageToImageInput,
  type ImageToImageOutput,
  type paths,
  type PlatformOptions,
  type QueuePriority,
  type QueueStatus,
  type QueueSubmitted,
  type WebhookPayload,
} from "../src/index.js";

const image_url = "https://fal.media/files/koala/Chls9L2ZnvuipUTEwlnJC.png";
const prompt = "a cat dressed as a wizard";

describe("types generated from the spec", () => {
  it("a missing prompt does not compile, and the validator refuses it", () => {
    // @ts-expect-error prompt is required
    const missing: ImageToImageInput = { image_url };
    expect(checkInput(missing)).toContainEqual(expect.objectContaining({ field: "prompt", rule: "required" }));
  });

  it('strength: "high" does not compile, and the validator refuses it', () => {
    // @ts-expect-error strength is a number
    const wrong: ImageToImageInput = { image_url, prompt, strength: "high" };
    expect(checkInput(wrong)).toContainEqual(expect.objectContaining({ field: "strength", rule: "type" }));
  });

  it("an unknown property in a literal does not compile, and the validator refuses it", () => {
    // @ts-expect-error num_image is not a parameter
    const typo: ImageToImageInput = { image_url, prompt, num_image: 2 };
    expect(checkInput(typo)).toContainEqual(expect.objectContaining({ field: "num_image", rule: "additionalProperties" }));
  });

  it("parameters with defaults stay optional", () => {
    const minimal: ImageToImageInput = { image_url, prompt };
    expect(checkInput(minimal)).toEqual([]);
    expectTypeOf<ImageToImageInput["strength"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ImageToImageInput["num_images"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ImageToImageInput["seed"]>().toEqualTypeOf<number | bigint | null | undefined>();
    expectTypeOf<ImageToImageInput["output_format"]>().toEqualTypeOf<"jpeg" | "png" | undefined>();
    expectTypeOf<ImageToImageInput["acceleration"]>().toEqualTypeOf<"none" | "regular" | "high" | undefined>();
  });

  it("the call is typed end to end", () => {
    const client = createFluxClient({ credentials: "k", fetch: async () => new Response("{}") });
    expectTypeOf(client.imageToImage).parameter(0).toEqualTypeOf<ImageToImageInput>();
    expectTypeOf(client.imageToImage).returns.resolves.toEqualTypeOf<ImageToImageOutput>();
    expectTypeOf<ImageToImageOutput["images"][number]["url"]>().toBeString();
    expectTypeOf<ImageToImageOutput["has_nsfw_concepts"]>().toEqualTypeOf<boolean[]>();
    expectTypeOf<FluxClient["raw"]["POST"]>().toBeFunction();
    expectTypeOf<keyof paths>().toEqualTypeOf<"/fal-ai/flux-1/dev/image-to-image">();
    // @ts-expect-error the raw client only knows the spec's paths
    void (() => client.raw.POST("/fal-ai/flux-1/dev/text-to-image", {}));
    expect(typeof client.imageToImage).toBe("function");
  });

  it("the queue is typed from the queue document", async () => {
    const client = createFluxClient({ credentials: "k", fetch: async () => new Response("{}") });
    expectTypeOf(client.subscribe).returns.resolves.toEqualTypeOf<ImageToImageOutput>();
    expectTypeOf(client.follow).returns.resolves.toEqualTypeOf<ImageToImageOutput>();
    // follow takes a job that is already on the queue: nothing that would submit one.
    // @ts-expect-error onEnqueue is subscribe's: a followed job was enqueued earlier
    void (() => client.follow("id", { onEnqueue: () => undefined }));
    expectTypeOf(client.queue.submit).returns.resolves.toEqualTypeOf<QueueSubmitted>();
    expectTypeOf(client.queue.cancel).returns.resolves.toEqualTypeOf<CancelResult>();
    expectTypeOf<QueuePriority>().toEqualTypeOf<"normal" | "low">();
    expectTypeOf<CancelResult["status"]>().toEqualTypeOf<"OK" | "CANCELLATION_REQUESTED" | "ALREADY_COMPLETED" | "NOT_FOUND">();
    // Only request_id is required of a submit answer: fal's webhook docs show one without URLs.
    expectTypeOf<QueueSubmitted["status_url"]>().toEqualTypeOf<string | undefined>();
    // fal's platform headers, as options with their units, on the sync call, a submit and subscribe alike.
    expectTypeOf<PlatformOptions["startTimeoutSeconds"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<PlatformOptions["mediaExpirationSeconds"]>().toEqualTypeOf<number | null | undefined>();
    expectTypeOf<Parameters<FluxClient["imageToImage"]>[1]>().toMatchTypeOf<PlatformOptions | undefined>();
    expectTypeOf<Parameters<FluxClient["subscribe"]>[1]>().toMatchTypeOf<PlatformOptions | undefined>();
    // @ts-expect-error the old unitless name is gone: seconds say so in the name
    void (() => client.queue.submit({ image_url: "x", prompt: "p" }, { startTimeout: 30 }));
    expectTypeOf<QueueStatus["status"]>().toEqualTypeOf<"IN_QUEUE" | "IN_PROGRESS" | "COMPLETED">();
    // A status narrows by its status: only COMPLETED has metrics, only IN_QUEUE a queue position.
    const narrow = (status: QueueStatus) => {
      if (status.status === "COMPLETED") expectTypeOf(status.metrics).toEqualTypeOf<{ inference_time?: number | null } | undefined>();
      // @ts-expect-error an in-progress job has no queue position
      if (status.status === "IN_PROGRESS") void status.queue_position;
    };
    void narrow;
    // @ts-expect-error the spec's priorities are normal and low
    await expect(client.queue.submit({ image_url, prompt }, { priority: "urgent" })).rejects.toThrow(/priority/);
    expectTypeOf<WebhookPayload["status"]>().toEqualTypeOf<"OK" | "ERROR">();
    expectTypeOf<NonNullable<WebhookPayload["payload"]>>().toExtend<ImageToImageOutput | { detail: unknown }>();
  });
});

describe("flux-i2i/proxy's types", () => {
  it("authorize is told the spec's operation ids; toNodeHandler is a node:http listener and an Express handler; a redirect is a FluxApiError", async () => {
    expectTypeOf<ProxyTarget["operationId"]>().toEqualTypeOf<
      "imageToImage" | "submitImageToImage" | "getQueueStatus" | "streamQueueStatus" | "getQueueResult" | "cancelQueueRequest" | "initiateUpload"
    >();
    const seen: string[] = [];
    const proxy = createFalProxy({ credentials: "key-id:key-secret-0123", fetch: async () => new Response("{}"), authorize: (_request, target) => (seen.push(target.operationId), target.operationId === "getQueueStatus") });
    const answer = await proxy(new Request("http://127.0.0.1/api/fal/queue/fal-ai/flux-1/dev/image-to-image", { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } }));
    expect([answer.status, seen]).toEqual([401, ["submitImageToImage"]]);
    expectTypeOf(toNodeHandler(proxy)).toExtend<RequestListener>();
    expectTypeOf(toNodeHandler(proxy)).toExtend<RequestHandler>();
    expectTypeOf<FluxRedirectError>().toExtend<FluxApiError>();
    expectTypeOf<FluxRedirectError["location"]>().toEqualTypeOf<string | undefined>();
  });
});
