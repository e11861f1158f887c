import { describe, expect, it } from "vitest";

import { planChunks, quietThreshold } from "../../src/core/planning/chunkPlan";
import { expectTiling } from "../support/planAssertions";

const FRAME = 0.02;

/** An energy map of `seconds` of speech-level noise with quiet stretches at the given [start, end) ranges. */
function energyMap(seconds: number, silences: [number, number][], seed = 1): { frameSeconds: number; rms: Float32Array } {
  let x = seed;
  const rand = () => (x = (x * 16807) % 2147483647) / 2147483647;
  const rms = new Float32Array(Math.round(seconds / FRAME));
  for (let i = 0; i < rms.length; i++) {
    const t = i * FRAME;
    const quiet = silences.some(([a, b]) => t >= a && t < b);
    // Speech with short dips between words (single low frames) that must not be taken for pauses.
    rms[i] = quiet ? 0.002 + 0.001 * rand() : i % 17 === 0 ? 0.02 : 0.2 + 0.1 * rand();
  }
  return { frameSeconds: FRAME, rms };
}

describe("planChunks", () => {
  it("puts each cut inside the pause nearest its target", () => {
    const silences: [number, number][] = [
      [285.0, 286.2],
      [604.0, 605.0],
      [890.0, 891.4],
    ];
    const duration = 1200;
    const plan = planChunks(duration, energyMap(duration, silences), { chunkSeconds: 300, overlapSeconds: 5 });
    expect(plan.chunks).toHaveLength(4);
    const cuts = plan.chunks.slice(1).map((c) => c.ownStart);
    cuts.forEach((cut, i) => {
      expect(cut).toBeGreaterThanOrEqual(silences[i][0]);
      expect(cut).toBeLessThanOrEqual(silences[i][1]);
    });
    expectTiling(plan, duration);
    expect(plan.chunks[1].overlapBefore).toBe(2.5);
    expect(plan.chunks[0].overlapAfter).toBe(2.5);
  });

  it("prefers the longest pause in the window over a short one nearer the target", () => {
    const plan = planChunks(
      600,
      energyMap(600, [
        [299.5, 299.9],
        [310, 312],
      ]),
      { chunkSeconds: 300, overlapSeconds: 5 },
    );
    expect(plan.chunks[1].ownStart).toBeGreaterThanOrEqual(310);
    expect(plan.chunks[1].ownStart).toBeLessThanOrEqual(312);
  });

  it("without any pause cuts near the target (within the search window) and still tiles the file", () => {
    const plan = planChunks(1000, energyMap(1000, []), { chunkSeconds: 300, overlapSeconds: 5, searchSeconds: 10 });
    expect(plan.chunks).toHaveLength(4);
    plan.chunks.slice(1).forEach((c, i) => expect(Math.abs(c.ownStart - 250 * (i + 1))).toBeLessThanOrEqual(10));
    expectTiling(plan, 1000);
    // searchSeconds 0: fixed cuts, exactly at the targets.
    const fixed = planChunks(1000, energyMap(1000, []), { chunkSeconds: 300, overlapSeconds: 5, searchSeconds: 0 });
    expect(fixed.chunks.slice(1).map((c) => c.ownStart)).toEqual([250, 500, 750]);
  });

  it("takes a sustained dip (a breath) over a single quiet frame inside a word when there is no pause", () => {
    // The first minute is silence, so the threshold sits near the noise floor; around the 300 s
    // target the speech has the helper's one-frame dips (quiet alone) and a half-second breath at
    // 315 s that is never below the threshold but is the quietest stretch once frames are smoothed.
    const energy = energyMap(600, [[0, 60]]);
    for (let i = Math.round(315 / FRAME); i < Math.round(315.5 / FRAME); i++) energy.rms[i] = 0.08;
    const plan = planChunks(600, energy, { chunkSeconds: 300, overlapSeconds: 5 });
    expect(plan.chunks).toHaveLength(2);
    expect(plan.chunks[1].ownStart).toBeGreaterThanOrEqual(315);
    expect(plan.chunks[1].ownStart).toBeLessThanOrEqual(315.5);
  });

  it("gives a short file one chunk with no overlap", () => {
    const plan = planChunks(11, energyMap(11, []), { chunkSeconds: 300, overlapSeconds: 5 });
    expect(plan.chunks).toEqual([{ index: 0, start: 0, end: 11, overlapBefore: 0, overlapAfter: 0, ownStart: 0, ownEnd: 11 }]);
  });

  it("respects an engine's duration cap, overlap included", () => {
    const duration = 5 * 3600;
    const plan = planChunks(duration, energyMap(duration, []), { chunkSeconds: 1800, overlapSeconds: 5, maxChunkSeconds: 1400 });
    for (const c of plan.chunks) expect(c.end - c.start).toBeLessThanOrEqual(1400);
    expectTiling(plan, duration);
  });

  it("skips long silences when asked and still accounts for every second", () => {
    const duration = 900;
    const plan = planChunks(duration, energyMap(duration, [[400, 520]]), { chunkSeconds: 300, overlapSeconds: 5, skipSilenceSeconds: 30 });
    expect(plan.skipped).toHaveLength(1);
    expect(plan.skipped[0].start).toBeGreaterThan(399);
    expect(plan.skipped[0].end).toBeLessThan(521);
    for (const c of plan.chunks) expect(c.ownEnd <= plan.skipped[0].start + 1e-9 || c.ownStart >= plan.skipped[0].end - 1e-9).toBe(true);
    expectTiling(plan, duration);
  });

  it("is deterministic and balances chunk lengths", () => {
    const map = energyMap(3600, [[1000, 1001]], 7);
    const a = planChunks(3600, map, { chunkSeconds: 300, overlapSeconds: 5 });
    const b = planChunks(3600, map, { chunkSeconds: 300, overlapSeconds: 5 });
    expect(a).toEqual(b);
    const lengths = a.chunks.map((c) => c.ownEnd - c.ownStart);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(330);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(270);
  });

  it("rejects nonsense options", () => {
    expect(() => planChunks(0, undefined, { chunkSeconds: 300, overlapSeconds: 5 })).toThrow(/positive duration/);
    expect(() => planChunks(100, undefined, { chunkSeconds: 300, overlapSeconds: 100 })).toThrow(/overlapSeconds/);
  });

  it("adapts the quiet threshold to the recording's level", () => {
    const loud = energyMap(60, [[10, 12]]);
    const soft = { frameSeconds: FRAME, rms: loud.rms.map((v) => v / 10) };
    expect(quietThreshold(soft.rms)).toBeCloseTo(quietThreshold(loud.rms) / 10, 5);
  });
});
