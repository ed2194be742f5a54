export {
  checkInput,
  checkOutput,
  createFluxClient,
  createQueueClient,
  createSyncClient,
  type EndpointId,
  type FluxClient,
  type FluxClientOptions,
  type FluxQueue,
  type ImageToImageInput,
  type ImageToImageOutput,
  type QueueClient,
  type QueueClientOptions,
  type SyncClient,
  type SyncClientOptions,
} from "./image-to-image.js";
export type { CallOptions } from "./sync/client.js";
export type { FluxStorage } from "./queue/client.js";
// Any endpoint's client, from its generated entry (generated/endpoints.ts): a document added is a client added.
export { createEndpointClient, type EndpointClient, type EndpointClientOptions } from "./client.js";
export type { UploadOptions } from "./storage/upload.js";
export type { AuthScheme } from "./core/credentials.js";
export {
  FluxApiError,
  FluxConfigError,
  FluxError,
  FluxNetworkError,
  FluxRedirectError,
  FluxResponseError,
  FluxSubmitUncertainError,
  FluxTimeoutError,
  FluxUploadError,
  FluxValidationError,
  FluxWebhookError,
  type FalErrorBody,
  type FluxIssue,
} from "./core/errors.js";
export type {
  CallHeaders,
  CancelResult,
  CancelStatus,
  ClientInput,
  ClientOutput,
  Endpoint,
  FetchLike,
  ImageBytes,
  PlatformOptions,
  QueueCallOptions,
  QueueJob,
  QueuePriority,
  QueueStatus,
  QueueSubmitted,
  Seed,
  SubmitOptions,
  WithResponse,
  WithResponseCall,
} from "./core/types.js";
export type { CallHooks, RequestInfo, ResponseInfo } from "./core/call-controls.js";
export type { RetryOptions } from "./core/retry.js";
export { stringifyExact } from "./core/seed.js";
export type { FollowOptions, SubscribeOptions } from "./queue/subscribe.js";
export {
  createJwksCache,
  verifyWebhook,
  type Jwks,
  type JwksCacheOptions,
  type JwksSource,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  type WebhookPayload,
} from "./server/webhook.js";
export { imageToImage, imageToImageInputSchema, imageToImageExamples, type components, type paths } from "./image-to-image.js";
