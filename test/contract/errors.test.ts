// Every error status the spec declares, answered by Prism, becomes a FluxApiError with its fields.
import { describe, expect, inject, it, vi } from "vitest";
import { imageToImageExamples, imageToImageRun } from "../../generated/endpoints.js";
import { createFluxClient, FluxApiError, type FetchLike } from "../../src/index.js";
import { firstExample, headerExample } from "../support/spec.js";

const prismUrl = inject("prismUrl");
const input = imageToImageExamples["seed-example"];

/** Real fetch to Prism, asking it for a given status with `Prefer: code=N`. */
const preferring =
  (status: number): FetchLike =>
  (url, init) => {
    const headers = new Headers(init?.headers);
    headers.set("Prefer", `code=${status}`);
    return fetch(url, { ...init, headers });
  };

describe("fal's errors, from Prism, as typed errors", () => {
  it("no Authorization gives 401, mapped to FluxApiError with a hint", async () => {
    vi.stubEnv("FAL_KEY", undefined);
    vi.stubEnv("FAL_KEY_ID", undefined);
    vi.stubEnv("FAL_KEY_SECRET", undefined);
    try {
      const client = createFluxClient({ baseUrl: prismUrl });
      const error = await client.imageToImage(input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FluxApiError);
      expect(error).toMatchObject({ status: 401, retryable: false });
      expect((error as Error).message).toContain("set FAL_KEY");
    } finally {
      vi.unstubAllEnvs();
    }
  });

  const statuses = Object.keys(imageToImageRun.retryableByStatus).map(Number);
  it("the spec declares the errors the issue names", () => {
    expect(statuses).toEqual(expect.arrayContaining([401, 422, 429, 500, 502, 503, 504]));
  });

  it.each(statuses)("a declared %i maps to FluxApiError with status, body, type, request id and retryable", async (status) => {
    const client = createFluxClient({ baseUrl: prismUrl, credentials: "contract-test", fetch: preferring(status) });
    const error = (await client.imageToImage(input).catch((e: unknown) => e)) as FluxApiError;
    expect(error).toBeInstanceOf(FluxApiError);
    const body = firstExample(status) as { detail: unknown; error_type?: string };
    expect(error.status).toBe(status);
    expect(error.body).toEqual(body);
    expect(error.requestId).toBe(headerExample(status, "x-fal-request-id"));
    expect(error.errorType).toBe(headerExample(status, "X-Fal-Error-Type") ?? body.error_type);
    const retryHeader = headerExample(status, "X-Fal-Retryable");
    expect(error.retryable).toBe(retryHeader ? retryHeader === "true" : (imageToImageRun.retryableByStatus as Record<number, boolean>)[status]);
    if (Array.isArray(body.detail)) {
      expect(error.details).toEqual(body.detail);
      expect(error.message).toContain(body.detail[0].msg);
    } else {
      expect(error.message).toContain(body.detail);
    }
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: "FluxApiError", status, requestId: error.requestId });
  });
});
