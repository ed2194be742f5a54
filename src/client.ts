// createFluxClient: the sync call (./sync.ts) and fal's queue (./queue-client.ts) on one object,
// with one key and one redaction.
import { createQueueClient, type QueueClient, type QueueClientOptions } from "./queue-client.js";
import { createSyncClient, type CallOptions, type SyncClient, type SyncClientOptions } from "./sync.js";

export type { CallOptions };

export interface FluxClientOptions extends SyncClientOptions, QueueClientOptions {}

/** The sync call and the queue: everything {@link SyncClient} and {@link QueueClient} have. */
export interface FluxClient extends SyncClient, QueueClient {}

export function createFluxClient(options: FluxClientOptions = {}): FluxClient {
  const queue = createQueueClient(options);
  const sync = createSyncClient(options);
  return { imageToImage: sync.imageToImage, raw: sync.raw, baseUrl: sync.baseUrl, ...queue };
}
