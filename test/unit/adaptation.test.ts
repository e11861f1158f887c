/**
 * Layout adaptation, timeouts from the work, and the solo tail, through the real scheduler with an
 * engine double whose speed follows a recorded throughput curve (an 8-core machine where 4 workers
 * × 2 threads beat 8 × 1 and 2 × 4).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import type { ChunkRequest, TranscriptionEngine } from "../../src/core/engines/engine";
import { FleetError } from "../../src/core/errors";
import { CoreBudget } from "../../src/core/scheduling/coreBudget";
import { cpuLayouts, HillClimber } from "../../src/core/scheduling/hillClimber";
import { LayoutAdapter } from "../../src/core/scheduling/layoutAdapter";
import { runSchedule, type ScheduleInput } from "../../src/core/scheduling/scheduler";
import { freshLayouts, measuredOnce, RECHECK_JOBS, RECHECK_ONCE_JOBS, sizingFigures, StatsStore, staleLayouts } from "../../src/core/scheduling/statsStore";
import { sizeWorkers } from "../../src/core/scheduling/workerSizing";
import { attemptDeadlineMs, SpeedEstimate, UNMEASURED_SPEED } from "../../src/core/scheduling/timeouts";
import type { ChunkTranscript, PlannedChunk } from "../../src/core/types";

/** One worker's speed (audio s per wall s) by threads: 4 workers × 2 threads is the best layout on 8 cores. */
const PER_WORKER: Record<number, number> = { 1: 1.0, 2: 2.4, 4: 4.0, 8: 6.0 };
const MS_PER_AUDIO_SECOND = 10;

function plan(n: number, seconds = 10): PlannedChunk[] {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    start: i * seconds,
    end: (i + 1) * seconds,
    overlapBefore: 0,
    overlapAfter: 0,
    ownStart: i * seconds,
    ownEnd: (i + 1) * seconds,
  }));
}

/** Chunks of the given lengths, back to back. */
function planOf(lengths: number[]): PlannedChunk[] {
  let t = 0;
  return lengths.map((seconds, index) => {
    const chunk = { index, start: t, end: t + seconds, overlapBefore: 0, overlapAfter: 0, ownStart: t, ownEnd: t + seconds };
    t += seconds;
    return chunk;
  });
}

function transcript(req: ChunkRequest, wallMs: number): ChunkTranscript {
  return {
    index: req.chunk.index,
    start: req.chunk.start,
    end: req.chunk.end,
    segments: [{ start: req.chunk.start, end: req.chunk.end, text: `chunk ${req.chunk.index}` }],
    engine: "curve",
    model: "m",
    precision: "segment",
    temperatureRetries: 0,
    timings: { wallMs },
  };
}

function curveEngine(curve: Record<number, number> = PER_WORKER) {
  const seen: { index: number; threads: number; running: number; startedAt: number; endedAt?: number }[] = [];
  let running = 0;
  let threadsRunning = 0;
  let peakThreads = 0;
  const engine: TranscriptionEngine & { seen: typeof seen; peakThreads: () => number } = {
    kind: "local",
    name: "curve",
    model: "m",
    seen,
    peakThreads: () => peakThreads,
    capacity: () => 8,
    resize: async () => undefined,
    dispose: async () => undefined,
    transcribeChunk: async (req) => {
      running++;
      threadsRunning += req.threads ?? 1;
      peakThreads = Math.max(peakThreads, threadsRunning);
      const entry = { index: req.chunk.index, threads: req.threads ?? 1, running, startedAt: Date.now(), endedAt: undefined as number | undefined };
      seen.push(entry);
      const wallMs = ((req.chunk.end - req.chunk.start) / curve[req.threads ?? 1]) * MS_PER_AUDIO_SECOND;
      await new Promise((r) => setTimeout(r, wallMs));
      running--;
      entry.endedAt = Date.now();
      threadsRunning -= req.threads ?? 1;
      return transcript(req, wallMs);
    },
  };
  return engine;
}

