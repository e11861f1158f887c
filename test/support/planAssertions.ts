/** Assertions every chunk plan must pass, whichever planner made it. */
import { expect } from "vitest";

import type { ChunkPlan } from "../../src/core/planning/chunkPlan";

/** The chunks' own stretches and the skipped silences tile [0, duration]; each chunk hears its overlaps inside the file. */
export function expectTiling(plan: ChunkPlan, duration: number): void {
  const pieces = [...plan.chunks.map((c) => [c.ownStart, c.ownEnd]), ...plan.skipped.map((s) => [s.start, s.end])].sort((a, b) => a[0] - b[0]);
  expect(pieces[0][0]).toBe(0);
  for (let i = 1; i < pieces.length; i++) expect(pieces[i][0]).toBeCloseTo(pieces[i - 1][1], 9);
  expect(pieces.at(-1)![1]).toBeCloseTo(duration, 9);
  for (const c of plan.chunks) {
    expect(c.start).toBeCloseTo(c.ownStart - c.overlapBefore, 9);
    expect(c.end).toBeCloseTo(c.ownEnd + c.overlapAfter, 9);
    expect(c.start).toBeGreaterThanOrEqual(0);
    expect(c.end).toBeLessThanOrEqual(duration + 1e-9);
  }
}
