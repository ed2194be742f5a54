export { createFluxClient, type CallOptions, type FluxClient, type FluxClientOptions } from "./client.js";
export { createSyncClient, type SyncClient, type SyncClientOptions } from "./sync/client.js";
export { createQueueClient, type FluxStorage, type QueueClient, type QueueClientOptions } from "./queue/client.js";
export type { UploadOptions } from "./storage/upload.js";
export type { AuthScheme } from "./core/credentials.js";
export type { EndpointId } from "./core/types.js";
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
export { checkInput, checkOutput } from "./core/validation.js";
export { imageToImageInputSchema, imageToImageExamples } from "../generated/spec.js";
export type { components, paths } from "../generated/image-to-image.js";
