/**
 * The one door to the addon: every candidate that exists is tried in order, so a broken or stale
 * file earlier in the list (an override, an old build) does not hide a good one behind it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { ADDON_INTERFACE, addonCandidates, interfaceMismatch, loadAddon } from "../../src/bindings/loadAddon";

describe("addon loader", () => {
  afterEach(() => {
    delete process.env.WHISPER_FLEET_ADDON;
  });

  it("skips a candidate that fails to load and takes the next good one", () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-loader-"));
    mkdirSync(dir, { recursive: true });
    const broken = join(dir, "whisper_fleet.node");
    writeFileSync(broken, "not a shared library");
    process.env.WHISPER_FLEET_ADDON = broken;
    expect(addonCandidates()[0]).toBe(broken);
    const addon = loadAddon();
    expect(addon.napiVersion).toBeGreaterThanOrEqual(8);
    expect(typeof addon.WhisperModel).toBe("function");
  });

  it("takes only a build that speaks this code's addon interface", () => {
    expect(loadAddon().interfaceVersion).toBe(ADDON_INTERFACE);
    expect(interfaceMismatch(loadAddon())).toBeUndefined();
    // A build from before the interface was versioned would ignore a chunk's `speed`; one from
    // before 3 has no `stopAt`.
    expect(interfaceMismatch({})).toMatch(
      /interface 1 where this version of Whisper Fleet needs 3: a build from older source; rebuild it with `npm run build:native`/,
    );
    expect(interfaceMismatch({ interfaceVersion: 2 })).toMatch(/interface 2 where this version of Whisper Fleet needs 3: a build from older source/);
    expect(interfaceMismatch({ interfaceVersion: ADDON_INTERFACE + 1 })).toMatch(/a build from newer source/);
  });
});
