/**
 * Runtime components fetched on first use (core/runtime): the real @ffmpeg-installer tarball
 * pinned in pins.ts and the engine package `npm run prebuild` packs, served by a loopback registry
 * at npm's own tarball URLs, with a cut connection, a corrupted body, a wrong pin and a missing
 * package. Whatever fails, nothing half-installed is ever used.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { NativeAddon } from "../../src/bindings/addonTypes";
import { FleetError } from "../../src/core/errors";
import { ensureComponent, installedComponent, tarballUrl } from "../../src/core/runtime/components";
import { PINS, type Pins } from "../../src/core/runtime/pins";
import { startComponentRegistry, type LoopbackRegistry } from "../support/registry";

const work = mkdtempSync(join(tmpdir(), "wf-runtime-"));
const linuxFfmpeg = PINS.ffmpeg["linux-x64"]!;
let registry: LoopbackRegistry;
let pins: Pins;

const linuxX64 = process.platform === "linux" && process.arch === "x64";

beforeAll(async () => {
  if (!linuxX64) return; // the engine package packed here is for this platform; the pins name linux-x64
  ({ registry, pins } = await startComponentRegistry(work));
}, 120_000);
afterAll(() => registry?.stop());

const fresh = () => mkdtempSync(join(work, "support-"));
const options = (dir: string, extra: Partial<Parameters<typeof ensureComponent>[1]> = {}) => ({
  dir,
  registry: registry.url,
  pins,
  platformArch: "linux-x64",
  ...extra,
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (error) {
    expect(error).toBeInstanceOf(FleetError);
    return (error as FleetError).code;
  }
}

describe.skipIf(!linuxX64)("runtime components from a loopback registry", () => {
  it("installs ffmpeg from its pinned tarball, verified, and it runs; a second call downloads nothing", async () => {
    const dir = fresh();
    expect(installedComponent("ffmpeg", options(dir))).toBeUndefined();
    let progressed = 0;
    const path = await ensureComponent("ffmpeg", options(dir, { onProgress: (b) => (progressed = b) }));
    expect(progressed).toBeGreaterThan(1_000_000);
    expect(execFileSync(path, ["-version"], { encoding: "utf8" })).toMatch(/^ffmpeg version/);
    expect(installedComponent("ffmpeg", options(dir))).toBe(path);
    const before = registry.requests.length;
    expect(await ensureComponent("ffmpeg", options(dir))).toBe(path);
    expect(registry.requests.length).toBe(before);
    expect(registry.requests.at(-1)).toBe(new URL(tarballUrl(linuxFfmpeg, registry.url)).pathname);
    // Nothing left over from the install.
    expect(readdirSync(join(dir, ".downloads"))).toEqual([]);
  });

  it("installs the engine package that `npm run prebuild` packs, and Node can load it", async () => {
    const dir = fresh();
    const path = await ensureComponent("engine", options(dir));
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    expect(addon.napiVersion).toBeGreaterThanOrEqual(8);
    expect(typeof addon.WhisperModel).toBe("function");
  });

  it("a connection cut halfway installs nothing; the next try resumes the partial download and succeeds", async () => {
    const dir = fresh();
    registry.faults.push("cut");
    expect(await codeOf(ensureComponent("ffmpeg", options(dir)))).toBe("DOWNLOAD_FAILED");
    expect(installedComponent("ffmpeg", options(dir))).toBeUndefined();
    expect(existsSync(join(dir, "ffmpeg"))).toBe(false);
    const path = await ensureComponent("ffmpeg", options(dir));
    expect(registry.requests.at(-1)).toMatch(/ bytes=\d+-$/); // resumed with a Range request
    expect(execFileSync(path, ["-version"], { encoding: "utf8" })).toMatch(/^ffmpeg version/);
  });

  it("a corrupted tarball or a wrong pin is a checksum error, and nothing is installed", async () => {
    const dir = fresh();
    registry.faults.push("corrupt");
    expect(await codeOf(ensureComponent("ffmpeg", options(dir)))).toBe("CHECKSUM_MISMATCH");
    expect(installedComponent("ffmpeg", options(dir))).toBeUndefined();
    const wrong: Pins = { ...pins, ffmpeg: { "linux-x64": { ...linuxFfmpeg, integrity: pins.engine["linux-x64"]!.integrity } } };
    expect(await codeOf(ensureComponent("ffmpeg", options(dir, { pins: wrong })))).toBe("CHECKSUM_MISMATCH");
    expect(existsSync(join(dir, "ffmpeg"))).toBe(false);
    expect(readdirSync(join(dir, ".downloads"))).toEqual([]);
  });

  it("a package missing from the registry and a platform with no published engine are coded errors", async () => {
    registry.faults.push("missing");
    expect(await codeOf(ensureComponent("ffmpeg", options(fresh())))).toBe("DOWNLOAD_FAILED");
    expect(await codeOf(ensureComponent("engine", options(fresh(), { platformArch: "darwin-arm64" })))).toBe("COMPONENT_UNAVAILABLE");
  });
});
