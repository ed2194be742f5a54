// Which transport failures prove that a request never left: the only ones a billed submit is re-sent after.
import { describe, expect, it } from "vitest";
import { neverSent } from "../src/failures.js";

const fetchFailure = (cause: unknown) => Object.assign(new TypeError("fetch failed"), { cause });

describe("neverSent", () => {
  it("a refused connection or a name that did not resolve: nothing was sent", () => {
    expect(neverSent(fetchFailure({ code: "ECONNREFUSED" }))).toBe(true);
    expect(neverSent(fetchFailure({ code: "ENOTFOUND" }))).toBe(true);
    expect(neverSent(fetchFailure({ code: "EAI_AGAIN" }))).toBe(true);
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
