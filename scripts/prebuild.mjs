#!/usr/bin/env node
// Packs the native engine built for this machine into the npm package store builds fetch on first
// use: @whisper-fleet/engine-<platform>-<arch>, holding whisper_fleet.node.
//   npm run prebuild -- --portable   build without host-specific CPU flags first (what ships)
//   npm run prebuild                 pack assets/native/<platform>-<arch> as it is
//   --out DIR                        where the .tgz and pins.json go (default build/prebuild)
// Prints the pin to write into src/core/runtime/pins.ts and writes DIR/pins.json, which
// WHISPER_FLEET_RUNTIME_PINS accepts (the store-build test uses it against a loopback registry).
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const outIndex = argv.indexOf("--out");
const out = resolve(outIndex >= 0 ? argv[outIndex + 1] : join(root, "build", "prebuild"));
const platformArch = `${process.platform}-${process.arch}`;
const addon = join(root, "assets", "native", platformArch, "whisper_fleet.node");

if (argv.includes("--portable")) {
  const r = spawnSync(process.execPath, [join(root, "scripts", "build-native.mjs"), "--portable"], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (!existsSync(addon)) {
  console.error(`No engine at ${addon}: run \`npm run prebuild -- --portable\` (or \`npm run build:native\`) first.`);
  process.exit(1);
}

const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const name = `@whisper-fleet/engine-${platformArch}`;
const stage = join(out, "stage", platformArch);
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
copyFileSync(addon, join(stage, "whisper_fleet.node"));
writeFileSync(
  join(stage, "package.json"),
  `${JSON.stringify(
    {
      name,
      version: manifest.version ?? "0.0.0",
      description: `Whisper Fleet's native transcription engine (whisper.cpp, Node-API 8) for ${platformArch}`,
      license: manifest.license,
      os: [process.platform],
      cpu: [process.arch],
      files: ["whisper_fleet.node"],
    },
    null,
    2,
  )}\n`,
);
writeFileSync(
  join(stage, "README.md"),
  `# ${name}\n\nThe prebuilt native engine of the Whisper Fleet Raycast extension for ${platformArch}, built from its\nsource with \`npm run prebuild -- --portable\`. The extension downloads this tarball on first use and\nchecks it against the sha512 integrity pinned in its source (src/core/runtime/pins.ts).\n`,
);
mkdirSync(out, { recursive: true });
const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", out], { cwd: stage, encoding: "utf8" }))[0];
const tarball = join(out, packed.filename);
const pin = {
  package: name,
  version: packed.version,
  integrity: packed.integrity,
  main: "whisper_fleet.node",
  megabytes: Math.max(1, Math.round(statSync(tarball).size / 1e6)),
};
writeFileSync(join(out, "pins.json"), `${JSON.stringify({ engine: { [platformArch]: pin } }, null, 2)}\n`);
console.log(`Packed ${tarball}`);
console.log(`Pin for src/core/runtime/pins.ts (engine):\n  "${platformArch}": ${JSON.stringify(pin)},`);
