// This endpoint under each id fal answers to for it (the spec's `x-endpoint`): the documents'
// paths are written with one id; under an alias, the sync call and the submit sit at `/{alias}` and
// a job's URLs under the alias's `/{owner}/{app}/requests/`, as fal-js builds them.
import { endpointIds } from "../../generated/spec.js";
import { FluxValidationError } from "./errors.js";
import type { EndpointId } from "./types.js";

const [documentsId] = endpointIds;

/** The `owner/app` of an id: where its jobs' URLs live. */
const appOf = (id: string) => id.split("/").slice(0, 2).join("/");

/** A path of the spec (written with the documents' id) as it is under `endpointId`. */
export function endpointPath(path: string, endpointId: EndpointId = documentsId): string {
  if (endpointId === documentsId) return path;
  if (path === `/${documentsId}`) return `/${endpointId}`;
  const app = `/${appOf(documentsId)}/`;
  return path.startsWith(app) ? `/${appOf(endpointId)}/${path.slice(app.length)}` : path;
}

/** The option as given, checked: one of the spec's ids, else a {@link FluxValidationError} naming them. */
export function checkedEndpointId(value: unknown = documentsId): EndpointId {
  if ((endpointIds as readonly unknown[]).includes(value)) return value as EndpointId;
  throw new FluxValidationError([
    { field: "endpointId", rule: "enum", message: `must be one of ${endpointIds.join(", ")}, got ${JSON.stringify(value)}`, params: { allowedValues: [...endpointIds] } },
  ]);
}