const audio = { path: "/dev/null", sampleRate: 16000 as const, samples: 0, duration: 0 };

function input(engine: TranscriptionEngine, extra: Partial<ScheduleInput>): ScheduleInput {
  return {
    file: "f.wav",
    plan: plan(200),
    audio,
    options: { language: "en" },
    engine,
    initialWorkers: 8,
    minWorkers: 1,
    maxWorkers: 8,
    cores: 8,
    backend: "cpu",
    autoAdjust: true,
    timeoutMs: 5000,
    backoffMs: 5,
    ...extra,
  };
}

describe("layout adaptation", () => {
  it("on a CPU, tries only layouts that use every core", () => {
    expect(cpuLayouts(8, 1, 10)).toEqual([1, 2, 4, 8]);
    expect(cpuLayouts(6, 1, 10)).toEqual([1, 2, 3, 6]);
    expect(cpuLayouts(2, 1, 10)).toEqual([1, 2]);
    expect(cpuLayouts(8, 3, 6)).toEqual([4]);
  });

  it("finds 4×2 from 8×1 on a recorded curve, measuring every chunk against the layout it ran under", async () => {
    const engine = curveEngine();
    let polled = 0;
    const r = await runSchedule(
      input(engine, {
        memoryPressure: () => {
          polled++;
          return false;
        },
      }),
    );
    expect(r.results.size).toBe(200);
    expect(r.workers.final).toBe(4);
    expect(r.best?.workers).toBe(4);
    // 8, then 4 (better), then 2 (worse): back to 4 and settled.
    expect(
      Object.keys(r.measured)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([2, 4, 8]);
    expect(r.adaptation.steps.length).toBeGreaterThanOrEqual(3);
    // The layout's threads follow the count: 8 cores / 4 workers = 2 threads per chunk.
    expect(engine.seen.at(-1)!.threads).toBe(2);
    // Going back from 2×4 to 4×2, no 2-thread chunk started while 4-thread ones still ran: ggml's
    // spinning threads make an oversubscribed core many times slower (216 s for a 22 s chunk).
    expect(engine.peakThreads()).toBeLessThanOrEqual(8);
    // Memory is checked after every finished chunk, not twice a job.
    expect(polled).toBe(200);
    expect(r.adaptation.pressureChecks).toBe(200);
  });

  it("on 2 cores, a move to 1 worker × 2 threads leaves no chunk holding 1 thread through it", async () => {
    // One chunk on 2 threads runs 2.4x one thread: 1×2 beats 2×1 by 20%.
    const engine = curveEngine({ 1: 1.0, 2: 2.4 });
    const r = await runSchedule(input(engine, { plan: plan(24), initialWorkers: 2, cores: 2, maxWorkers: 2 }));
    expect(r.results.size).toBe(24);
    expect(r.workers.final).toBe(1);
    expect(r.adaptation.steps).toHaveLength(1);
    // Chunks 0 and 1 measured 2×1; every later chunk waited for that decision and ran on 2 threads.
    // (Without the wait, chunk 2 started on 1 thread as chunk 0 ended and one core idled through it.)
    expect(engine.seen.filter((s) => s.threads === 1).map((s) => s.index)).toEqual([0, 1]);
    expect(engine.peakThreads()).toBeLessThanOrEqual(2);
  });

  it("the core budget makes a chunk wait for threads still held, re-asks its share, and lets cancellation through", async () => {
    const budget = new CoreBudget(2);
    expect(await budget.take(() => 2)).toBe(2);
    let share = 2;
    const waiting = budget.take(() => share);
    share = 1; // the layout changed while it waited
    budget.give(2);
    expect(await waiting).toBe(1);
    const controller = new AbortController();
    await budget.take(() => 1);
    const cancelled = budget.take(() => 2, controller.signal);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: "ABORTED" });
    expect(budget.inUse).toBe(2);
  });

  it("steps back from a worse layout even when too few chunks are left to explore another", async () => {
    // 2 cores where 2 workers × 1 thread beat 1 × 2 by 25%: 6 chunks measure 2×1 (0, 1) and 1×2
    // (2, 3); with 2 chunks left there is no room to explore, but going back needs none.
    const engine = curveEngine({ 1: 1.0, 2: 1.6 });
    const r = await runSchedule(input(engine, { plan: plan(6), initialWorkers: 2, cores: 2, maxWorkers: 2 }));
    expect(r.results.size).toBe(6);
    expect(r.adaptation.steps).toHaveLength(2);
    expect(r.workers.final).toBe(2);
    expect(engine.seen.map((s) => s.threads)).toEqual([1, 1, 2, 2, 1, 1]);
  });

  it("no idle core at the tail: a chunk that starts with no other left takes the cores nothing else could use", async () => {
    // 2 workers × 1 thread; chunk 1 fails once after chunk 0 is done: its retry is the only chunk
    // left, so it runs on both cores (one worker's share would leave the other idle).
    const seen: { index: number; threads: number }[] = [];
    const engine: TranscriptionEngine = {
      kind: "local",
      name: "retry",
      model: "m",
      capacity: () => 2,
      resize: async () => undefined,
      dispose: async () => undefined,
      transcribeChunk: async (req) => {
        seen.push({ index: req.chunk.index, threads: req.threads ?? 1 });
        if (req.chunk.index === 1 && seen.filter((s) => s.index === 1).length === 1) {
          await new Promise((r) => setTimeout(r, 50));
          throw new FleetError("TRANSCRIBE_FAILED", "once", { retryable: true });
        }
        await new Promise((r) => setTimeout(r, 5));
        return transcript(req, 5);
      },
    };
    const r = await runSchedule(input(engine, { plan: plan(2), initialWorkers: 2, cores: 2, maxWorkers: 2, autoAdjust: false }));
    expect(r.results.size).toBe(2);
    expect(seen).toEqual([
      { index: 0, threads: 1 },
      { index: 1, threads: 1 },
      { index: 1, threads: 2 },
    ]);
  });

  it("does not hold a chunk for a decision that waits on a long chunk", async () => {
    // A short first chunk (early text) and a long second one: when chunk 0 ends, the decision waits
    // on chunk 1 for 600 ms more; chunk 2 (600 ms on 1 thread) starts at once rather than leave a
    // core idle that long.
    const engine = curveEngine({ 1: 1.0, 2: 2.4 });
    const r = await runSchedule(input(engine, { plan: planOf([10, 70, 60, 60, 60, 60, 60, 60]), initialWorkers: 2, cores: 2, maxWorkers: 2 }));
    expect(r.results.size).toBe(8);
    const at = (i: number) => engine.seen.find((s) => s.index === i)!;
    expect(at(2).startedAt).toBeLessThan(at(1).endedAt!);
    expect(engine.peakThreads()).toBeLessThanOrEqual(2);
  });

  it("does not explore a layout an earlier job measured clearly worse", async () => {
    const engine = curveEngine();
    const r = await runSchedule(input(engine, { initialWorkers: 4, knownThroughput: { 2: 8, 4: 9.6, 8: 8 } }));
    expect(r.workers.final).toBe(4);
    expect(Object.keys(r.measured)).toEqual(["4"]);
  });

  it("remembers every layout measured and starts the next job at the best", async () => {
    const store = new StatsStore(join(mkdtempSync(join(tmpdir(), "wf-stats-")), "stats.json"));
    await store.remember("k", { measured: { 8: 8.1, 4: 9.5 }, speed: { threads: 2, speed: 2.4 } });
    await store.remember("k", { measured: { 2: 7.9 } });
    const entry = await store.get("k");
    expect(entry).toMatchObject({ workers: 4, throughput: 9.5, layouts: { 2: 7.9, 4: 9.5, 8: 8.1 }, speed: { threads: 2, speed: 2.4 } });
    // A layout measured again is averaged with what was known: one slow job (a busy machine) moves
    // its figure halfway and does not flip the best layout on its own.
    await store.remember("k", { measured: { 4: 7.5 } });
    expect(await store.get("k")).toMatchObject({ workers: 4, throughput: 8.5, layouts: { 2: 7.9, 4: 8.5, 8: 8.1 } });
  });

  it("a figure no job measured lately is stale (sooner where one job alone took it): measured again, it is replaced, not averaged", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "wf-stats-")), "stats.json");
    const store = new StatsStore(path);
    // One job on a busy machine measures 2 × 1 at 16.5; the next ones all run 1 × 2.
    await store.remember("k", { measured: { 2: 16.5 } });
    for (let i = 0; i < RECHECK_ONCE_JOBS - 1; i++) await store.remember("k", { measured: { 1: 18 } });
    let entry = await store.get("k");
    expect(entry).toMatchObject({ workers: 1, jobs: RECHECK_ONCE_JOBS, measuredAt: { 1: RECHECK_ONCE_JOBS, 2: 1 } });
    expect(staleLayouts(entry)).toEqual([]);
    await store.remember("k", { measured: { 1: 18 } });
    entry = await store.get("k");
    // One job alone took 2 × 1's figure: stale after RECHECK_ONCE_JOBS, and the sizing may price it
    // by the prior (workerSizing recheck).
    expect(staleLayouts(entry)).toEqual([2]);
    expect(freshLayouts(entry)).toEqual({ 1: 18 });
    expect(measuredOnce(entry)).toEqual([2]);
    expect(entry?.samples).toEqual({ 1: RECHECK_ONCE_JOBS, 2: 1 });
    // The job that measures it again sets its figure to what it measured: 2 × 1 is the best again.
    await store.remember("k", { measured: { 2: 20.5 } });
    entry = await store.get("k");
    expect(entry).toMatchObject({ workers: 2, throughput: 20.5, layouts: { 1: 18, 2: 20.5 } });
    expect(staleLayouts(entry)).toEqual([]);
    // Measured by two jobs now: its figure alone decides, and goes stale after RECHECK_JOBS.
    expect(measuredOnce(entry)).toEqual([]);
    for (let i = 0; i < RECHECK_JOBS - 1; i++) await store.remember("k", { measured: { 1: 18 } });
    expect(staleLayouts(await store.get("k"))).toEqual([]);
    await store.remember("k", { measured: { 1: 18 } });
    expect(staleLayouts(await store.get("k"))).toEqual([2]);
    // Figures kept before jobs were counted are all stale, and count as one job's.
    const legacy = { workers: 2, throughput: 9, layouts: { 1: 8, 2: 9 }, updatedAt: "" };
    expect(staleLayouts(legacy)).toEqual([1, 2]);
    expect(measuredOnce(legacy)).toEqual([1, 2]);
    // Such a figure measured again was measured by two jobs.
    const legacyPath = join(mkdtempSync(join(tmpdir(), "wf-stats-")), "stats.json");
    writeFileSync(legacyPath, JSON.stringify({ version: 1, entries: { k: legacy } }));
    const merged = await new StatsStore(legacyPath).remember("k", { measured: { 2: 9.4 } });
    expect(merged?.samples).toEqual({ 2: 2 });
    expect(measuredOnce(merged)).toEqual([1]);
  });

  it("one teaching job that measured 2 × 1 on a busy stretch does not keep later jobs on 1 × 2", async () => {
    // The run that found it (AMD, 2 vCPUs): teaching jobs put 2 × 1 at 14.4 s of windows per second
    // (it runs ~20) and 1 × 2 at 16.5. A 7-minute file: 14 windows on 1 × 2, 7.5 a worker on 2 × 1.
    const store = new StatsStore(join(mkdtempSync(join(tmpdir(), "wf-stats-")), "stats.json"));
    const sevenMinutes = async () =>
      sizeWorkers({
        chunks: 2,
        windows: 14,
        minWorkers: 1,
        maxWorkers: 10,
        engine: "local",
        backend: "cpu",
        cores: 2,
        ...sizingFigures(await store.get("k")),
        planCost: (w) => (w === 1 ? 14 : 7.5),
      });
    await store.remember("k", { measured: { 2: 14.4 } });
    await store.remember("k", { measured: { 1: 16.5 } });
    // The next job trusts both figures: 1 × 2.
    expect((await sevenMinutes()).workers).toBe(1);
    await store.remember("k", { measured: { 1: 16.5 } });
    // The one after measures 2 × 1 again: its figure is stale, one job took it, and the prior makes
    // it a close call (2% slower, where the figure says 23%).
    const again = await sevenMinutes();
    expect(again.workers).toBe(2);
    expect(again.steps.at(-1)).toMatchObject({ rule: "recheck", value: 2 });
    // What it measures replaces the bad figure, and 2 × 1 runs from then on.
    await store.remember("k", { measured: { 2: 20.1 } });
    expect((await sevenMinutes()).workers).toBe(2);
  });

  it("measures a layout by the windows its chunks cost, so a short first chunk or a padded last window does not count against it", async () => {
    const climber = new HillClimber({ candidates: [1, 2], min: 1, max: 2, start: 2, window: 2 });
    const adapter = new LayoutAdapter(climber, { explore: true });
    // 2 workers at 7.5 s per window each: a one-window first chunk of 25 s, then 7 windows of 205 s.
    await adapter.afterChunk({ setting: 0, audioSeconds: 25.3, windows: 1, wallMs: 7_500, remaining: 1 }, 2);
    await adapter.afterChunk({ setting: 0, audioSeconds: 205.1, windows: 7, wallMs: 52_500, remaining: 0 }, 2);
    expect(climber.measurements()[2]).toBeCloseTo(8, 5); // 30 s of window per 7.5 s, times 2 workers
    // Without a window count (the cloud), the chunk's audio is its work.
    const cloud = new HillClimber({ min: 1, max: 4, start: 2, window: 1 });
    await new LayoutAdapter(cloud, { explore: true }).afterChunk({ setting: 0, audioSeconds: 60, wallMs: 10_000, remaining: 0 }, 2);
    expect(cloud.measurements()[2]).toBeCloseTo(12, 5);
  });

  it("a job with fewer chunks than a measurement needs still measures its layout when it ends", () => {
    const climber = new HillClimber({ candidates: [1, 2], min: 1, max: 2, start: 1, window: 2 });
    climber.observe(15.9, false);
    expect(climber.measurements()).toEqual({});
    climber.finish();
    expect(climber.measurements()).toEqual({ 1: 15.9 });
    // A count this job measured in full keeps that figure.
    const full = new HillClimber({ candidates: [1, 2], min: 1, max: 2, start: 2, window: 2 });
    full.observe(14, false);
    full.observe(16, false);
    full.observe(30, false);
    full.finish();
    expect(full.measurements()).toEqual({ 2: 15 });
  });

  it("a climber seeded with known figures settles without stepping into them", () => {
    const c = new HillClimber({ candidates: [1, 2, 4, 8], min: 1, max: 8, start: 4, window: 1, known: { 8: 5, 4: 9, 2: 6 } });
    expect(c.observe(9).changed).toBe(false);
    expect(c.exploring).toBe(false);
  });
});

