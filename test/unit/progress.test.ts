import { describe, expect, it } from "vitest";

import { estimateEta, heardLine, percentDone, progressLine, progressPanel, type ProgressSnapshot } from "../../src/core/scheduling/progress";

describe("progress", () => {
  it("ETA converges on the true remaining time as work proceeds", () => {
    // 1200 s of audio at 20x realtime with a slow start (model warm-up): true total 60 s + 5 s.
    const errors: number[] = [];
    for (let t = 10; t <= 60; t += 10) {
      const done = Math.max(0, (t - 5) * 20);
      const eta = estimateEta(done, 1200, t)!;
      errors.push(Math.abs(t + eta - 65));
    }
    for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeLessThanOrEqual(errors[i - 1] + 1e-9);
    expect(errors.at(-1)!).toBeLessThan(0.5);
    expect(estimateEta(0, 100, 5)).toBeUndefined();
  });

  it("renders the plan's one-line toast text and the per-worker panel", () => {
    const s: ProgressSnapshot = {
      phase: "transcribing",
      file: "/Users/me/report.m4a",
      engine: "local:base",
      workers: [
        { id: 0, state: "busy", chunk: 23, percent: 40 },
        { id: 1, state: "idle", percent: 0 },
      ],
      activeWorkers: 5,
      chunks: { done: 24, total: 50, failed: 0, cached: 0, running: 1 },
      audio: { done: 1440, total: 3000 },
      speed: { chunksPerMinute: 3.2, realtimeFactor: 12 },
      etaSeconds: 495,
      elapsedSeconds: 450,
    };
    expect(progressLine(s)).toBe("Transcribing report.m4a · 24/50 chunks · 5 workers · 3.2 chunks/min · ETA 8m 15s");
    const panel = progressPanel(s, 10);
    expect(panel[0]).toBe("Worker  1 ████░░░░░░  40% chunk  24/50");
    expect(panel[2]).toMatch(/^Overall {3}█████░░░░░ {2}48% 24\/50 chunks$/);
    expect(panel).toHaveLength(4);
    // What a running chunk just produced: its place in the file and the end of its text.
    const heard = { ...s, heard: { start: 3725.4, end: 3731, text: "it was the invention of movable metal letters around fourteen fifty" } };
    expect(progressPanel(heard, 40).at(-1)).toBe("Heard     01:02:05 “it was the invention of movable metal letters around fourteen fifty”");
    expect(heardLine(heard, 20)).toBe("01:02:05 “…fourteen fifty”");
    expect(heardLine(heard, 22)).toBe("01:02:05 “…around fourteen fifty”");
    expect(heardLine(s)).toBeUndefined();
  });

  it("tells one story at the end of a file: 3 of 4 chunks with the last at 99% is 99%, not 100%", () => {
    // A 4-minute file: three 60 s chunks done, the fourth at 99.4% (what a terminal showed as 100%).
    const s: ProgressSnapshot = {
      phase: "transcribing",
      file: "talk.m4a",
      engine: "local:base",
      workers: [{ id: 0, state: "busy", chunk: 3, percent: 99.4 }],
      activeWorkers: 1,
      chunks: { done: 3, total: 4, failed: 0, cached: 0, running: 1 },
      audio: { done: 180 + 0.994 * 60, total: 240 },
      speed: { chunksPerMinute: 3, realtimeFactor: 4 },
      etaSeconds: 1,
      elapsedSeconds: 60,
    };
    const panel = progressPanel(s, 10);
    expect(panel[0]).toMatch(/ 99% chunk {3}4\/4$/);
    expect(panel[1]).toMatch(/^Overall .* 99% 3\/4 chunks$/);
    expect(percentDone(240, 240)).toBe(100);
    expect(percentDone(0, 0)).toBe(0);
  });
});
