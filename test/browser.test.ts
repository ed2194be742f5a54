// A key in a browser is readable by every visitor: the client says so, once, without quoting it.
import { afterEach, expect, it, vi } from "vitest";
import { createFluxClient } from "../src/index.js";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

it("warns once when a key is used where window and document exist, and never quotes the key", () => {
  for (const name of ["FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"]) vi.stubEnv(name, undefined);
  const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
  createFluxClient({ credentials: "browser-secret-key" });
  expect(warn).not.toHaveBeenCalled();

  vi.stubGlobal("window", {});
  vi.stubGlobal("document", {});
  createFluxClient({ baseUrl: "https://my-app.example/api/fal" }); // no key: the proxy pattern, no warning
  expect(warn).not.toHaveBeenCalled();
  createFluxClient({ credentials: "browser-secret-key" });
  createFluxClient({ credentials: "browser-secret-key" });
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0]![0])).toMatch(/browser/);
  expect(String(warn.mock.calls[0]![0])).not.toContain("browser-secret-key");
});