describe("deadlines from the work", () => {
  it("WORKER_TIMEOUT is the floor; above it, 3x what the measured speed needs", () => {
    expect(attemptDeadlineMs({ audioSeconds: 30, speed: 10, floorMs: 300_000 })).toBe(300_000);
    // large-v3 on a CPU at 0.4x realtime: a 300 s chunk needs 750 s; 3x that, not 300 s.
    expect(attemptDeadlineMs({ audioSeconds: 300, speed: 0.4, floorMs: 300_000 })).toBe(2_250_000);
    // Nothing measured yet: a tenth of realtime is allowed, no more.
    expect(attemptDeadlineMs({ audioSeconds: 300, floorMs: 1000 })).toBe((300 / UNMEASURED_SPEED) * 1000);
  });

  it("estimates one worker's speed per thread count from the median chunk, seeded by a remembered figure", () => {
    const s = new SpeedEstimate({ threads: 1, speed: 2 });
    expect(s.at(1)).toBe(2);
    expect(s.at(2)).toBe(2); // more threads: assume no faster (deadlines err long)
    s.record(2, 30, 10_000);
    s.record(2, 30, 5_000);
    s.record(2, 30, 100_000); // an outlier does not move the median much
    expect(s.at(2)).toBeCloseTo(3, 5);
    expect(s.at(1)).toBeCloseTo(1.5, 5);
    expect(s.summary()).toEqual({ threads: 2, speed: 3 });
  });

  it("a chunk that started before any speed was known is stopped once the others show it is stuck", async () => {
    let calls = 0;
    const engine: TranscriptionEngine = {
      kind: "local",
      name: "stuck",
      model: "m",
      capacity: () => 2,
      dispose: async () => undefined,
      transcribeChunk: (req) => {
        calls++;
        if (req.chunk.index === 0 && calls === 1)
          return new Promise((_, reject) => req.signal.addEventListener("abort", () => reject(new FleetError("ABORTED", "stopped"))));
        return new Promise((r) => setTimeout(() => r(transcript(req, 5)), 5));
      },
    };
    const started = Date.now();
    const r = await runSchedule(input(engine, { plan: plan(6, 100), initialWorkers: 2, cores: 2, autoAdjust: false, timeoutMs: 200 }));
    // 100 s of audio at an unknown speed would allow 1000 s; the others ran at 20,000x, so 200 ms it is.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.results.size).toBe(6);
    expect(r.retries).toBe(1);
  });
});

