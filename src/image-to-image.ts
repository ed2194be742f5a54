// This package's endpoint, FLUX.1 [dev] image-to-image, bound to the generic client: the one module
// of src/ that names it. Everything here is its generated entry (generated/endpoints.ts) handed to
// the code that takes any entry, under the names users know (`imageToImage`, `createFluxClient`).
import type { paths } from "../generated/image-to-image.js";
import {
  imageToImageCalls,
  imageToImageIds,
  imageToImageQueue,
  imageToImageSync,
  type ImageToImageSpecInput,
  type ImageToImageSpecOutput,
} from "../generated/endpoints.js";
import { createEndpointClient, type EndpointClientOptions } from "./client.js";
import type { ClientInput, ClientOutput, FluxQueue as EndpointQueue, WithResponseCall } from "./core/types.js";
import { checkInput as checkEndpointInput, checkOutput as checkEndpointOutput } from "./core/validation.js";
import type { FluxIssue } from "./core/errors.js";
import { createQueueClient as createEndpointQueue, type QueueClient as EndpointQueueClient, type QueueClientOptions as EndpointQueueOptions } from "./queue/client.js";
import { createSyncClient as createEndpointSync, type CallOptions, type SyncClientOptions as EndpointSyncOptions } from "./sync/client.js";

// The entry itself (for createEndpointClient, a contract run), its input schema and examples, and its document's types.
export { imageToImage, imageToImageInputSchema, imageToImageExamples } from "../generated/endpoints.js";
export type { components, paths } from "../generated/image-to-image.js";

/** An id fal answers to for this endpoint: `fal-ai/flux-1/dev/image-to-image`, or the one fal's docs page prints, `fal-ai/flux/dev/image-to-image`. */
export type EndpointId = (typeof imageToImageIds)[number];
/** The spec's input, with an exact seed and `image_url` also as bytes (see {@link ClientInput}). */
export type ImageToImageInput = ClientInput<ImageToImageSpecInput>;
/** The spec's 200 body, its `seed` exact: a bigint when it is above 2^53, as fal's seeds usually are. */
export type ImageToImageOutput = ClientOutput<ImageToImageSpecOutput>;

export type SyncClientOptions = EndpointSyncOptions<EndpointId>;
export type QueueClientOptions = EndpointQueueOptions<EndpointId>;
export type FluxClientOptions = EndpointClientOptions<EndpointId>;
export type FluxQueue = EndpointQueue<ImageToImageInput, ImageToImageOutput>;
export type QueueClient = EndpointQueueClient<ImageToImageInput, ImageToImageOutput>;

export interface SyncClient {
  /**
   * Runs FLUX.1 [dev] image-to-image synchronously. The input is checked against the spec first:
   * a bad one throws {@link FluxValidationError} and nothing is sent.
   * @throws FluxValidationError | FluxApiError | FluxResponseError | FluxNetworkError
   */
  imageToImage: WithResponseCall<[input: ImageToImageInput, options?: CallOptions], ImageToImageOutput>;
  /** The openapi-fetch client itself, typed by the spec, with the same base URL and credentials. */
  readonly raw: import("openapi-fetch").Client<paths>;
  readonly baseUrl: string;
}

/** The sync call and the queue: everything {@link SyncClient} and {@link QueueClient} have. */
export interface FluxClient extends SyncClient, QueueClient {}

/** The sync call alone (`flux-i2i/sync`): no queue code. */
export function createSyncClient(options: SyncClientOptions = {}): SyncClient {
  const { run, raw, baseUrl } = createEndpointSync<paths, ImageToImageInput, ImageToImageOutput>(imageToImageSync, options);
  return { imageToImage: run, raw, baseUrl };
}

/** fal's queue alone (`flux-i2i/queue`): no openapi-fetch, none of the sync call's code. */
export function createQueueClient(options: QueueClientOptions = {}): QueueClient {
  return createEndpointQueue<ImageToImageInput, ImageToImageOutput>(imageToImageQueue, options);
}

export function createFluxClient(options: FluxClientOptions = {}): FluxClient {
  const { run, ...rest } = createEndpointClient<paths, ImageToImageInput, ImageToImageOutput>(imageToImageCalls, options);
  return { imageToImage: run, ...rest };
}

/** The spec's rules for a request body: every broken one, or an empty list. Never changes `input`. */
export function checkInput(input: unknown): FluxIssue[] {
  return checkEndpointInput(imageToImageCalls, input);
}

/** The spec's rules for a 200 body. */
export function checkOutput(output: unknown): FluxIssue[] {
  return checkEndpointOutput(imageToImageCalls, output);
}
