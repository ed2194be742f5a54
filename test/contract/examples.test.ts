// The spec's request examples, sent by the client to Prism: a 200 whose body passes the response validator.
import { describe, expect, expectTypeOf, inject, it } from "vitest";
import { imageToImageExamples } from "../../generated/endpoints.js";
import { createFluxClient, type ImageToImageOutput } from "../../src/index.js";
import { checkOutput } from "../../src/image-to-image.js";
import { firstExample, headerExample } from "../support/spec.js";

const prismUrl = inject("prismUrl");

describe("the spec's request examples against Prism", () => {
  const client = createFluxClient({ baseUrl: prismUrl, credentials: "contract-test" });

  it("the endpoint document's own example gets a 200 that passes the response validator", async () => {
    const output = await client.imageToImage(imageToImageExamples["seed-example"]);
    expectTypeOf(output).toEqualTypeOf<ImageToImageOutput>();
    expect(checkOutput(output)).toEqual([]);
    expect(output).toEqual(firstExample(200));
    expect(output.images[0]!.url).toMatch(/^https:\/\//);
  });

  it.each(Object.entries(imageToImageExamples))("example %s is accepted", async (_, example) => {
    const { data, error, response } = await client.raw.POST("/fal-ai/flux-1/dev/image-to-image", { body: example });
    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-fal-request-id")).toBe(headerExample(200, "x-fal-request-id"));
    expect(checkOutput(data)).toEqual([]);
  });

  it("the sync_mode response example (a data-URI image) passes the response validator", async () => {
    const response = await fetch(`${prismUrl}/fal-ai/flux-1/dev/image-to-image`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Key x", Prefer: "example=sync-mode" },
      body: JSON.stringify(imageToImageExamples["inline-png"]),
    });
    const body = (await response.json()) as ImageToImageOutput;
    expect(response.status).toBe(200);
    expect(checkOutput(body)).toEqual([]);
    expect(body.images[0]!.url).toMatch(/^data:image\/png;base64,/);
  });

  it("fal's platform headers as the client sends them pass Prism's check of the sync document", async () => {
    const options = { startTimeoutSeconds: 30, runnerHint: "session-42", mediaExpirationSeconds: 3600, storePayloads: false };
    await expect(client.imageToImage(imageToImageExamples.minimal, options)).resolves.toEqual(firstExample(200));
    const tooShort = await fetch(`${prismUrl}/fal-ai/flux-1/dev/image-to-image`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Key x", "X-Fal-Request-Timeout": "0.1" },
      body: JSON.stringify(imageToImageExamples.minimal),
    });
    await tooShort.arrayBuffer();
    expect([tooShort.status, JSON.parse(tooShort.headers.get("sl-violations")!)[0].code]).toEqual([422, "exclusiveMinimum"]);
    await expect(client.imageToImage(imageToImageExamples.minimal, { startTimeoutSeconds: 0.1 })).rejects.toMatchObject({
      issues: [{ field: "startTimeoutSeconds", rule: "exclusiveMinimum" }],
    });
  });

  it("Bearer credentials are accepted by the mock's security scheme too", async () => {
    const bearer = createFluxClient({ baseUrl: prismUrl, credentials: "contract-test", authScheme: "Bearer" });
    await expect(bearer.imageToImage(imageToImageExamples.minimal)).resolves.toEqual(firstExample(200));
  });
});