describe("solo tail", () => {
  it("waits for every other chunk, then runs on every core", async () => {
    const engine = curveEngine();
    const chunks = plan(5);
    chunks[4].solo = true;
    await runSchedule(input(engine, { plan: chunks, initialWorkers: 2, maxWorkers: 2, cores: 8, autoAdjust: false }));
    const solo = engine.seen.find((s) => s.index === 4)!;
    expect(solo.running).toBe(1);
    expect(solo.threads).toBe(8);
    expect(engine.seen.filter((s) => s.index !== 4).every((s) => s.threads === 4)).toBe(true);
  });

  it("is not a sample of its layout: a chunk on every core says nothing about one worker's share", async () => {
    // Three chunks and a solo one, as a 3-minute file can be planned for 2 × 1 ([1, 3, 2, 1 solo]
    // windows): 2 workers × 1 thread on 2 cores (10 audio s per 100 ms each, so the pool does 200
    // audio s per s), then the solo chunk on both threads at 2.4x. Counted as the layout's, it
    // would read 480 and make 2 × 1 look faster than it is.
    const engine = curveEngine({ 1: 1.0, 2: 2.4 });
    const chunks = plan(4);
    chunks[3].solo = true;
    const r = await runSchedule(input(engine, { plan: chunks, initialWorkers: 2, maxWorkers: 2, cores: 2 }));
    expect(engine.seen.find((s) => s.index === 3)!.threads).toBe(2);
    expect(r.measured[2]).toBeGreaterThan(150);
    expect(r.measured[2]).toBeLessThan(210);
  });
});

describe("starting the pool", () => {
  it("an out-of-memory on the first resize shrinks the pool and the job goes on", async () => {
    const sizes: number[] = [];
    const engine = {
      ...curveEngine(),
      resize: async (n: number) => {
        sizes.push(n);
        if (n > 2) throw new FleetError("OUT_OF_MEMORY", `no memory for ${n} states`);
      },
    };
    const r = await runSchedule(input(engine, { plan: plan(8), initialWorkers: 4, maxWorkers: 4, cores: 4, autoAdjust: false }));
    expect(sizes.slice(0, 3)).toEqual([4, 3, 2]);
    expect(r.results.size).toBe(8);
    expect(r.workers.final).toBe(2);
    expect(r.fallbacks[0]).toMatchObject({ from: "4 workers", to: "2 worker(s)" });
  });
});
