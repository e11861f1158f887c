import { describe, expect, it } from "vitest";

import {
  chunkWindows,
  MIN_OVERLAP,
  planForWorkers,
  shapeWindows,
  simulate,
  soloSpeedup,
  speedToFit,
  windowsFor,
  WINDOW_SECONDS,
} from "../../src/core/planning/windowPlan";
import { expectTiling } from "../support/planAssertions";

const FRAME = 0.02;

/** Speech-level energy with quiet stretches at the given [start, end) ranges. */
function energyMap(seconds: number, pauses: [number, number][]): { frameSeconds: number; rms: Float32Array } {
  const rms = new Float32Array(Math.round(seconds / FRAME));
  let p = 0;
  for (let i = 0; i < rms.length; i++) {
    const t = i * FRAME;
    while (p < pauses.length && pauses[p][1] <= t) p++;
    const quiet = p < pauses.length && t >= pauses[p][0] && t < pauses[p][1];
    rms[i] = quiet ? 0.002 : i % 17 === 0 ? 0.02 : 0.2 + 0.05 * Math.sin(i);
  }
  return { frameSeconds: FRAME, rms };
}

/** A pause of 0.6 s every `every` seconds, like sentence ends in read speech. */
function regularPauses(seconds: number, every: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = every; t < seconds; t += every) out.push([t, t + 0.6]);
  return out;
}

function windowsOf(plan: ReturnType<typeof planForWorkers>): number[] {
  return plan.chunks.map((c) => windowsFor(c.end - c.start));
}

