/**
 * Scheduling logic with a controllable engine double (the end-to-end tests run the same scheduler
 * on the real addon): retries and backoff, gaps, engine fallback, concurrency, the previous-chunk
 * prompt for sequential cloud chunks, and the resume cache.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import type { ChunkRequest, TranscriptionEngine } from "../../src/core/engines/engine";
import { FleetError } from "../../src/core/errors";
import { ResumeCache } from "../../src/core/scheduling/resumeCache";
import { runSchedule, type ScheduleInput } from "../../src/core/scheduling/scheduler";
import type { ChunkTranscript, PlannedChunk } from "../../src/core/types";

const plan: PlannedChunk[] = Array.from({ length: 6 }, (_, i) => ({
  index: i,
  start: i * 10,
  end: i * 10 + 10,
  overlapBefore: 0,
  overlapAfter: 0,
  ownStart: i * 10,
  ownEnd: i * 10 + 10,
}));
const audio = { path: "/dev/null", sampleRate: 16000 as const, samples: 960000, duration: 60 };

type Behaviour = (req: ChunkRequest, call: number) => Promise<ChunkTranscript> | ChunkTranscript;

function double(kind: "local" | "cloud", behaviour: Behaviour = (req) => ok(req), capacity = 4) {
  const calls: { index: number; prompt?: string; at: number }[] = [];
  let running = 0;
  let peak = 0;
  const engine: TranscriptionEngine & { calls: typeof calls; peak: () => number } = {
    kind,
    name: kind === "cloud" ? "fake-cloud" : "fake-local",
    model: "m",
    calls,
    peak: () => peak,
    capacity: () => capacity,
    dispose: async () => undefined,
    transcribeChunk: async (req) => {
      calls.push({ index: req.chunk.index, prompt: req.options.prompt, at: Date.now() });
      running++;
      peak = Math.max(peak, running);
      try {
        return await behaviour(req, calls.filter((c) => c.index === req.chunk.index).length);
      } finally {
        running--;
      }
    },
  };
  return engine;
}

function ok(req: ChunkRequest, text = `chunk ${req.chunk.index} says hello`): Promise<ChunkTranscript> {
  return new Promise((resolve) =>
    setTimeout(
      () =>
        resolve({
          index: req.chunk.index,
          start: req.chunk.start,
          end: req.chunk.end,
          segments: [{ start: req.chunk.start, end: req.chunk.end - 1, text }],
          engine: "fake",
          model: "m",
          precision: "segment",
          temperatureRetries: 0,
          timings: { wallMs: 5 },
        }),
      5,
    ),
  );
}

function input(engine: TranscriptionEngine, extra: Partial<ScheduleInput> = {}): ScheduleInput {
  return {
    file: "f.wav",
    plan,
    audio,
    options: { language: "en" },
    engine,
    initialWorkers: 2,
    minWorkers: 1,
    maxWorkers: 4,
    cores: 4,
    autoAdjust: false,
    timeoutMs: 5000,
    backoffMs: 10,
    ...extra,
  };
}

describe("scheduler", () => {
  it("runs every chunk once, never above the worker count", async () => {
    const engine = double("local");
    const r = await runSchedule(input(engine, { initialWorkers: 3 }));
    expect([...r.results.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(engine.calls).toHaveLength(6);
    expect(engine.peak()).toBe(3);
    expect(r.failures.size).toBe(0);
  });

  it("retries transient failures with backoff and records them", async () => {
    const engine = double("local", (req, call) => (req.chunk.index === 2 && call < 3 ? Promise.reject(new FleetError("DECODE_FAILED", "flaky")) : ok(req)));
    const r = await runSchedule(input(engine));
    expect(r.results.size).toBe(6);
    expect(r.retries).toBe(2);
    const tries = engine.calls.filter((c) => c.index === 2);
    expect(tries).toHaveLength(3);
    expect(tries[2].at - tries[1].at).toBeGreaterThanOrEqual(10); // 10 ms × 2 × jitter ≥ 0.75
    expect(r.metrics.find((m) => m.index === 2)!.attempts).toBe(3);
    expect(r.fallbacks.some((f) => f.to === "1 worker")).toBe(true);
  });

  it("a chunk that keeps failing becomes a named failure; the others are kept", async () => {
    const engine = double("local", (req) => (req.chunk.index === 4 ? Promise.reject(new FleetError("ENCODE_FAILED", "always")) : ok(req)));
    const r = await runSchedule(input(engine, { maxAttempts: 2 }));
    expect(r.results.size).toBe(5);
    expect(r.failures.get(4)).toEqual({ code: "ENCODE_FAILED", reason: "always" });
    expect(engine.calls.filter((c) => c.index === 4)).toHaveLength(2);
  });

  it("does not retry what cannot succeed", async () => {
    const engine = double("local", (req) => (req.chunk.index === 1 ? Promise.reject(new FleetError("INVALID_AUDIO", "NaN")) : ok(req)));
    const r = await runSchedule(input(engine));
    expect(r.failures.get(1)?.code).toBe("INVALID_AUDIO");
    expect(engine.calls.filter((c) => c.index === 1)).toHaveLength(1);
  });

  it("finishes on the fallback engine when the primary cannot run at all, and records it", async () => {
    const local = double("local", (req) => (req.chunk.index >= 2 ? Promise.reject(new FleetError("OUT_OF_MEMORY", "no memory for a state")) : ok(req)));
    const cloud = double("cloud");
    const r = await runSchedule(input(local, { initialWorkers: 1, fallback: async () => cloud }));
    expect(r.results.size).toBe(6);
    expect(r.fallbacks[0]).toMatchObject({ from: "fake-local:m", to: "fake-cloud:m", reason: "no memory for a state" });
    expect(cloud.calls.map((c) => c.index).sort()).toEqual([2, 3, 4, 5]);
    expect(r.engine).toBe(cloud);
  });

  it("without a fallback, an engine that cannot run fails the rest fast as named gaps", async () => {
    const local = double("local", (req) => (req.chunk.index >= 2 ? Promise.reject(new FleetError("MODEL_INVALID", "corrupt")) : ok(req)));
    const r = await runSchedule(input(local, { initialWorkers: 1 }));
    expect(r.results.size).toBe(2);
    expect([...r.failures.values()].every((f) => f.code === "MODEL_INVALID")).toBe(true);
    expect(r.failures.size).toBe(4);
  });

  it("gives sequential cloud chunks the user's glossary plus the previous chunk's tail", async () => {
    const cloud = double("cloud", (req) => ok(req, `text of chunk ${req.chunk.index} ends with word${req.chunk.index}`), 1);
    await runSchedule(input(cloud, { initialWorkers: 1, maxWorkers: 1, options: { language: "en", prompt: "Whisper Fleet, ggml" } }));
    expect(cloud.calls[0].prompt).toBe("Whisper Fleet, ggml");
    expect(cloud.calls[1].prompt).toBe("Whisper Fleet, ggml text of chunk 0 ends with word0");
    expect(cloud.calls[5].prompt).toMatch(/word4$/);
  });

  it("locks the language the first chunk detected for the chunks after it", async () => {
    const seen: (string | undefined)[] = [];
    const engine = double("local", async (req) => {
      seen.push(req.options.language);
      return { ...(await ok(req)), language: "ko" };
    });
    await runSchedule(input(engine, { initialWorkers: 1, options: { language: "auto" } }));
    expect(seen).toEqual(["auto", "ko", "ko", "ko", "ko", "ko"]);
  });

  it("cancels: in-flight chunks are aborted and the schedule rejects with ABORTED", async () => {
    const controller = new AbortController();
    const engine = double("local", (req) => new Promise((_, reject) => req.signal.addEventListener("abort", () => reject(new FleetError("ABORTED", "x")))));
    const pending = runSchedule(input(engine, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: "ABORTED" });
    expect(engine.calls).toHaveLength(2);
  });

  it("reuses cached chunks and stores new ones", async () => {
    const store = new ResumeCache({ dir: mkdtempSync(join(tmpdir(), "wf-sched-cache-")) });
    const keyFor = (c: PlannedChunk) => `k${c.index}`;
    const first = double("local");
    await runSchedule(input(first, { cache: { store, keyFor } }));
    const second = double("local");
    const r = await runSchedule(input(second, { cache: { store, keyFor } }));
    expect(second.calls).toHaveLength(0);
    expect(r.cached).toBe(6);
    expect(r.results.get(3)!.segments[0].text).toBe("chunk 3 says hello");
  });
});
