// createFluxClient: the sync call (./sync.ts) and fal's queue (./queue-client.ts) on one object,
// with one key, one fetch seen by the hooks (./client-setup.ts) and one redaction.
import { clientSetup } from "./core/client-setup.js";
import { createQueueClient, type QueueClient, type QueueClientOptions } from "./queue/client.js";
import { createSyncClient, type CallOptions, type SyncClient, type SyncClientOptions } from "./sync/client.js";

export type { CallOptions };

export interface FluxClientOptions extends SyncClientOptions, QueueClientOptions {}

/** The sync call and the queue: everything {@link SyncClient} and {@link QueueClient} have. */
export interface FluxClient extends SyncClient, QueueClient {}

export function createFluxClient(options: FluxClientOptions = {}): FluxClient {
  // The key resolved and the fetch wrapped once, for both halves.
  const setup = clientSetup(options);
  const queue = createQueueClient(options, setup);
  const sync = createSyncClient(options, setup);
  return { imageToImage: sync.imageToImage, raw: sync.raw, baseUrl: sync.baseUrl, ...queue };
}
