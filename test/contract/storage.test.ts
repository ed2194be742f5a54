// openapi/storage.yaml against a Prism mock of itself: the upload's initiate call as fal-js makes it
// (libs/client/src/storage.ts) is taken and answered with an UploadTarget; each single breaking of
// its body or query is refused, and the client's generated validator agrees with Prism on each.
import { describe, expect, inject, it } from "vitest";
import { operationResponses, storageUpload } from "../../generated/spec.js";
import { validateUploadInitiation, validateUploadTarget } from "../../generated/validators.js";
import { contractDocuments, runContract } from "../../src/cli/contract/run.js";
import { imageToImage } from "../../generated/endpoints.js";
import { startContractServer } from "../support/contract-server.js";
import { startLocalServer, type LocalServer } from "../support/local-server.js";

const prismStorageUrl = inject("prismStorageUrl");

/** The initiate call with fal-js's query and the key, either of which a test may change. */
async function initiate(body: unknown, { query = `storage_type=${storageUpload.storageType}`, key = true } = {}) {
  const response = await fetch(`${prismStorageUrl}${storageUpload.initiatePath}?${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(key ? { Authorization: "Key contract-test" } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe("fal storage's initiate call (openapi/storage.yaml)", () => {
  it("is a storage operation at the path the generated constant names, on fal's REST host", () => {
    expect(operationResponses.initiateUpload).toMatchObject({ document: "storage", method: "POST", path: storageUpload.initiatePath, secured: true });
  });

  it("fal-js's call is taken and answered with an UploadTarget: the URL to PUT to and the file's URL", async () => {
    const { status, body } = await initiate({ content_type: "image/jpeg", file_name: "cat.jpg" });
    expect(status).toBe(200);
    expect(validateUploadTarget(body), JSON.stringify(validateUploadTarget.errors)).toBe(true);
  });

  it.each([
    ["a file with no type (fal-js then sends application/octet-stream; null is allowed too)", { content_type: null, file_name: "1733212800000.bin" }],
    ["a name with spaces", { content_type: "image/png", file_name: "my cat.png" }],
  ])("takes %s", async (_, body) => {
    expect(validateUploadInitiation(body)).toBe(true);
    expect((await initiate(body)).status).toBe(200);
  });

  it.each([
    ["no file_name", { content_type: "image/jpeg" }],
    ["a blank file_name", { content_type: "image/jpeg", file_name: "  " }],
    ["a content_type that is a number", { content_type: 7, file_name: "cat.jpg" }],
    ["a property fal-js does not send", { content_type: "image/jpeg", file_name: "cat.jpg", size: 1 }],
  ])("refuses %s, as the client's validator does", async (_, body) => {
    expect(validateUploadInitiation(body)).toBe(false);
    expect((await initiate(body)).status).toBe(422);
  });

  it("refuses another storage_type and none, and a call with no key", async () => {
    const photo = { content_type: "image/jpeg", file_name: "cat.jpg" };
    expect((await initiate(photo, { query: "storage_type=fal-cdn" })).status).toBe(422);
    expect((await initiate(photo, { query: "" })).status).toBe(422);
    expect((await initiate(photo, { key: false })).status).toBe(401);
  });
});

describe("flux-i2i contract covers the initiate call", () => {
  /** A storage server that answers as the spec says, or (`acceptsBlankNames`) takes a blank file_name. */
  async function storageServer(acceptsBlankNames: boolean) {
    return startLocalServer((req, res, text) => {
      const url = new URL(req.url!, "http://127.0.0.1");
      const json = (status: number, body: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
      if (url.pathname !== storageUpload.initiatePath) return json(404, { detail: "Not found" });
      if (req.method !== "POST") return json(405, { detail: "Method not allowed" });
      if (!req.headers.authorization) return json(401, { detail: "No user found for Key ID and Secret" });
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const blankName = (body as { file_name?: unknown })?.file_name !== undefined && String((body as { file_name: unknown }).file_name).trim() === "";
      const lifecycle = req.headers["x-fal-object-lifecycle"];
      const headerValid = lifecycle === undefined || /^\{.*\}$/.test(String(lifecycle));
      const bodyValid = validateUploadInitiation(body) || (acceptsBlankNames && blankName && typeof (body as { file_name: unknown }).file_name === "string");
      const valid = url.searchParams.get("storage_type") === storageUpload.storageType && headerValid && bodyValid;
      if (!valid) return json(422, { detail: [{ loc: ["body"], msg: "invalid", type: "value_error" }] });
      return json(200, { upload_url: `http://127.0.0.1/put/1`, file_url: "https://v3b.fal.media/files/b/1.jpg" });
    });
  }

  it("a storage server that follows the spec passes; one that takes a blank file_name fails negative_data_rejection, at --examples 1", async () => {
    const [honest, buggy, rest] = await Promise.all([storageServer(false), storageServer(true), startContractServer()]);
    try {
      const run = (storage: LocalServer) => runContract({ documents: contractDocuments(imageToImage), key: "contract-test", examples: 1, seed: 1, syncUrl: rest.syncUrl, queueUrl: rest.queueUrl, storageUrl: storage.url });
      const failed = (report: Awaited<ReturnType<typeof run>>) =>
        Object.entries(report.results.initiateUpload ?? {}).filter(([, tally]) => tally?.failed).map(([check]) => check);
      const passed = await run(honest);
      expect(failed(passed)).toEqual([]);
      expect(passed.coverage.initiateUpload).toBeGreaterThan(5);
      expect(failed(await run(buggy))).toEqual(["negative_data_rejection"]);
    } finally {
      await Promise.all([honest.close(), buggy.close(), rest.close()]);
    }
  });
});
