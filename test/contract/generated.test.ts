// Generated bodies (seeded; FC_SEED=N replays a run) through the client's validator and through
// Prism: the verdicts and the rules named agree. A sample here; the full tier runs 1,000 of each.
import { describe, inject, it } from "vitest";
import { invalidBodiesAgree, seed, submitParametersAgree, validBodiesAgree } from "../support/agreement.js";

const prismUrl = inject("prismUrl");
const prismQueueUrl = inject("prismQueueUrl");

describe(`generated bodies, seed ${seed}`, () => {
  it("100 valid bodies: the client finds nothing wrong and Prism answers 200", () => validBodiesAgree(prismUrl, 100));
  it("100 bodies with one constraint broken: both refuse, naming the same rules", () => invalidBodiesAgree(prismUrl, 100));
  it("50 valid and 50 invalid sets of the submit's headers and query: both sides agree", () => submitParametersAgree(prismQueueUrl, 50));
});
