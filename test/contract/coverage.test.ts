// The coverage phase's requests, read from the spec: the same every time, every constraint at its
// boundaries and broken once, every parameter covered, each request valid or invalid as it says
// by the client's own validator (generated from the spec). Prism's verdict on the same requests is
// the "against the mocks" test of contract-run.test.ts.
import { describe, expect, it } from "vitest";
import { operationParameters } from "../../generated/spec.js";
import { imageToImageInputSchema } from "../../generated/endpoints.js";
import { validateSubmitImageToImageParameters } from "../../generated/validators.js";
import fc from "fast-check";
import { validBody, type ObjectSchema } from "../../src/cli/contract/cases.js";
import { coverageRequests as coverageOf } from "../../src/cli/contract/coverage.js";
import { contractDocuments } from "../../src/cli/contract/documents.js";
import { imageToImage } from "../../generated/endpoints.js";
import { checkInput } from "../../src/image-to-image.js";

const operations = ["imageToImage", "submitImageToImage", "getQueueStatus", "streamQueueStatus", "getQueueResult", "cancelQueueRequest"] as const;
const schema = imageToImageInputSchema as unknown as ObjectSchema;
const documents = contractDocuments(imageToImage);
const coverageRequests = (operation: string) => coverageOf(documents, operation);
const submit = coverageRequests("submitImageToImage");
const labels = (kind: "positive" | "negative") => submit.filter((request) => request.kind === kind).map((request) => request.label);

describe("webhook URLs the contract run sends", () => {
  it("name a host that never resolves (.invalid): in a --live run fal POSTs each output there", () => {
    const parameters = { properties: Object.fromEntries(operationParameters.submitImageToImage.map((p) => [p.name, p.schema])), onTheWire: true } as ObjectSchema;
    const generated = fc.sample(validBody(parameters), { numRuns: 300, seed: 1 }).map((set) => set.fal_webhook).filter((url) => url !== undefined);
    const covered = submit.map((request) => request.query.fal_webhook).filter((url) => url !== undefined && URL.canParse(url));
    expect(generated.length).toBeGreaterThan(50);
    for (const url of [...generated, ...covered]) expect(new URL(String(url)).hostname).toMatch(/\.invalid$/);
  });
});

describe("the coverage phase", () => {
  it("is deterministic: the same requests on every call", () => {
    for (const operation of operations) expect(coverageRequests(operation)).toEqual(coverageRequests(operation));
  });

  it("sends each numeric bound of the body, a step inside it and a step outside it", () => {
    for (const [field, prop] of Object.entries(schema.properties)) {
      if (prop.minimum !== undefined) {
        expect(labels("positive")).toContain(`${field} at its minimum (${prop.minimum})`);
        expect(labels("negative").some((label) => label.startsWith(`${field} below its minimum`))).toBe(true);
      }
      if (prop.maximum !== undefined) {
        expect(labels("positive")).toContain(`${field} at its maximum (${prop.maximum})`);
        expect(labels("negative").some((label) => label.startsWith(`${field} above its maximum`))).toBe(true);
      }
      for (const value of prop.enum ?? []) expect(labels("positive")).toContain(`${field} enum value ${JSON.stringify(value)}`);
    }
    expect(labels("positive")).toContain("seed null");
    expect(labels("positive")).toContain("num_inference_steps a whole number written with a fraction (10.0)");
    expect(labels("negative")).toContain('image_url off its pattern ("file:///tmp/cat.png")');
    expect(labels("negative")).toContain("prompt missing");
  });

  it("covers every query and header parameter of every operation, valid and broken", () => {
    for (const operation of operations) {
      const requests = coverageRequests(operation);
      for (const parameter of operationParameters[operation].filter((p) => p.in !== "path")) {
        const touches = (request: (typeof requests)[number]) => parameter.name in (parameter.in === "query" ? request.query : request.headers);
        expect(requests.filter((r) => r.kind === "positive").some(touches), `${operation} ${parameter.name}`).toBe(true);
        expect(requests.filter((r) => r.kind === "negative").some(touches), `${operation} ${parameter.name}`).toBe(true);
      }
    }
  });

  it("changes one value at a time: each body the client's validator takes, or refuses naming the one field changed", () => {
    for (const request of submit.filter((r) => Object.keys(r.query).length + Object.keys(r.headers).length === 0)) {
      const issues = checkInput(JSON.parse(request.body!));
      if (request.kind === "positive") expect(issues, request.label).toEqual([]);
      else {
        expect(issues.length, request.label).toBeGreaterThan(0);
        expect(new Set(issues.map((issue) => issue.field)).size, request.label).toBe(1); // a wrong type off an enum is two rules, one field
      }
    }
  });

  it("each submit parameter value is valid or invalid as the request says, by the spec's own parameter rules", () => {
    const typed = (name: string, text: string) => {
      const type = operationParameters.submitImageToImage.find((p) => p.name === name)!.schema.type as string | undefined;
      return type === "integer" || type === "number" ? Number(text) : text;
    };
    for (const request of submit.filter((r) => Object.keys(r.query).length + Object.keys(r.headers).length === 1)) {
      const [name, text] = Object.entries({ ...request.query, ...request.headers })[0]!;
      // The generated validator leaves `format` to the client's code: a URI is checked apart.
      const valid = validateSubmitImageToImageParameters({ [name]: typed(name, text) }) && (name !== "fal_webhook" || URL.canParse(text));
      expect(valid, request.label).toBe(request.kind === "positive");
    }
  });
});
