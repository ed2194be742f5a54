import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One Prism mock of the spec for the whole run, on a free port, stopped at the end.
    globalSetup: ["test/support/prism-global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 40_000,
  },
});
