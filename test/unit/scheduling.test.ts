import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { HillClimber } from "../../src/core/scheduling/hillClimber";
import { estimateEta, progressLine, progressPanel, type ProgressSnapshot } from "../../src/core/scheduling/progress";
import { cacheKey, ResumeCache } from "../../src/core/scheduling/resumeCache";
import { sizeWorkers, wishFromChunks } from "../../src/core/scheduling/workerSizing";
import type { ChunkTranscript } from "../../src/core/types";

const GB = 1e9;

describe("worker sizing", () => {
  it("follows the plan's chunk-count table", () => {
    expect([1, 2, 3, 5, 6, 10, 11, 24, 40].map(wishFromChunks)).toEqual([1, 1, 3, 3, 5, 5, 6, 12, 20]);
  });

  it("clamps to MIN_WORKER..MAX_WORKER", () => {
    const d = sizeWorkers({ chunks: 40, minWorkers: 1, maxWorkers: 10, engine: "local", backend: "gpu", cores: 10 });
    expect(d.workers).toBe(10);
    expect(d.steps.map((s) => s.rule)).toEqual(["chunks", "limits"]);
    expect(sizeWorkers({ chunks: 1, minWorkers: 2, maxWorkers: 10, engine: "local", backend: "gpu", cores: 10 }).workers).toBe(1);
  });

  it("budgets shared weights once plus one state per worker, and shows the naive figure", () => {
    // large-v3 on a 16 GB Mac with 8 GB available: the plan's 2.5 GB-per-worker budget allows 2.
    const d = sizeWorkers({
      chunks: 24,
      minWorkers: 1,
      maxWorkers: 10,
      engine: "local",
      backend: "gpu",
      cores: 10,
      availableBytes: 8 * GB,
      weightsBytes: 3.1 * GB,
      stateBytes: 0.3 * GB,
    });
    expect(d.wholeModelWorkers).toBe(1);
    expect(d.sharedModelWorkers).toBe(8);
    expect(d.workers).toBe(8);
    expect(d.explanation).toMatch(/shared weights 3\.10 GB once \+ 0\.30 GB per worker → up to 8 \(a whole model per worker would allow only 1\)/);
  });

  it("never oversubscribes CPU cores, and splits threads between workers", () => {
    const d = sizeWorkers({
      chunks: 12,
      minWorkers: 1,
      maxWorkers: 10,
      engine: "local",
      backend: "cpu",
      cores: 8,
      availableBytes: 64 * GB,
      weightsBytes: 0.2 * GB,
      stateBytes: 0.1 * GB,
    });
    expect(d.workers).toBe(6);
    expect(d.threadsPerWorker).toBe(1);
    const two = sizeWorkers({ chunks: 4, minWorkers: 1, maxWorkers: 10, engine: "local", backend: "cpu", cores: 2 });
    expect(two.workers).toBe(2);
    expect(two.ceiling).toBe(2);
    expect(two.steps.at(-1)!.rule).toBe("cores");
  });

  it("shrinks to one worker when memory is short, below MIN_WORKER if it must", () => {
    const d = sizeWorkers({
      chunks: 10,
      minWorkers: 2,
      maxWorkers: 10,
      engine: "local",
      backend: "gpu",
      cores: 8,
      availableBytes: 4 * GB,
      weightsBytes: 3 * GB,
      stateBytes: 0.5 * GB,
    });
    expect(d.workers).toBe(1);
    expect(d.steps.map((s) => s.rule)).toContain("below-min");
  });

  it("sizes cloud engines by the rate limiter, not memory", () => {
    const d = sizeWorkers({ chunks: 30, minWorkers: 1, maxWorkers: 10, engine: "cloud", cores: 2, cloudConcurrency: 4 });
    expect(d.workers).toBe(4);
    expect(d.steps.at(-1)!.rule).toBe("rate-limit");
  });
});

describe("hill climber", () => {
  // Aggregate throughput that rises to a peak at 4 workers and falls after.
  const curve = (n: number) => (n <= 4 ? n * 10 : 40 - (n - 4) * 6);

  it("climbs to the peak of a throughput curve and settles there", () => {
    const c = new HillClimber({ min: 1, max: 10, start: 2, window: 2 });
    for (let i = 0; i < 40; i++) c.observe(curve(c.workers) * (1 + ((i % 3) - 1) * 0.01));
    expect(c.workers).toBe(4);
    expect(c.best()?.workers).toBe(4);
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

describe("resume cache", () => {
  const base = { file: "abc", chunk: { start: 0, end: 305 }, engine: "local", model: "base.en", options: { language: "en", translate: false } };

  it("keys are stable across property order and change with anything that changes the text", () => {
    expect(cacheKey(base)).toBe(cacheKey({ ...base, options: { translate: false, language: "en" } }));
    const variants = [
      { ...base, file: "abd" },
      { ...base, chunk: { start: 0, end: 305.5 } },
      { ...base, engine: "openai" },
      { ...base, model: "small" },
      { ...base, options: { language: "ko", translate: false } },
    ];
    const keys = new Set([cacheKey(base), ...variants.map(cacheKey)]);
    expect(keys.size).toBe(6);
  });

  it("stores, returns, ignores corrupt entries and stays within its size bound", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-cache-"));
    const cache = new ResumeCache({ dir, maxBytes: 4000 });
    const value: ChunkTranscript = {
      index: 0,
      start: 0,
      end: 1,
      segments: [{ start: 0, end: 1, text: "x".repeat(500) }],
      engine: "local",
      model: "m",
      precision: "word",
      fallbacks: 0,
      timings: { wallMs: 1 },
    };
    await cache.put("k1", value);
    expect(await cache.get("k1")).toEqual(value);
    await writeFile(join(dir, "bad.json"), "{not json");
    expect(await cache.get("bad")).toBeUndefined();
    expect((await readdir(dir)).includes("bad.json")).toBe(false);
    for (let i = 0; i < 20; i++) await cache.put(`k${i + 2}`, value);
    await cache.prune();
    const files = (await readdir(dir)).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    expect(files.length).toBeLessThanOrEqual(7);
  });
});
