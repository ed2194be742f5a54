// The generated run at full size: 1,000 valid and 1,000 invalid bodies (seeded; FC_SEED=N replays
// a run) through the client's validator and a Prism of its own, whose verdicts and named rules
// must agree on every one.
import { afterAll, beforeAll, describe, it } from "vitest";
import { startPrismMock, type PrismMock } from "../../src/mock.js";
import { invalidBodiesAgree, seed, validBodiesAgree } from "../support/agreement.js";

let prism: PrismMock;
beforeAll(async () => {
  prism = await startPrismMock();
});
afterAll(() => prism.stop());

describe(`generated bodies, seed ${seed}`, () => {
  it("1,000 valid bodies: the client finds nothing wrong and Prism answers 200", () => validBodiesAgree(prism.url, 1_000), 120_000);
  it("1,000 bodies with one constraint broken: both refuse, naming the same rules", () => invalidBodiesAgree(prism.url, 1_000), 120_000);
});
