// flux-i2i/queue: fal's queue alone (queue.fal.run): submit, status, result, cancel, subscribe and
// follow, for an app that never makes the sync call. It ships no openapi-fetch.
export { createQueueClient, type EndpointId, type FluxQueue, type ImageToImageInput, type ImageToImageOutput, type QueueClient, type QueueClientOptions } from "./image-to-image.js";
export { defaultStreamDrainMs, type FluxStorage } from "./queue/client.js";
export type { FollowOptions, SubscribeOptions } from "./queue/subscribe.js";
