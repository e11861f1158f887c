import { describe, expect, it } from "vitest";

import { loadAddon } from "../../src/bindings/loadAddon";

const RATE = 16000;
/** The resampler a worker plays a sped-up chunk through (native/SpeedUp.cpp). */
const speedUp = (samples: Float32Array, speed: number) => loadAddon().speedUp(samples, speed);

function tone(hz: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * RATE) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / RATE));
}

/** Frequency from the rising zero crossings of the middle half (edges excluded). */
function frequency(x: Float32Array): number {
  const from = Math.floor(x.length / 4);
  const to = Math.floor((3 * x.length) / 4);
  const ups: number[] = [];
  for (let i = from; i < to; i++) if (x[i - 1] < 0 && x[i] >= 0) ups.push(i - 1 + -x[i - 1] / (x[i] - x[i - 1]));
  return ((ups.length - 1) / (ups.at(-1)! - ups[0])) * RATE;
}

function rms(x: Float32Array): number {
  const mid = x.subarray(Math.floor(x.length / 4), Math.floor((3 * x.length) / 4));
  return Math.sqrt(mid.reduce((s, v) => s + v * v, 0) / mid.length);
}

describe("speedUp", () => {
  it("returns the audio unchanged at speed 1 and refuses slowing down", () => {
    const x = tone(440, 1);
    expect(speedUp(x, 1)).toEqual(x);
    for (const bad of [0.97, Number.NaN, 2.5, "1.03"]) expect(() => speedUp(x, bad as number)).toThrow(/Expected a number between 1 and 2 for speed/);
    expect(() => speedUp([0.1, 0.2] as unknown as Float32Array, 1.03)).toThrow(/Expected a Float32Array/);
  });

  it("shortens the audio by the speed and raises a tone's frequency by it, at the same level", () => {
    for (const speed of [1.003, 1.0246, 1.03, 1.1]) {
      for (const hz of [220, 1000, 3150]) {
        const x = tone(hz, 2);
        const y = speedUp(x, speed);
        expect(y.length).toBe(Math.round(x.length / speed));
        expect(frequency(y) / (hz * speed)).toBeCloseTo(1, 3);
        expect(rms(y) / rms(x)).toBeCloseTo(1, 2);
      }
    }
  });

  it("moves a click to its time divided by the speed", () => {
    const x = new Float32Array(RATE * 3);
    x[2 * RATE] = 1;
    const y = speedUp(x, 1.03);
    let peak = 0;
    for (let i = 1; i < y.length; i++) if (Math.abs(y[i]) > Math.abs(y[peak])) peak = i;
    expect(Math.abs(peak - (2 * RATE) / 1.03)).toBeLessThanOrEqual(1);
  });

  it("keeps a constant constant and lets nothing above the new Nyquist fold back into the band", () => {
    const dc = speedUp(new Float32Array(RATE).fill(0.25), 1.03);
    for (let i = 32; i < dc.length - 32; i++) expect(dc[i]).toBeCloseTo(0.25, 5);
    // 7.95 kHz played 5% faster would sit at 8.35 kHz, past 8 kHz: it must be filtered out, not heard at 7.65 kHz.
    const high = speedUp(tone(7950, 1), 1.05);
    expect(rms(high) / rms(tone(7950, 1))).toBeLessThan(0.05);
  });
});
