// flux-i2i/sync: the synchronous call alone (fal.run), for an app that needs no queue: what it
// ships is the call, its validators and openapi-fetch.
export { createSyncClient, type EndpointId, type ImageToImageInput, type ImageToImageOutput, type SyncClient, type SyncClientOptions } from "./image-to-image.js";
export type { CallOptions } from "./sync/client.js";
