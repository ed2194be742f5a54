// Which transport failures prove that a request never left: the only ones a billed submit is re-sent after.
import { describe, expect, it } from "vitest";
import { imageToImageExamples } from "../generated/endpoints.js";
import { neverSent } from "../src/core/errors-from-answers.js";
import { createFluxClient, FluxNetworkError, FluxSubmitUncertainError } from "../src/index.js";

const fetchFailure = (cause: unknown) => Object.assign(new TypeError("fetch failed"), { cause });

describe("neverSent", () => {
  it("a refused connection or a name that did not resolve: nothing was sent", () => {
    expect(neverSent(fetchFailure({ code: "ECONNREFUSED" }))).toBe(true);
    expect(neverSent(fetchFailure({ code: "ENOTFOUND" }))).toBe(true);
    expect(neverSent(fetchFailure({ code: "EAI_AGAIN" }))).toBe(true);
    // fetch's own refusal of a port the Fetch standard blocks: no socket was opened
    expect(neverSent(fetchFailure(new Error("bad port")))).toBe(true);
    // localhost tried over IPv6 and IPv4, both refused
    expect(neverSent(fetchFailure(Object.assign(new AggregateError([{ code: "ECONNREFUSED" }, { code: "ECONNREFUSED" }]), { code: "ECONNREFUSED" })))).toBe(true);
  });

  it("anything else may have reached the server", () => {
    expect(neverSent(fetchFailure({ code: "UND_ERR_SOCKET" }))).toBe(false);
    expect(neverSent(fetchFailure({ code: "ECONNRESET" }))).toBe(false);
    expect(neverSent(fetchFailure(new AggregateError([{ code: "ECONNREFUSED" }, { code: "ETIMEDOUT" }])))).toBe(false);
    expect(neverSent(new DOMException("The operation was aborted due to timeout", "TimeoutError"))).toBe(false);
    expect(neverSent(fetchFailure(undefined))).toBe(false);
  });
});

describe("a submit to a port fetch refuses to use", () => {
  it("is a plain network error saying nothing was sent, not an uncertain submit that may be billed", async () => {
    const client = createFluxClient({ credentials: "k", queueUrl: "http://127.0.0.1:9", retry: false });
    const error = await client.queue.submit(imageToImageExamples.minimal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FluxNetworkError);
    expect(error).not.toBeInstanceOf(FluxSubmitUncertainError);
    expect((error as Error).message).toBe("no answer from http://127.0.0.1:9: fetch refuses to connect to port 9 (a port the Fetch standard blocks); nothing was sent");
  });
});
