import { describe, expect, it } from "vitest";

import { estimateEta, progressLine, progressPanel, type ProgressSnapshot } from "../../src/core/scheduling/progress";

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
  });
});
