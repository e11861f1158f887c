import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { describe, expect, it } from "vitest";

import { ENERGY_FRAME_SAMPLES, EnergyMeter } from "../../src/core/media/decode";

/** `samples` as ffmpeg's little-endian float32 bytes, cut into pieces of the given sizes (in bytes). */
function pieces(samples: Float32Array, sizes: number[]): Buffer[] {
  const bytes = Buffer.alloc(samples.length * 4);
  samples.forEach((v, i) => bytes.writeFloatLE(v, 4 * i));
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.min(sizes[i % sizes.length], bytes.length - at);
    // A fresh buffer at an odd offset of its memory, as a pipe may hand over.
    const backing = Buffer.alloc(n + 1);
    bytes.copy(backing, 1, at, at + n);
    out.push(backing.subarray(1));
    at += n;
  }
  return out;
}

describe("energy meter", () => {
  it("measures RMS per 20 ms frame however the byte stream is cut, samples split across pieces included", async () => {
    const samples = Float32Array.from({ length: ENERGY_FRAME_SAMPLES * 7 + 123 }, (_, i) => Math.sin(i / 7) * (1 + Math.floor(i / ENERGY_FRAME_SAMPLES)) * 0.1);
    const expected: number[] = [];
    for (let at = 0; at < samples.length; at += ENERGY_FRAME_SAMPLES) {
      const frame = samples.subarray(at, at + ENERGY_FRAME_SAMPLES);
      expected.push(Math.sqrt(frame.reduce((s, v) => s + v * v, 0) / frame.length));
    }
    for (const sizes of [[65536], [4], [7, 1, 13], [1], [1283, 6]]) {
      const meter = new EnergyMeter();
      const passed: Buffer[] = [];
      await pipeline(Readable.from(pieces(samples, sizes)), meter, async (source: AsyncIterable<Buffer>) => {
        for await (const b of source) passed.push(b);
      });
      expect(meter.samples).toBe(samples.length);
      const rms = Array.from(meter.energy().rms);
      expect(rms).toHaveLength(expected.length);
      rms.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
      // The bytes pass through unchanged, to the raw file.
      expect(Buffer.concat(passed).equals(Buffer.concat(pieces(samples, [1 << 20])))).toBe(true);
    }
  });
});
