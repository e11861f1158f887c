const { defineConfig } = require("eslint/config");
const raycastConfig = require("@raycast/eslint-config");

module.exports = defineConfig([
  ...raycastConfig,
  { ignores: ["dist/**", "build/**", "assets/**", "node_modules/**", ".models/**", ".cache/**", "raycast-env.d.ts"] },
]);