describe("window plan", () => {
  it("counts windows the way whisper.cpp 1.9 runs them (another window once more than 0.1 s is left)", () => {
    expect(windowsFor(30)).toBe(1);
    expect(windowsFor(30.04)).toBe(1);
    expect(windowsFor(30.3)).toBe(2);
    expect(windowsFor(31)).toBe(2);
    expect(windowsFor(210.02)).toBe(7);
    expect(windowsFor(210.62)).toBe(8);
    expect(windowsFor(261)).toBe(9);
    expect(windowsFor(0.5)).toBe(1);
  });

  it("simulates first-free-worker scheduling, with a solo last chunk on every core", () => {
    // Four workers: 10 windows each (and 0.03 of set-up per chunk), then 1 window.
    const plain = simulate([10, 10, 10, 10, 1], 4);
    const solo = simulate([10, 10, 10, 10, 1], 4, true);
    expect(plain.makespan).toBeCloseTo(11.06, 5); // the remainder runs on one worker: 10.03 + 1.03
    expect(plain.firstText).toBeCloseTo(10.03, 5);
    expect(solo.makespan).toBeCloseTo(10.03 + 1 / soloSpeedup(4) + 0.03, 5);
    expect(solo.makespan).toBeLessThan(plain.makespan);
    // Eight workers, 81 windows: the one left over is cheaper alone on every core than on one.
    expect(simulate([...new Array(8).fill(10), 1], 8, true).makespan).toBeLessThan(simulate([...new Array(8).fill(10), 1], 8).makespan);
  });

  // The check: for 1–180 minutes and 1–16 workers, the plan's makespan stays within 5% of
  // the work spread evenly (one window of granularity allowed: a window cannot be split).
  it("balances: makespan within 5% of total work / workers for 1–180 min and 1–16 workers", () => {
    for (const minutes of [1, 3, 7, 9.5, 13, 16.5, 20, 21.7, 45, 60, 97, 180]) {
      for (const workers of [1, 2, 3, 4, 6, 8, 12, 16]) {
        const duration = minutes * 60;
        const plan = planForWorkers(duration, energyMap(duration, regularPauses(duration, 7)), { chunkSeconds: 300, overlapSeconds: 5, workers });
        const windows = windowsOf(plan);
        const total = windows.reduce((a, b) => a + b, 0);
        const { makespan } = simulate(windows, workers, plan.chunks.at(-1)!.solo === true);
        const even = total / workers;
        expect(makespan, `${minutes} min on ${workers} workers: ${JSON.stringify(windows)}`).toBeLessThanOrEqual(Math.max(even * 1.05, even + 1) + 0.7);
        // And no more windows than the audio needs, beyond one per cut that found no pause.
        expect(total).toBeLessThanOrEqual(windowsFor(duration) + plan.chunks.length);
        expectTiling(plan, duration);
      }
    }
  }, 60_000); // 96 plans with every candidate shape simulated: seconds on a busy 2-core machine

  it("never exceeds CHUNK_SECONDS of own audio and keeps every chunk within its windows", () => {
    for (const chunkSeconds of [60, 120, 300, 600]) {
      const duration = 1500;
      const plan = planForWorkers(duration, energyMap(duration, regularPauses(duration, 5)), { chunkSeconds, overlapSeconds: 5, workers: 2 });
      for (const c of plan.chunks) expect(c.ownEnd - c.ownStart).toBeLessThanOrEqual(chunkSeconds + 5 + 1e-6);
    }
  });

  it("cuts inside pauses without overlap, and inside speech with the full overlap", () => {
    // Pauses near every window boundary: the cuts use them and need no overlap.
    const duration = 1200;
    const pauses: [number, number][] = [];
    for (let t = WINDOW_SECONDS; t < duration; t += WINDOW_SECONDS) pauses.push([t - 2, t - 1.4]);
    const paused = planForWorkers(duration, energyMap(duration, pauses), { chunkSeconds: 300, overlapSeconds: 5, workers: 2 });
    expect(paused.chunks.length).toBeGreaterThan(1);
    const cuts = paused.chunks.slice(1);
    const inPause = cuts.filter((c) => c.overlapBefore === 0);
    expect(inPause.length).toBeGreaterThanOrEqual(Math.ceil(cuts.length * 0.75));
    for (const c of inPause) expect(pauses.some(([a, b]) => c.ownStart >= a && c.ownStart <= b)).toBe(true);
    for (const c of cuts) expect([0, 2.5]).toContain(c.overlapBefore);
    // Continuous speech: every cut overlaps by 5 s, centred on the cut.
    const speech = planForWorkers(duration, energyMap(duration, []), { chunkSeconds: 300, overlapSeconds: 5, workers: 2 });
    for (const c of speech.chunks.slice(1)) expect(c.overlapBefore).toBe(2.5);
    expectTiling(speech, duration);
    // Cuts in pauses cost no overlap: at most one window more than the audio itself.
    expect(windowsOf(paused).reduce((a, b) => a + b)).toBeLessThanOrEqual(windowsFor(duration) + 1);
  });

  it("stretches a chunk cut inside speech when the rest would not fit its windows: a minute with no pause near its middle is two one-window chunks", () => {
    for (const pauses of [
      [],
      [
        [12, 12.6],
        [45, 45.6],
      ],
    ] as [number, number][][]) {
      const plan = planForWorkers(60, energyMap(60, pauses), { chunkSeconds: 300, overlapSeconds: 5, workers: 2, maxSpeed: 1.03 });
      expect(plan.chunks.map(chunkWindows)).toEqual([1, 1]);
      expect(plan.makespanWindows).toBeLessThan(1.1);
      // Still an overlap for the stitcher at a cut inside speech, and no chunk faster than allowed.
      expect(plan.chunks[1].overlapBefore).toBeGreaterThanOrEqual(MIN_OVERLAP / 2);
      for (const c of plan.chunks) expect(c.speed ?? 1).toBeLessThanOrEqual(1.03);
      expectTiling(plan, 60);
    }
    // Played as recorded, a minute of speech cut with an overlap cannot be two windows.
    expect(planForWorkers(60, energyMap(60, []), { chunkSeconds: 300, overlapSeconds: 5, workers: 2 }).chunks.map(chunkWindows)).not.toEqual([1, 1]);
  });

  it("puts text on screen before half time when it costs little: a short first chunk", () => {
    const duration = 16.5 * 60;
    const plan = planForWorkers(duration, energyMap(duration, regularPauses(duration, 6)), { chunkSeconds: 300, overlapSeconds: 5, workers: 2 });
    const windows = windowsOf(plan);
    const { makespan, firstText } = simulate(windows, 2, plan.chunks.at(-1)!.solo === true);
    expect(firstText).toBeLessThanOrEqual(makespan / 2);
  });

  it("counts text as early only with room to spare: LJ001's 20 minutes get a short first chunk, not 4 × 10 windows + a solo one", () => {
    // [10, 10, 10, 10, 1 solo] puts the first text at 49% of the simulated job, which ended at 51%
    // of the real one (the solo tail ran faster than simulated); a one-window first chunk costs 0.2%.
    const duration = 1196.92;
    const plan = planForWorkers(duration, energyMap(duration, regularPauses(duration, 11)), { chunkSeconds: 300, overlapSeconds: 5, workers: 2 });
    const windows = windowsOf(plan);
    const { makespan, firstText } = simulate(windows, 2, plan.chunks.at(-1)!.solo === true);
    expect(firstText).toBeLessThanOrEqual(makespan * 0.4);
  });

  it("marks a remainder that would idle workers as a solo last chunk", () => {
    // 81 windows of audio on 8 workers: one is left over once each worker has 10.
    const duration = 81 * WINDOW_SECONDS - 4;
    const shape = shapeWindows(duration, { workers: 8, maxChunkSeconds: 300, overlapSeconds: 0 });
    expect(shape.windows.reduce((a, b) => a + b)).toBe(81);
    expect(shape.solo).toBe(true);
    expect(shape.windows.at(-1)).toBe(1);
    // On 2 workers too: the odd window of 19 runs alone on both cores, sooner than [10, 9] ends (10.03).
    const two = shapeWindows(19 * WINDOW_SECONDS - 4, { workers: 2, maxChunkSeconds: 300, overlapSeconds: 0 });
    expect(two.windows.reduce((a, b) => a + b)).toBe(19);
    expect(two.solo).toBe(true);
    expect(two.makespan).toBeLessThan(10.03);
  });

  it("gives a tiny file one chunk with no overlap", () => {
    expect(planForWorkers(11, energyMap(11, []), { chunkSeconds: 300, overlapSeconds: 5, workers: 2 }).chunks).toEqual([
      { index: 0, start: 0, end: 11, overlapBefore: 0, overlapAfter: 0, ownStart: 0, ownEnd: 11 },
    ]);
  });

  describe("speed-up to fit (WHISPER_FLEET_MAX_SPEEDUP)", () => {
    it("counts the windows of audio played faster, and the least speed-up that saves one", () => {
      expect(windowsFor(61.5)).toBe(3);
      expect(windowsFor(61.5, 1.03)).toBe(2);
      expect(windowsFor(62, 1.03)).toBe(3); // 60.2 s even at 3% faster
      const speed = speedToFit(61.5, 1.03);
      expect(speed).toBeGreaterThan(1.02);
      expect(speed).toBeLessThan(1.03);
      expect(windowsFor(61.5 / speed)).toBe(2);
      expect(speedToFit(59, 1.03)).toBe(1); // fits as recorded
      expect(speedToFit(62, 1.03)).toBe(1); // no speed-up allowed would save the window
      expect(speedToFit(61.5, 1)).toBe(1);
    });

    it("cuts 2 minutes for 2 workers at a pause past the middle with no extra window, where as recorded it costs one", () => {
      // The only pause near the middle is at 61.0–61.6 s; -p 2 would cut blind at 60 s: 2 + 2 windows.
      const energy = energyMap(120, [[61, 61.6]]);
      const options = { chunkSeconds: 300, overlapSeconds: 5, workers: 2 };
      const asRecorded = planForWorkers(120, energy, options);
      const spedUp = planForWorkers(120, energy, { ...options, maxSpeed: 1.03 });
      expect(asRecorded.makespanWindows).toBeGreaterThan(2.5);
      expect(spedUp.chunks.map(chunkWindows)).toEqual([2, 2]);
      expect(spedUp.makespanWindows).toBeLessThan(2.1);
      const [a, b] = spedUp.chunks;
      expect(a.ownEnd).toBeGreaterThanOrEqual(61);
      expect(a.ownEnd).toBeLessThanOrEqual(61.6);
      expect(a.overlapAfter).toBe(0);
      expect(a.speed).toBeGreaterThan(1);
      expect(a.speed).toBeLessThanOrEqual(1.03);
      expect(b.speed).toBeUndefined();
      expectTiling(spedUp, 120);
    });

    it("saves the window every cut at a pause costs on whole-minute files, for one worker and for two", () => {
      for (const minutes of [7, 13, 20]) {
        const duration = minutes * 60;
        // A pause 1–1.6 s past every window boundary, none before one: as recorded, each cut wastes a window.
        const pauses: [number, number][] = [];
        for (let t = WINDOW_SECONDS; t < duration; t += WINDOW_SECONDS) pauses.push([t + 1, t + 1.6]);
        const energy = energyMap(duration, pauses);
        for (const workers of [1, 2]) {
          const options = { chunkSeconds: 300, overlapSeconds: 5, workers, threads: 2 / workers };
          const asRecorded = planForWorkers(duration, energy, options);
          const spedUp = planForWorkers(duration, energy, { ...options, maxSpeed: 1.03 });
          const total = (p: typeof spedUp) => p.chunks.map(chunkWindows).reduce((x, y) => x + y);
          expect(total(asRecorded)).toBeGreaterThan(windowsFor(duration));
          expect(total(spedUp)).toBe(windowsFor(duration));
          expect(spedUp.makespanWindows).toBeLessThan(asRecorded.makespanWindows);
          expectTiling(spedUp, duration);
        }
      }
    });

    it("speeds a chunk up only to save a window, never past the limit or CHUNK_SECONDS, and never where the windows have room", () => {
      for (const minutes of [1, 2.5, 3, 4.5, 7, 9.5, 16.5, 20, 21.7, 60]) {
        const duration = minutes * 60;
        const energy = energyMap(duration, regularPauses(duration, 4.3));
        for (const workers of [1, 2, 4]) {
          const plan = planForWorkers(duration, energy, { chunkSeconds: 300, overlapSeconds: 5, workers, maxSpeed: 1.03 });
          expectTiling(plan, duration);
          for (const c of plan.chunks) {
            expect(c.ownEnd - c.ownStart).toBeLessThanOrEqual(300 + 5 + 1e-6);
            if (c.speed === undefined) continue;
            expect(c.speed).toBeGreaterThan(1);
            expect(c.speed).toBeLessThanOrEqual(1.03);
            expect(windowsFor(c.end - c.start, c.speed)).toBeLessThan(windowsFor(c.end - c.start));
          }
          // Never more windows than cutting as recorded.
          const asRecorded = planForWorkers(duration, energy, { chunkSeconds: 300, overlapSeconds: 5, workers });
          expect(plan.makespanWindows).toBeLessThanOrEqual(asRecorded.makespanWindows + 1e-9);
        }
      }
      // A file whose windows have room: nothing is sped up.
      expect(
        planForWorkers(100, energyMap(100, regularPauses(100, 5)), { chunkSeconds: 300, overlapSeconds: 5, workers: 2, maxSpeed: 1.03 }).chunks.some(
          (c) => c.speed,
        ),
      ).toBe(false);
    });
  });

  it("is deterministic", () => {
    const map = energyMap(3600, regularPauses(3600, 9));
    const a = planForWorkers(3600, map, { chunkSeconds: 300, overlapSeconds: 5, workers: 4 });
    const b = planForWorkers(3600, map, { chunkSeconds: 300, overlapSeconds: 5, workers: 4 });
    expect(a).toEqual(b);
  });
});
