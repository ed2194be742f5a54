// One endpoint's whole client: the sync call (./sync/client.ts) and fal's queue (./queue/client.ts)
// on one object, with one key, one fetch seen by the hooks (./core/client-setup.ts) and one
// redaction. It takes the endpoint's generated entry (generated/endpoints.ts): a document added is a
// client added. src/image-to-image.ts binds it to this package's endpoint.
import { clientSetup } from "./core/client-setup.js";
import type { Endpoint } from "./core/types.js";
import { createQueueClient, type QueueClient, type QueueClientOptions } from "./queue/client.js";
import { createSyncClient, type SyncClientOptions, type SyncEndpointClient } from "./sync/client.js";

export interface EndpointClientOptions<Id extends string = string> extends SyncClientOptions<Id>, QueueClientOptions<Id> {}

/** The sync call (`run`) and the queue of one endpoint. */
export interface EndpointClient<Paths extends {}, In, Out> extends SyncEndpointClient<Paths, In, Out>, QueueClient<In, Out> {}

/**
 * The client of `endpoint`, an entry of generated/endpoints.ts. `Paths` (its document's paths, from
 * generated/) types `raw`; `In` and `Out` are its input and output as the client takes and gives
 * them (`ClientInput<...SpecInput>`, `ClientOutput<...SpecOutput>`).
 */
export function createEndpointClient<Paths extends {}, In, Out>(endpoint: Endpoint, options: EndpointClientOptions = {}): EndpointClient<Paths, In, Out> {
  // The key resolved and the fetch wrapped once, for both halves.
  const setup = clientSetup(options);
  const queue = createQueueClient<In, Out>(endpoint, options, setup);
  const { run, raw, baseUrl } = createSyncClient<Paths, In, Out>(endpoint, options, setup);
  return { run, raw, baseUrl, ...queue };
}
