// The generated run at full size: 1,000 valid and 1,000 invalid bodies (seeded; FC_SEED=N replays
// a run) through the client's validator and a Prism of its own, whose verdicts and named rules
// must agree on every one.
import { afterAll, beforeAll, describe, it } from "vitest";
import { specPath, startPrismMock, type PrismMock } from "../../src/testing/mock.js";
import { invalidBodiesAgree, seed, submitParametersAgree, validBodiesAgree } from "../support/agreement.js";

let prism: PrismMock;
let queuePrism: PrismMock;
beforeAll(async () => {
  [prism, queuePrism] = await Promise.all([startPrismMock(), startPrismMock({ spec: specPath("queue.yaml") })]);
});
afterAll(() => Promise.all([prism.stop(), queuePrism.stop()]));

describe(`generated bodies, seed ${seed}`, () => {
  it("1,000 valid bodies: the client finds nothing wrong and Prism answers 200", () => validBodiesAgree(prism.url, 1_000), 120_000);
  it("1,000 bodies with one constraint broken: both refuse, naming the same rules", () => invalidBodiesAgree(prism.url, 1_000), 120_000);
  it("1,000 valid and 1,000 invalid sets of the submit's headers and query: both sides agree", () => submitParametersAgree(queuePrism.url, 1_000), 120_000);
});
