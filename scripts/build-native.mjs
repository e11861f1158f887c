#!/usr/bin/env node
// Builds the native addon with cmake-js and places it where the extension loads it at run time:
// assets/native/<platform>-<arch>/whisper_fleet.node
//   --portable  no host-specific CPU flags (for binaries shipped to other machines)
//   --cuda      opt in to the CUDA backend (needs the CUDA toolkit)
//   --debug     debug build
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const cmakeJs = join(root, "node_modules", "cmake-js", "bin", "cmake-js");
if (!existsSync(cmakeJs)) {
  console.error("cmake-js is missing: run `npm ci` first.");
  process.exit(1);
}
const cmakeArgs = ["compile", "--parallel", String(availableParallelism()), "--out", join(root, "build")];
if (args.has("--debug")) cmakeArgs.push("--debug");
cmakeArgs.push(`--CDWHISPER_FLEET_PORTABLE=${args.has("--portable") ? "ON" : "OFF"}`);
cmakeArgs.push(`--CDWHISPER_FLEET_CUDA=${args.has("--cuda") ? "ON" : "OFF"}`);

const started = Date.now();
const result = spawnSync(process.execPath, [cmakeJs, ...cmakeArgs], { cwd: root, stdio: "inherit" });
if (result.status !== 0) {
  console.error(
    "\nNative build failed. Possible solutions:\n" +
      "  - install CMake >= 3.18 and a C++17 compiler (macOS: `xcode-select --install` and `brew install cmake`)\n" +
      "  - run `npm ci` so node_modules/nodejs-whisper (the pinned whisper.cpp source) is present",
  );
  process.exit(result.status ?? 1);
}
const built = join(root, "build", args.has("--debug") ? "Debug" : "Release", "whisper_fleet.node");
const target = join(root, "assets", "native", `${process.platform}-${process.arch}`, "whisper_fleet.node");
mkdirSync(dirname(target), { recursive: true });
copyFileSync(built, target);
console.log(`Built ${target} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
