#!/usr/bin/env node
// Builds whisper.cpp's own whisper-cli and whisper-server from the same pinned source as the addon,
// into build/whisper-tools/bin. The cloud-engine tests run whisper-server as a local
// OpenAI-compatible endpoint; the benchmark compares against whisper-cli.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "node_modules", "nodejs-whisper", "cpp", "whisper.cpp");
const out = join(root, "build", "whisper-tools");
export const toolPath = (name) => join(out, "bin", name);

function run(args) {
  const r = spawnSync("cmake", args, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(join(source, "CMakeLists.txt"))) {
  console.error("whisper.cpp source missing: run `npm ci` first.");
  process.exit(1);
}
if (!existsSync(toolPath("whisper-server")) || !existsSync(toolPath("whisper-cli")) || process.argv.includes("--force")) {
  run([
    "-S",
    source,
    "-B",
    out,
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DWHISPER_BUILD_TESTS=OFF",
    "-DWHISPER_BUILD_EXAMPLES=ON",
    "-DWHISPER_BUILD_SERVER=ON",
    "-DWHISPER_SDL2=OFF",
    "-DWHISPER_CURL=OFF",
  ]);
  run(["--build", out, "--config", "Release", "--parallel", String(availableParallelism()), "--target", "whisper-cli", "whisper-server"]);
}
console.log(`whisper-cli and whisper-server in ${join(out, "bin")}`);
