#!/usr/bin/env node
// Bundles a TypeScript benchmark with esbuild and runs it (node_modules stay external).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const [entry, ...rest] = process.argv.slice(2);
// Inside the checkout, so the external packages resolve from node_modules.
const out = join(dirname(fileURLToPath(import.meta.url)), "..", "build", "bench", "bench.cjs");
await build({ entryPoints: [entry], outfile: out, bundle: true, platform: "node", target: "node22", format: "cjs", packages: "external", logLevel: "warning", logOverride: { "empty-import-meta": "silent" } });
const r = spawnSync(process.execPath, [out, ...rest], { stdio: "inherit" });
process.exit(r.status ?? 1);
