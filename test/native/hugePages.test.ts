/**
 * The model's weights and each state's compute buffers go on transparent huge pages where Linux
 * offers them (native/HugePages.h): asked before whisper.cpp first writes them, so the kernel backs
 * them with 2 MiB pages. Read back from the process's own smaps, the kernel's word for it.
 */
import { existsSync, readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { loadAddon } from "../../src/bindings/loadAddon";
import { jfkWav, model } from "../support/paths";
import { rawPcmFile } from "../support/audio";

const MiB = 2 ** 20;
const thpFile = "/sys/kernel/mm/transparent_hugepage/enabled";
/** The kernel's THP mode ("always", "madvise" or "never"), or undefined off Linux. */
const thp = existsSync(thpFile) ? /\[(\w+)\]/.exec(readFileSync(thpFile, "utf8"))?.[1] : undefined;
const hugeBytes = () => Number(/AnonHugePages:\s+(\d+) kB/.exec(readFileSync("/proc/self/smaps_rollup", "utf8"))?.[1] ?? 0) * 1024;

describe.skipIf(thp === undefined || thp === "never")(`huge pages (THP: ${thp})`, () => {
  it("puts the weights on huge pages, and a state's compute buffers once they are used", async () => {
    const addon = loadAddon();
    const before = hugeBytes();
    const m = new addon.WhisperModel(model("base.en"), { useGpu: false, hugePages: true });
    try {
      await m.load();
      const weights = m.memory().weightsBytes;
      expect(weights).toBeGreaterThan(100 * MiB);
      const afterLoad = hugeBytes() - before;
      // Every buffer's 2 MiB-aligned interior: all of base's 147 MB but the ends.
      expect(afterLoad).toBeGreaterThan(weights * 0.9);
      await m.resize(1);
      const raw = rawPcmFile(jfkWav);
      await m.transcribe(1, [{ index: 0, offsetMs: 0, path: raw, sampleOffset: 0, sampleCount: 16000 * 10 }], { threads: 1, language: "en" });
      // base's encoder buffers are tens of MiB; they fault in as huge pages during the first window.
      expect(hugeBytes() - before - afterLoad).toBeGreaterThan(16 * MiB);
    } finally {
      await m.dispose();
    }
  });

  it.skipIf(thp !== "madvise")("leaves the pages alone when asked not to (WHISPER_FLEET_HUGE_PAGES=false)", async () => {
    const addon = loadAddon();
    const before = hugeBytes();
    const m = new addon.WhisperModel(model("base.en"), { useGpu: false, hugePages: false });
    try {
      await m.load();
      await m.resize(1);
      expect(hugeBytes() - before).toBeLessThan(4 * MiB);
    } finally {
      await m.dispose();
    }
  });
});

it("refuses a hugePages option that is not a boolean, with or without THP", () => {
  const addon = loadAddon();
  expect(() => new addon.WhisperModel(model("base.en"), { hugePages: "yes" as unknown as boolean })).toThrow(/options\.hugePages/);
});
