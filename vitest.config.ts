import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { queueLog, storageLog } from "./test/browser/global-setup.js";

// Two tiers, chosen by where a file lives (README, "Tests"):
// - fast: everything under test/ but test/full/. No test starts a process of its own or waits long;
//   they share two Prism mocks started once (globalSetup). `npm test`.
// - full: test/full/, whose tests start processes (the built command, the linter, the generator,
//   npm start) or kill them. `npm run test:full` runs it after the fast tier; CI runs both. Its
//   breaking-change gate file (a whole `npm test` in a clone) is the `gate` project, run alone last.
export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 40_000,
    // Most tests wait on sockets, timers and child processes rather than the CPU: on the project's
    // 2-core machine two files at a time finish sooner than vitest's default of cores - 1 = 1.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "fast",
          include: ["test/**/*.test.ts"],
          exclude: ["test/full/**", "test/browser/**"],
          // One Prism mock per document for the whole run, on free ports, stopped at the end.
          globalSetup: ["test/support/prism-global-setup.ts"],
          // Files share a worker's module cache instead of each loading src/, vitest and the spec
          // afresh: the fast tier's vitest stage took 7 s instead of 11 s (scripts/test.mjs). Safe
          // because no test leaves state behind: environment and globals are stubbed with vi.stub*
          // and restored after each test, and every client, server and fake is made per test.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: "full",
          include: ["test/full/**/*.test.ts"],
          exclude: ["test/full/breaking-gate.test.ts"],
        },
      },
      {
        // The breaking-change gate proved in a fresh clone: it runs the whole of `npm test` there,
        // so it runs alone, after the full tier, as CI runs `npm test`, not beside other files
        // that share its two cores.
        extends: true,
        test: {
          name: "gate",
          include: ["test/full/breaking-gate.test.ts"],
        },
      },
      {
        // The browser tier: Debian's Chromium driven by playwright (no browser download); run with
        // the full tier. The page reaches local stand-ins for fal through flux-i2i/proxy, started
        // in Node by the global setup.
        extends: true,
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          globalSetup: ["test/browser/global-setup.ts"],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
                args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
              },
            }),
            instances: [{ browser: "chromium" }],
            commands: { queueLog: () => queueLog(), storageLog: () => storageLog() },
          },
        },
      },
    ],
  },
});
