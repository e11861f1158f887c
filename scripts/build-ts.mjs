#!/usr/bin/env node
// Bundles the command-line front end (dist/cli.js) and the engine host (dist/engine-host.js, for
// tests and `npm run dev`; Raycast's own build emits the same entry as a command) with esbuild. The native addon is not bundled: it is loaded at run time from assets/native/.
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
// Bundled whole, as `ray build` bundles it, so it needs no node_modules at run time.
await build({ ...common, external: ["@raycast/api"], sourcemap: false, entryPoints: { "engine-host": "src/engine-host.ts" }, outdir: "dist" });
console.log("Built dist/cli.js and dist/engine-host.js");
