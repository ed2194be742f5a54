// Seeds above 2^53 (fal's are 64-bit) come back exactly and go out exactly, on the sync call too.
import { describe, expect, expectTypeOf, it } from "vitest";
import { createFluxClient, type ImageToImageOutput, type Seed } from "../src/index.js";
import { duplicateKey } from "../src/core/json-text.js";
import { exactSeed, stringifyExact, withExactSeed } from "../src/core/seed.js";
import { startLocalServer } from "./support/local-server.js";

const big = 15860307465884635512n;

describe("exactSeed", () => {
  it("gives the digits of the text when JSON.parse rounded them", () => {
    const text = `{"images":[],"seed":${big},"prompt":"p"}`;
    expect(BigInt(JSON.parse(text).seed)).not.toBe(big); // JSON.parse gives 15860307465884635136
    expect(exactSeed(text, JSON.parse(text).seed)).toBe(big);
  });

  it("keeps a seed that a number holds exactly as a number", () => {
    expect(exactSeed('{"seed":42}', 42)).toBe(42);
    expect(exactSeed(`{"seed":${2 ** 53 - 1}}`, 2 ** 53 - 1)).toBe(2 ** 53 - 1);
  });

  it("is not fooled by a seed inside a string, or another big number", () => {
    const text = `{"prompt":"{\\"seed\\": 15860307465884635513}","timings":{"x":1.5},"seed" : ${big} }`;
    expect(exactSeed(text, JSON.parse(text).seed)).toBe(big);
  });

  it("takes the top-level seed, not an image's own seed written before it", () => {
    const other = 15860307465884635000n; // JSON.parse reads both as the same number
    const text = `{"images":[{"url":"https://x/a.jpeg","seed":${other}}],"seed":${big}}`;
    expect(JSON.parse(text).seed).toBe(JSON.parse(text).images[0].seed);
    expect(exactSeed(text, JSON.parse(text).seed)).toBe(big);
  });

  it("takes the last of a repeated seed, as JSON.parse does, and a key spelled with escapes", () => {
    const first = 15860307465884635000n;
    const text = `{"seed":${first},"prompt":"p","seed":${big}}`;
    expect(exactSeed(text, JSON.parse(text).seed)).toBe(big);
    const escaped = `{"s\u0065ed":${big}}`;
    expect(exactSeed(escaped, JSON.parse(escaped).seed)).toBe(big);
  });

  it("reads a seed at a path: a webhook's payload.seed, not a seed of the envelope", () => {
    const text = `{"seed":1,"payload":{"images":[],"seed":${big}}}`;
    const body = JSON.parse(text) as { payload: { seed: unknown } };
    withExactSeed(body.payload, text, ["payload"]);
    expect(body.payload.seed).toBe(big);
  });

  it("withExactSeed leaves a body without a numeric seed as it is", () => {
    for (const body of [{}, { seed: "12" }, null, []]) {
      const before = structuredClone(body);
      withExactSeed(body, "{}");
      expect(body).toEqual(before);
    }
  });

  it("2^64 - 1, the largest 64-bit seed, survives", () => {
    const max = 2n ** 64n - 1n;
    const text = `{"seed":${max}}`;
    expect(exactSeed(text, JSON.parse(text).seed)).toBe(max);
  });
});

describe("duplicateKey", () => {
  it("names the first key an object gives twice, at any depth; keys of different objects, or in strings, are not repeats", () => {
    expect(duplicateKey(`{"seed":1,"prompt":"p","seed":2}`)).toBe("seed");
    expect(duplicateKey(`{"a":{"b":1,"b":2}}`)).toBe("a.b");
    expect(duplicateKey(`{"list":[{"x":1},{"x":2}],"prompt":"\\"seed\\":1,\\"seed\\":2"}`)).toBeUndefined();
    expect(duplicateKey(`{"seed":1,"s\u0065ed":2}`)).toBe("seed");
  });
});

describe("stringifyExact", () => {
  it("writes a bigint with every digit, and everything else as JSON.stringify does", () => {
    const body = { prompt: 'say "seed": 1', seed: big, num_images: 2, skip: undefined, nested: [{ seed: -big }] };
    expect(stringifyExact(body)).toBe(`{"prompt":"say \\"seed\\": 1","seed":${big},"num_images":2,"nested":[{"seed":-${big}}]}`);
    expect(stringifyExact({ seed: 7, prompt: "p" })).toBe(JSON.stringify({ seed: 7, prompt: "p" }));
    expect(stringifyExact({ seed: big }, 2)).toBe(`{\n  "seed": ${big}\n}`);
  });

  it("a cycle throws as JSON.stringify does, with or without a bigint in the value", () => {
    const plain: Record<string, unknown> = { prompt: "p" };
    plain.self = plain;
    expect(() => stringifyExact(plain)).toThrow(/circular/);
    expect(() => stringifyExact({ seed: big, plain })).toThrow(/circular/);
  });

  it("round-trips through exactSeed", () => {
    const text = stringifyExact({ images: [], seed: big });
    expect(exactSeed(text, JSON.parse(text).seed)).toBe(big);
  });
});

describe("the sync call", () => {
  it("returns fal's seed exactly and sends a bigint seed back exactly", async () => {
    const server = await startLocalServer((_req, res, body) => {
      const seed = /"seed":(\d+)/.exec(body)?.[1] ?? "0";
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(`{"images":[{"url":"https://v3.fal.media/files/x.jpeg"}],"timings":{},"seed":${seed},"has_nsfw_concepts":[false],"prompt":"p"}`);
    });
    const client = createFluxClient({ credentials: "k", baseUrl: server.url });
    const output = await client.imageToImage({ image_url: "https://x.test/a.png", prompt: "p", seed: big });
    await server.close();
    expect(server.requests[0]!.body).toContain(`"seed":${big}`);
    expect(output.seed).toBe(big);
    expectTypeOf(output.seed).toEqualTypeOf<Seed>();
    expectTypeOf<ImageToImageOutput["seed"]>().toEqualTypeOf<number | bigint>();
  });

  it("a bigint seed is validated like a number: a wrong type is still refused before sending", async () => {
    const client = createFluxClient({ credentials: "k", fetch: () => Promise.reject(new Error("must not be called")) });
    await expect(
      client.imageToImage({ image_url: "https://x.test/a.png", prompt: "p", seed: "12" as unknown as bigint }),
    ).rejects.toMatchObject({ name: "FluxValidationError", issues: [expect.objectContaining({ field: "seed", rule: "type" })] });
  });
});
