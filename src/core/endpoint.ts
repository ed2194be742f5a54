// An endpoint under each id fal answers to for it (the spec's `x-endpoint`, in the entry's `ids`):
// the documents' paths are written with the first id; under an alias, the sync call and the submit
// sit at `/{alias}` and a job's URLs under the alias's `/{owner}/{app}/requests/`, as fal-js builds them.
import { FluxValidationError } from "./errors.js";
import type { EndpointRules } from "./types.js";

type Ids = EndpointRules["ids"];

/** The `owner/app` of an id: where its jobs' URLs live. */
const appOf = (id: string) => id.split("/").slice(0, 2).join("/");

/** A path of the spec (written with the endpoint's first id) as it is under `endpointId`. */
export function endpointPath(ids: Ids, path: string, endpointId: string = ids[0]): string {
  const [documentsId] = ids;
  if (endpointId === documentsId) return path;
  if (path === `/${documentsId}`) return `/${endpointId}`;
  const app = `/${appOf(documentsId)}/`;
  return path.startsWith(app) ? `/${appOf(endpointId)}/${path.slice(app.length)}` : path;
}

/** The option as given, checked: one of the endpoint's ids, else a {@link FluxValidationError} naming them. */
export function checkedEndpointId(ids: Ids, value: unknown = ids[0]): string {
  if ((ids as readonly unknown[]).includes(value)) return value as string;
  throw new FluxValidationError([
    { field: "endpointId", rule: "enum", message: `must be one of ${ids.join(", ")}, got ${JSON.stringify(value)}`, params: { allowedValues: [...ids] } },
  ]);
}
