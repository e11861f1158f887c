/**
 * The one door to the native addon. It is loaded at run time from a computed path under
 * assets/native/<platform>-<arch>/ (Raycast's bundler refuses `.node` imports), and a failure
 * becomes one coded error that lists what to try.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

import { FleetError } from "../core/errors";
import { moduleDir } from "../core/paths";
import { installedComponent } from "../core/runtime/components";
import type { NativeAddon } from "./addonTypes";

const ADDON_FILE = "whisper_fleet.node";

/**
 * The addon interface this code needs (native/addon.cpp kInterfaceVersion): a build from older
 * source would silently ignore what it does not know (2: a chunk's `speed`; 3: `stopAt`).
 */
export const ADDON_INTERFACE = 3;

/** Why a loaded addon cannot serve this code, or undefined when it can. */
export function interfaceMismatch(addon: Pick<NativeAddon, "interfaceVersion">): string | undefined {
  const version = addon.interfaceVersion ?? 1;
  if (version === ADDON_INTERFACE) return undefined;
  return `it speaks addon interface ${version} where this version of Whisper Fleet needs ${ADDON_INTERFACE}: ${version < ADDON_INTERFACE ? "a build from older source" : "a build from newer source"}; rebuild it with \`npm run build:native\``;
}
let cached: NativeAddon | undefined;

/**
 * Where to look, in order: an explicit override, assets/ next to the code that runs (a source
 * build), then the prebuilt engine fetched on first use into the data folder (store builds).
 */
export function addonCandidates(): string[] {
  const files = new Set<string>();
  if (process.env.WHISPER_FLEET_ADDON) files.add(join(dirname(resolve(process.env.WHISPER_FLEET_ADDON)), ADDON_FILE));
  // Raycast sets this to the extension's assets folder; in source and dist builds we walk up.
  if (process.env.WHISPER_FLEET_ASSETS) files.add(builtAddonIn(process.env.WHISPER_FLEET_ASSETS));
  let dir = moduleDir();
  for (let i = 0; i < 5; i++) {
    files.add(builtAddonIn(join(dir, "assets")));
    dir = dirname(dir);
  }
  const downloaded = installedComponent("engine");
  if (downloaded) files.add(join(dirname(downloaded), ADDON_FILE));
  return [...files];
}

/** Where `npm run build:native` puts the addon under an assets folder. */
export function builtAddonIn(assetsDir: string): string {
  return join(assetsDir, "native", `${process.platform}-${process.arch}`, ADDON_FILE);
}

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const candidates = addonCandidates();
  const present = candidates.filter((candidate) => existsSync(candidate));
  if (!present.length) {
    throw new FleetError("ADDON_NOT_FOUND", `The native engine is not built for ${process.platform}-${process.arch}.`, {
      hint:
        "Possible solutions:\n" +
        "  - build it: `npm ci && npm run build:native` (needs CMake and a C++ compiler)\n" +
        "  - use the cloud engine (--engine cloud) with an OpenAI API key\n" +
        `Looked in:\n${candidates.map((c) => `  - ${c}`).join("\n")}`,
    });
  }
  // Every candidate that exists is tried in order, as sharp does: a stale build in assets/ must not
  // hide a good downloaded one, and when all fail each says why.
  // A computed path on purpose: bundlers must not try to inline the binary.
  const requireNative = createRequire(join(moduleDir(), "loader.js"));
  const failures: string[] = [];
  for (const candidate of present) {
    try {
      const addon = requireNative(candidate) as NativeAddon;
      const mismatch = interfaceMismatch(addon);
      if (mismatch) {
        failures.push(`  - ${candidate}: ${mismatch}`);
        continue;
      }
      cached = addon;
      return cached;
    } catch (error) {
      failures.push(`  - ${candidate}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  throw new FleetError(
    "ADDON_LOAD_FAILED",
    `The native engine could not be loaded (${present.length === 1 ? "one build found" : `${present.length} builds found`}):\n${failures.join("\n")}`,
    {
      hint:
        "Possible solutions:\n" +
        "  - rebuild it for this machine: `npm run build:native`\n" +
        "  - check that it was built for this platform and Node-API version (Node >= 22, Node-API 8)\n" +
        "  - use the cloud engine (--engine cloud)",
    },
  );
}

/** Whether a local engine can exist at all here, without throwing. */
export function addonAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}
