#!/usr/bin/env node
// Bundles the command-line front end (dist/cli.js) and the Raycast engine host (dist/engine-host.js)
// with esbuild. The native addon is not bundled: it is loaded at run time from assets/native/.
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  sourcemap: true,
  logLevel: "warning",
  logOverride: { "empty-import-meta": "silent" },
  // Resolved at run time from node_modules: ffmpeg's binary path and optional platform probes.
  external: ["@ffmpeg-installer/*", "systeminformation"],
};

await build({ ...common, entryPoints: { cli: "src/cli/run.ts" }, outdir: "dist" });
await build({ ...common, entryPoints: { "engine-host": "src/host/engineHost.ts" }, outdir: "dist" }).catch((error) => {
  if (!String(error).includes("engineHost")) throw error;
});
console.log("Built dist/cli.js");
