import { describe, expect, it } from "vitest";

import { HillClimber } from "../../src/core/scheduling/hillClimber";

describe("hill climber", () => {
  // Aggregate throughput that rises to a peak at 4 workers and falls after.
  const curve = (n: number) => (n <= 4 ? n * 10 : 40 - (n - 4) * 6);

  it("climbs to the peak of a throughput curve and settles there", () => {
    const c = new HillClimber({ min: 1, max: 10, start: 2, window: 2 });
    for (let i = 0; i < 40; i++) c.observe(curve(c.workers) * (1 + ((i % 3) - 1) * 0.01));
    expect(c.workers).toBe(4);
    expect(c.best()?.workers).toBe(4);
  });

  it("never goes past its upper bound, even when every step up pays", () => {
    for (const candidates of [undefined, [1, 2, 3, 6, 12]]) {
      const c = new HillClimber({ min: 1, max: 6, start: 1, window: 1, candidates });
      let highest = c.workers;
      for (let i = 0; i < 30; i++) highest = Math.max(highest, c.observe(c.workers * 10).workers);
      expect(highest).toBe(6);
      expect(c.workers).toBe(6);
    }
  });

  it("keeps the count when a step up does not pay beyond the hysteresis", () => {
    const c = new HillClimber({ min: 1, max: 10, start: 3, hysteresis: 0.1, window: 1 });
    for (let i = 0; i < 10; i++) c.observe(30 + c.workers); // +3% per worker: not worth it
    expect(c.workers).toBe(3);
  });

  it("explores downwards from the limit, shrinks at once under memory pressure, never below 1", () => {
    const c = new HillClimber({ min: 1, max: 3, start: 3, window: 1 });
    expect(c.observe(10).workers).toBe(2); // at the limit: tries one less
    const d = new HillClimber({ min: 1, max: 8, start: 1, window: 1 });
    expect(d.pressure().workers).toBe(1);
    const e = new HillClimber({ min: 1, max: 8, start: 5 });
    expect(e.pressure()).toMatchObject({ workers: 4, changed: true, reason: "memory pressure" });
    expect(e.single().workers).toBe(1);
  });
});
