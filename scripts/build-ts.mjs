#!/usr/bin/env node
// Bundles the command-line front end (dist/cli.js) and the Raycast engine host
// (assets/engine-host/engine-host.js)
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
// The engine host ships inside the extension's assets (Raycast copies assets/ as is), bundled
// whole so it needs no node_modules at run time.
await build({ ...common, external: [], sourcemap: false, entryPoints: { "engine-host": "src/host/engineHost.ts" }, outdir: "assets/engine-host" });
console.log("Built dist/cli.js and assets/engine-host/engine-host.js");
