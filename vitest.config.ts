import { resolve } from "node:path";

import { defineConfig } from "vitest/config";

// Two projects, as node-llama-cpp splits its tests: `unit` needs no fixtures, no addon and no
// ../shared (npm run test:unit, seconds); `model` loads whisper models, ffmpeg and servers and
// measures concurrency, so its files run one at a time and never fight over a CI machine's 2 cores.
export default defineConfig({
  resolve: {
    // Raycast cannot run on Linux: its API is replaced by a recording stand-in in tests.
    alias: { "@raycast/api": resolve(__dirname, "test/support/raycast/api.tsx") },
  },
  test: {
    reporters: ["default"],
    // @raycast/utils imports @raycast/api: processed by Vite so the alias above reaches it too.
    server: { deps: { inline: ["@raycast/utils"] } },
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/unit/**/*.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "model",
          include: ["test/native/**/*.test.ts", "test/e2e/**/*.test.ts", "test/raycast/**/*.test.tsx"],
          globalSetup: ["test/support/globalSetup.ts"],
          fileParallelism: false,
          pool: "forks",
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
