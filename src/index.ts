export { createFluxClient, type CallOptions, type FluxClient, type FluxClientOptions } from "./client.js";
export { createSyncClient, type SyncClient, type SyncClientOptions } from "./sync.js";
export { createQueueClient, type FluxStorage, type QueueClient, type QueueClientOptions } from "./queue-client.js";
export type { UploadOptions } from "./upload.js";
export type { AuthScheme } from "./credentials.js";
export type { EndpointId } from "./types.js";
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
} from "./errors.js";
export type {
  CallHeaders,
  CancelResult,
  CancelStatus,
  FetchLike,
  FluxQueue,
  ImageBytes,
  ImageToImageInput,
  ImageToImageOutput,
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
} from "./types.js";
export type { CallHooks, RequestInfo, ResponseInfo } from "./call-controls.js";
export type { RetryOptions } from "./retry.js";
export { stringifyExact } from "./seed.js";
export type { FollowOptions, SubscribeOptions } from "./subscribe.js";
export {
  createJwksCache,
  verifyWebhook,
  type Jwks,
  type JwksCacheOptions,
  type JwksSource,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  type WebhookPayload,
} from "./webhook.js";
export { checkInput, checkOutput } from "./validation.js";
export { imageToImageInputSchema, imageToImageExamples } from "../generated/spec.js";
export type { components, paths } from "../generated/image-to-image.js";
