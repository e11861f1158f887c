import { resolve } from "node:path";

import { defineConfig } from "vitest/config";

// Native and end-to-end tests load whisper models and measure concurrency: files run one at a
// time so two suites never fight over the two cores of a CI machine.
export default defineConfig({
  resolve: {
    // Raycast cannot run on Linux: its API is replaced by a recording stand-in in tests.
    alias: { "@raycast/api": resolve(__dirname, "test/support/raycast/api.tsx") },
  },
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    globalSetup: ["test/support/globalSetup.ts"],
    fileParallelism: false,
    pool: "forks",
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ["default"],
  },
});
