/**
 * The native engine through its typed wrapper, against the real addon and the synthetic models
 * in ../shared/models. What the synthetic models can show: real compute, real threading, real
 * memory; the text is scripted, so nothing here asserts recognition quality.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { NativeChunk, NativeJobEvent } from "../../src/bindings/addonTypes";
import { loadAddon } from "../../src/bindings/loadAddon";
import { LocalWhisperEngine } from "../../src/core/engines/LocalWhisperEngine";
import { FleetError } from "../../src/core/errors";
import { stitch } from "../../src/core/stitching/stitch";
import { stateBytesBound } from "../../src/core/scheduling/workerSizing";
import { speedToFit, windowsFor } from "../../src/core/planning/windowPlan";
import type { PlannedChunk } from "../../src/core/types";
import { cacheDir, pcm, rawPcmFile } from "../support/audio";
import { jfkWav, lj001, model } from "../support/paths";
import { runUneven, unevenPlan } from "../support/unevenPlan";

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<FleetError> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (e) {
    expect((e as FleetError).code).toBe(code);
    return e as FleetError;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

/** Largest gap between setInterval ticks while `work` runs: proves the event loop keeps turning. */
async function maxEventLoopGap<T>(work: () => Promise<T>): Promise<{ result: T; gap: number; ticks: number }> {
  let last = performance.now();
  let gap = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
    ticks++;
  }, 10);
  try {
    const result = await work();
    return { result, gap, ticks };
  } finally {
    clearInterval(timer);
  }
}

describe("model loading and facts", () => {
  it.each([
    ["tiny.en", "tiny", false, 51864],
    ["base.en", "base", false, 51864],
    ["tiny-ko", "tiny", true, 51865],
  ] as const)("loads %s and reports its facts", async (name, type, multilingual, vocab) => {
    const { result: engine, gap } = await maxEventLoopGap(() => LocalWhisperEngine.load({ modelPath: model(name) }));
    try {
      expect(engine.facts).toMatchObject({ type, multilingual, nMels: 80, nVocab: vocab, nAudioLayer: type === "tiny" ? 4 : 6 });
      expect(engine.facts.weightsBytes).toBeGreaterThan(type === "tiny" ? 60e6 : 120e6);
      const memory = engine.memory();
      expect(memory.workers).toBe(1);
      expect(memory.stateBytes).toBeGreaterThan(10e6);
      expect(gap).toBeLessThan(250);
    } finally {
      await engine.dispose();
    }
  });

  it("reports system info and devices", () => {
    const info = loadAddon().systemInfo();
    expect(info.whisperVersion).toMatch(/^1\.\d+\.\d+/);
    expect(info.devices.some((d) => d.type === "cpu")).toBe(true);
  });

  it("gives every bad model file its coded error, and the process survives", async () => {
    mkdirSync(cacheDir, { recursive: true });
    const empty = join(cacheDir, "empty.bin");
    const truncated = join(cacheDir, "truncated.bin");
    const wrongMagic = join(cacheDir, "wrong-magic.bin");
    writeFileSync(empty, "");
    writeFileSync(truncated, readFileSync(model("tiny.en")).subarray(0, 5_000_000));
    writeFileSync(wrongMagic, Buffer.alloc(4096, 7));
    await expectCode(LocalWhisperEngine.load({ modelPath: join(cacheDir, "missing.bin") }), "MODEL_NOT_FOUND");
    await expectCode(LocalWhisperEngine.load({ modelPath: cacheDir }), "MODEL_NOT_FOUND");
    const e = await expectCode(LocalWhisperEngine.load({ modelPath: empty }), "MODEL_INVALID");
    expect(e.message).toContain(empty);
    await expectCode(LocalWhisperEngine.load({ modelPath: truncated }), "MODEL_INVALID");
    await expectCode(LocalWhisperEngine.load({ modelPath: wrongMagic }), "MODEL_INVALID");
    await expectCode(LocalWhisperEngine.load({ modelPath: 42 as unknown as string }), "INVALID_ARGUMENT");
    // 0 workers is the weights alone (states come with resize); fewer is no count at all.
    await expectCode(LocalWhisperEngine.load({ modelPath: model("tiny.en"), workers: -1 }), "INVALID_ARGUMENT");
    await expectCode(LocalWhisperEngine.load({ modelPath: model("tiny.en"), workers: 1.5 }), "INVALID_ARGUMENT");
  });

  it("rejects with ABORTED when the load is cancelled", async () => {
    const controller = new AbortController();
    const loading = LocalWhisperEngine.load({ modelPath: model("base.en"), signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    const t0 = performance.now();
    await expectCode(loading, "ABORTED");
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe("transcription", () => {
  let engine: LocalWhisperEngine;
  const jfk = () => pcm(jfkWav);

  beforeAll(async () => {
    engine = await LocalWhisperEngine.load({ modelPath: model("tiny.en"), workers: 2 });
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  it("transcribes jfk with segments on the file's timeline, progress monotonic to 100 and chunk-done before settling", async () => {
    const events: NativeJobEvent[] = [];
    let settled = false;
    const { result, gap, ticks } = await maxEventLoopGap(() =>
      engine.transcribe(
        [{ index: 0, offsetMs: 60_000, pcm: jfk() }],
        { tokens: true, tokenTimestamps: true },
        { threads: 2, onEvent: (e) => events.push({ ...e, settled } as never) },
      ),
    );
    settled = true;
    expect(gap).toBeLessThan(250);
    expect(ticks).toBeGreaterThan(10);
    const [r] = result;
    expect(r.segments.length).toBeGreaterThanOrEqual(2);
    expect(r.language).toBe("en");
    for (let i = 0; i < r.segments.length; i++) {
      const s = r.segments[i];
      expect(s.t0Ms).toBeGreaterThanOrEqual(60_000);
      expect(s.t1Ms).toBeGreaterThan(s.t0Ms);
      if (i > 0) expect(s.t0Ms).toBeGreaterThanOrEqual(r.segments[i - 1].t1Ms);
      expect(s.words!.length).toBeGreaterThan(5);
    }
    expect(r.segments[0].text).toContain("Printing");
    expect(r.timings.wallMs).toBeGreaterThan(0);
    expect(r.timings.encodeMs).toBeGreaterThan(0);
    // Each segment is also sent on its own as whisper.cpp finishes it, before the chunk is done, with
    // the same text and times as in the chunk's result.
    const streamed = events.flatMap((e) => (e.type === "segments" ? e.segments : []));
    expect(streamed.map((s) => [s.text, s.t0Ms, s.t1Ms])).toEqual(r.segments.map((s) => [s.text, s.t0Ms, s.t1Ms]));
    const firstSegments = events.findIndex((e) => e.type === "segments");
    expect(firstSegments).toBeGreaterThan(0);
    expect(firstSegments).toBeLessThan(events.findIndex((e) => e.type === "chunkDone"));
    expect(events.filter((e) => e.type === "segments").every((e) => e.chunkIndex === 0 && e.workerId >= 0)).toBe(true);
    const percents = events.filter((e) => e.type !== "chunkStart" && e.type !== "segments").map((e) => e.percent);
    for (let i = 1; i < percents.length; i++) expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1]);
    expect(events[0].type).toBe("chunkStart");
    expect(events.at(-1)).toMatchObject({ type: "chunkDone", percent: 100, settled: false });
  });

  it("reads chunks from a raw file by sample range and places them on the file's timeline", async () => {
    const raw = rawPcmFile(lj001, 180);
    const chunks: NativeChunk[] = [0, 1, 2].map((i) => ({ index: i, offsetMs: i * 60_000, path: raw, sampleOffset: i * 60 * 16000, sampleCount: 60 * 16000 }));
    const results = await engine.transcribe(chunks, {}, { threads: 1 });
    expect(results.map((r) => r.index)).toEqual([0, 1, 2]);
    let last = 0;
    for (const r of results) {
      for (const s of r.segments) {
        expect(s.t0Ms).toBeGreaterThanOrEqual(r.index * 60_000);
        expect(s.t0Ms).toBeGreaterThanOrEqual(last - 1);
        last = s.t1Ms;
      }
    }
  });

  it("runs exactly the windows the planner counts for a chunk's length (whisper.cpp stops 0.1 s before a window, not 1 s)", async () => {
    const raw = rawPcmFile(lj001, 180);
    // Either side of a window boundary: 30.04 s is one window, 30.3 s is two (a second of grace
    // would have called it one), 60.02 s two, 61 s three.
    const lengths = [29.5, 30.04, 30.3, 60.02, 61];
    const chunks: NativeChunk[] = lengths.map((seconds, i) => ({
      index: i,
      offsetMs: 0,
      path: raw,
      sampleOffset: 0,
      sampleCount: Math.round(seconds * 16000),
    }));
    const results = await engine.transcribe(chunks, {}, { threads: 1 });
    expect(results.map((r) => r.windows)).toEqual([1, 1, 2, 2, 3]);
    expect(results.map((r) => r.windows)).toEqual(lengths.map((seconds) => windowsFor(seconds)));
  });

  it("ends a running chunk early at a window boundary once its text reaches the stop point (stopAt), and says where", async () => {
    const raw = rawPcmFile(lj001, 180);
    const chunk: NativeChunk = { index: 7, offsetMs: 10_000, path: raw, sampleOffset: 10 * 16000, sampleCount: 150 * 16000 };
    const whole = await engine.transcribe([chunk], {}, { threads: 1 });
    expect(whole[0].windows).toBe(5);
    expect(whole[0].stoppedAtMs).toBeUndefined();
    // Runs the chunk, asking it to stop at `atMs` once its first window's text is out.
    let stop: ((atMs: number) => boolean) | undefined;
    const stoppedAt = async (atMs: number) => {
      let asked: boolean | undefined;
      const [result] = await engine.transcribe(
        [chunk],
        {},
        {
          threads: 1,
          onStoppable: (s) => (stop = s),
          onEvent: (e) => {
            if (e.type === "segments" && asked === undefined) asked = stop!(atMs);
          },
        },
      );
      return { asked, result };
    };
    // At 75 s: the window 70–100 s still runs (its text ends at 100 s), the two after it do not.
    const early = await stoppedAt(75_000);
    expect(early.asked).toBe(true);
    expect(early.result.windows).toBe(3);
    expect(early.result.stoppedAtMs).toBe(100_000);
    expect(early.result.segments.at(-1)!.t1Ms).toBe(100_000);
    expect(early.result.segments.map((s) => [s.text, s.t0Ms])).toEqual(whole[0].segments.slice(0, early.result.segments.length).map((s) => [s.text, s.t0Ms]));
    // A stop point the text has already passed ends it before its next window (the one after the
    // first, or the one after that when the ask arrives as it begins); a finished job says false.
    const late = await stoppedAt(0);
    expect(late.asked).toBe(true);
    expect(late.result.windows).toBeLessThanOrEqual(2);
    expect(late.result.stoppedAtMs).toBe(late.result.segments.at(-1)!.t1Ms);
    expect(stop!(0)).toBe(false);
    const native = (engine as unknown as { native: { stopAt(id: unknown, ms: unknown): boolean } }).native;
    expect(native.stopAt(123456, 1000)).toBe(false);
    expect(() => native.stopAt(1, -5)).toThrow(/atMs/);
    expect(() => native.stopAt("x", 5)).toThrow(/jobId/);
  });

  it("the scheduler splits a long chunk with the worker a short one left idle: both workers busy, the text whole and in order", async () => {
    const raw = rawPcmFile(lj001, 240);
    const audio = { path: raw, sampleRate: 16000 as const, samples: 240 * 16000, duration: 240 };
    const plan = unevenPlan;
    const run = (splitTail: boolean) => runUneven(engine, audio, { splitTail });
    const split = await run(true);
    const long = split.metrics.find((m) => m.index === 1)!;
    expect(long.pieces).toBe(2);
    // 7 windows alone; split, the owner keeps 4 and the helper takes the rest with the overlap: 4.
    expect(long.windows).toBe(8);
    expect(Math.min(...split.laneBusyMs)).toBeGreaterThan(0.6 * Math.max(...split.laneBusyMs));
    const whole = await run(false);
    expect(whole.metrics.find((m) => m.index === 1)).toMatchObject({ windows: 7 });
    expect(whole.metrics.find((m) => m.index === 1)!.pieces).toBeUndefined();
    // The same script either way: every window says its three sentences, in order, up to the end.
    for (const r of [split, whole]) {
      const { segments, gaps } = stitch(plan, r.results, r.failures);
      expect(gaps).toEqual([]);
      for (let i = 1; i < segments.length; i++) expect(segments[i].start).toBeGreaterThanOrEqual(segments[i - 1].end);
      expect(segments.at(-1)!.end).toBeGreaterThan(235);
      const text = segments.map((s) => s.text).join(" ");
      expect(text.match(/Printing, in the only sense/g)!.length).toBeGreaterThanOrEqual(7);
    }
  });

  it("plays a sped-up chunk faster: the windows the planner counts for it, and its times back on the file's timeline", async () => {
    const raw = rawPcmFile(lj001, 180);
    const audio = { path: raw, sampleRate: 16000 as const, samples: 180 * 16000, duration: 180 };
    // 61.5 s from 10 s on: three windows as recorded, two when played 2.5% faster.
    const base = { index: 0, start: 10, end: 71.5, overlapBefore: 0, overlapAfter: 0, ownStart: 10, ownEnd: 71.5 };
    const speed = speedToFit(61.5, 1.03);
    expect(speed).toBeGreaterThan(1.02);
    expect(speed).toBeLessThanOrEqual(1.03);
    const run = (chunk: PlannedChunk) => engine.transcribeChunk({ chunk, audio, options: {}, signal: new AbortController().signal, threads: 1 });
    const [asRecorded, fast] = await Promise.all([run(base), run({ ...base, speed })]);
    expect(asRecorded.windows).toBe(3);
    expect(fast.windows).toBe(2);
    expect(fast.windows).toBe(windowsFor(61.5, 1.03));
    expect(fast.speed).toBe(speed);
    // The scripted first window says the same at either speed; its times stretch back by `speed`.
    const since = (t: number) => t - base.start;
    for (let i = 0; i < 3; i++) {
      expect(since(fast.segments[i].end) / since(asRecorded.segments[i].end)).toBeCloseTo(speed, 3);
      expect(fast.segments[i].text).toBe(asRecorded.segments[i].text);
    }
    // Everything inside the chunk's own audio, the last words reaching its end.
    for (const s of fast.segments) {
      expect(s.start).toBeGreaterThanOrEqual(base.start);
      expect(s.end).toBeLessThanOrEqual(base.end);
      for (const w of s.words ?? []) expect(w.end).toBeLessThanOrEqual(base.end);
    }
    expect(fast.segments.at(-1)!.end).toBeGreaterThan(base.end - 1);
  });

  it("runs workers concurrently, with results identical to a one-worker run", async () => {
    const raw = rawPcmFile(lj001, 180);
    const chunks: NativeChunk[] = [0, 1, 2, 3].map((i) => ({
      index: i,
      offsetMs: i * 30_000,
      path: raw,
      sampleOffset: i * 30 * 16000,
      sampleCount: 30 * 16000,
    }));
    const parallel = await engine.transcribe(chunks, {}, { threads: 1 });
    const intervals = parallel.map((r) => [r.timings.startedAtMs, r.timings.startedAtMs + r.timings.wallMs] as const);
    let overlap = 0;
    for (let i = 0; i < intervals.length; i++)
      for (let j = i + 1; j < intervals.length; j++)
        overlap += Math.max(0, Math.min(intervals[i][1], intervals[j][1]) - Math.max(intervals[i][0], intervals[j][0]));
    const busy = intervals.reduce((n, [a, b]) => n + (b - a), 0);
    // Two workers: about half of all busy time overlaps with another chunk.
    expect(overlap / busy).toBeGreaterThan(0.3);
    expect(new Set(parallel.map((r) => r.workerId)).size).toBe(2);

    const single = await LocalWhisperEngine.load({ modelPath: model("tiny.en"), workers: 1 });
    try {
      const sequential = await single.transcribe(chunks, {}, { threads: 1 });
      const strip = (rs: typeof parallel) => rs.map((r) => r.segments.map((s) => [s.t0Ms, s.t1Ms, s.text]));
      expect(strip(sequential)).toEqual(strip(parallel));
      const seqIntervals = sequential.map((r) => [r.timings.startedAtMs, r.timings.startedAtMs + r.timings.wallMs]);
      for (let i = 1; i < seqIntervals.length; i++) expect(seqIntervals[i][0]).toBeGreaterThanOrEqual(seqIntervals[i - 1][1] - 1);
    } finally {
      await single.dispose();
    }
  });

  it("resizes the pool between and during jobs", async () => {
    const raw = rawPcmFile(lj001, 180);
    const chunks: NativeChunk[] = [0, 1, 2, 3].map((i) => ({
      index: i,
      offsetMs: i * 15_000,
      path: raw,
      sampleOffset: i * 15 * 16000,
      sampleCount: 15 * 16000,
    }));
    const job = engine.transcribe(chunks, {}, { threads: 1 });
    await engine.resize(3); // grows while the job runs
    expect(engine.workers).toBe(3);
    const results = await job;
    expect(results).toHaveLength(4);
    await engine.resize(2);
    expect(engine.workers).toBe(2);
  });

  it("shrinks without waiting for the retiring worker's chunk, and loses none of it", async () => {
    // Waiting would hold one of libuv's four pool threads (every fs call of the process) for up to a
    // whole chunk: the retiring worker finishes its chunk on its own and is joined later.
    const raw = rawPcmFile(lj001, 240);
    const chunks: NativeChunk[] = [0, 1].map((i) => ({ index: i, offsetMs: i * 120_000, path: raw, sampleOffset: i * 120 * 16000, sampleCount: 120 * 16000 }));
    const order: string[] = [];
    let started = 0;
    let bothRunning!: () => void;
    const running = new Promise<void>((resolve) => (bothRunning = resolve));
    const job = engine.transcribe(
      chunks,
      {},
      {
        threads: 1,
        onEvent: (e) => {
          if (e.type === "chunkStart" && ++started === 2) bothRunning();
          if (e.type === "chunkDone") order.push(`chunk ${e.chunkIndex} done`);
        },
      },
    );
    await running;
    await engine.resize(1);
    order.push("shrunk");
    expect(engine.workers).toBe(1);
    const results = await job;
    expect(results.map((r) => r.index).sort()).toEqual([0, 1]);
    expect(order[0]).toBe("shrunk"); // before either 4-window chunk ended
    await engine.resize(2); // and grows again; the retired worker is joined on the way
    expect(engine.workers).toBe(2);
    const [again] = await engine.transcribe([{ index: 0, offsetMs: 0, pcm: jfk() }], {}, { threads: 1 });
    expect(again.segments.length).toBeGreaterThan(0);
  });

  it("cancels a running job within a second and keeps working afterwards", async () => {
    const controller = new AbortController();
    const raw = rawPcmFile(lj001, 180);
    const job = engine.transcribe(
      [{ index: 0, offsetMs: 0, path: raw, sampleOffset: 0, sampleCount: 180 * 16000 }],
      {},
      { threads: 1, signal: controller.signal },
    );
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    controller.abort();
    await expectCode(job, "ABORTED");
    expect(performance.now() - t0).toBeLessThan(1000);
    const [again] = await engine.transcribe([{ index: 0, offsetMs: 0, pcm: jfk() }], {}, { threads: 1 });
    expect(again.segments.length).toBeGreaterThan(0);
  });

  it("runs two jobs at once on shared workers (queued in arrival order)", async () => {
    // Two workers, three chunks: A's chunk and B's first start at once (in either order: two threads),
    // and B's second waits for a free worker; first come, first served.
    const started: string[] = [];
    const onEvent = (job: string) => (e: NativeJobEvent) => void (e.type === "chunkStart" && started.push(`${job}${e.chunkIndex}`));
    const a = engine.transcribe([{ index: 0, offsetMs: 0, pcm: jfk() }], {}, { threads: 1, onEvent: onEvent("A") });
    const b = engine.transcribe(
      [
        { index: 0, offsetMs: 0, pcm: jfk() },
        { index: 1, offsetMs: 11_000, pcm: jfk() },
      ],
      {},
      { threads: 1, onEvent: onEvent("B") },
    );
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toHaveLength(1);
    expect(rb.map((r) => r.index).sort()).toEqual([0, 1]);
    expect(started.slice(0, 2).sort()).toEqual(["A0", "B0"]);
    expect(started[2]).toBe("B1");
  });

  it("gives every bad input its coded error, and the process survives", async () => {
    const bad: [() => Promise<unknown>, string][] = [
      [() => engine.transcribe([], {}), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: new Float32Array(0) }]), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: Float32Array.from([0, Number.NaN, 0, ...new Array(16000).fill(0)]) }]), "INVALID_AUDIO"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: Float32Array.from([Infinity, ...new Array(16000).fill(0)]) }]), "INVALID_AUDIO"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: [1, 2, 3] as unknown as Float32Array }]), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: new Float64Array(100) as unknown as Float32Array }]), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, path: rawPcmFile(jfkWav), sampleOffset: 0, sampleCount: 1e12 }]), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, path: rawPcmFile(jfkWav), sampleOffset: 0, sampleCount: 16000 * 60 }]), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, path: join(cacheDir, "nope.f32"), sampleOffset: 0, sampleCount: 16000 }]), "AUDIO_READ_FAILED"],
      [() => engine.transcribe([{ index: 0, offsetMs: -5, pcm: jfk() }]), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: jfk(), speed: 0.97 }]), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: jfk(), speed: Number.NaN }]), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, path: rawPcmFile(jfkWav), sampleOffset: 0, sampleCount: 16000, speed: 3 }]), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: jfk() }], { language: "klingon" }), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: jfk() }], { beamSize: 99 }), "INVALID_ARGUMENT"],
      [() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: jfk() }], { threads: "4" as unknown as number }), "INVALID_ARGUMENT"],
      [() => engine.transcribe("nope" as unknown as NativeChunk[]), "INVALID_ARGUMENT"],
      [() => engine.resize(0), "INVALID_ARGUMENT"],
      [() => engine.resize(2.5), "INVALID_ARGUMENT"],
    ];
    for (const [call, code] of bad) await expectCode(call, code);
    // Very short audio (50 ms) is not an error: whisper.cpp returns no segments.
    const [short] = await engine.transcribe([{ index: 0, offsetMs: 0, pcm: new Float32Array(800) }]);
    expect(short.segments).toEqual([]);
    // The engine still works after all of that.
    const [ok] = await engine.transcribe([{ index: 0, offsetMs: 0, pcm: jfk() }], {}, { threads: 2 });
    expect(ok.segments.length).toBeGreaterThan(0);
  });

  it("validates raw addon arguments natively too (no crash on wrong types)", async () => {
    const addon = loadAddon();
    expect(() => new addon.WhisperModel(undefined as unknown as string)).toThrow(/Expected a model file path for path/);
    const m = new addon.WhisperModel(model("tiny.en"));
    expect(() => m.transcribe(1, [], {})).toThrow(expect.objectContaining({ code: "MODEL_NOT_LOADED" }));
    await m.load();
    expect(() => m.transcribe(1, [{ index: 0, offsetMs: 0, pcm: new Float32Array(10) }], {})).toThrow(expect.objectContaining({ code: "NO_WORKERS" }));
    expect(() => m.transcribe("x" as unknown as number, [], {})).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => m.resize(-1)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => (m as unknown as { load(): unknown }).load()).toThrow(expect.objectContaining({ code: "INVALID_STATE" }));
    await m.dispose();
    await m.dispose(); // idempotent
    expect(() => m.facts()).toThrow(expect.objectContaining({ code: "DISPOSED" }));
  });
});

describe("lifecycle and memory", () => {
  it("dispose during a job rejects it with DISPOSED and frees everything; later calls say DISPOSED", async () => {
    const engine = await LocalWhisperEngine.load({ modelPath: model("tiny.en"), workers: 2 });
    const raw = rawPcmFile(lj001, 180);
    const job = engine.transcribe([{ index: 0, offsetMs: 0, path: raw, sampleOffset: 0, sampleCount: 120 * 16000 }], {}, { threads: 1 });
    const outcome = job.then(
      () => undefined,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 800));
    const t0 = performance.now();
    await engine.dispose();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(await outcome).toMatchObject({ code: "DISPOSED" });
    await expectCode(() => engine.transcribe([{ index: 0, offsetMs: 0, pcm: new Float32Array(16000) }]), "DISPOSED");
    await engine.dispose();
  });

  it("a resize still running when the model is disposed ends with the pool or DISPOSED, never a freed pool", async () => {
    // The resize runs on one libuv thread and the dispose on another: the dispose waits for a growing
    // resize, then frees the pool while the resize still reads it (race-timed; this repeats it).
    const outcomes = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const m = new (loadAddon().WhisperModel)(model("tiny.en"));
      await m.load();
      const resizing = m.resize(1 + (i % 3)).then(
        (r) => `workers ${r.workers}`,
        (e: { code?: string }) => e.code ?? String(e),
      );
      if (i % 2) await new Promise((r) => setTimeout(r, i % 5));
      await m.dispose();
      outcomes.add((await resizing).replace(/\d+/, "n"));
    }
    expect([...outcomes].every((o) => o === "workers n" || o === "DISPOSED")).toBe(true);
  });

  it("four workers share one model: reported bytes and process RSS stay far below four loaded models", async () => {
    const rssBefore = process.memoryUsage().rss;
    const engine = await LocalWhisperEngine.load({ modelPath: model("base.en"), workers: 4 });
    try {
      const raw = rawPcmFile(lj001, 180);
      const chunks: NativeChunk[] = [0, 1, 2, 3].map((i) => ({
        index: i,
        offsetMs: i * 10_000,
        path: raw,
        sampleOffset: i * 10 * 16000,
        sampleCount: 10 * 16000,
      }));
      await engine.transcribe(chunks, {}, { threads: 1 }); // touch every worker's buffers
      const m = engine.memory();
      expect(m.workers).toBe(4);
      const fourModels = 4 * (m.weightsBytes + m.stateBytes);
      expect(m.totalBytes).toBe(m.weightsBytes + 4 * m.stateBytes);
      expect(m.totalBytes).toBeLessThan(fourModels * 0.75);
      const rssGrowth = process.memoryUsage().rss - rssBefore;
      console.log(
        `memory: weights ${(m.weightsBytes / 1e6).toFixed(1)} MB, state ${(m.stateBytes / 1e6).toFixed(1)} MB/worker, reported total ${(m.totalBytes / 1e6).toFixed(1)} MB, four models ${(fourModels / 1e6).toFixed(1)} MB, RSS growth ${(rssGrowth / 1e6).toFixed(1)} MB`,
      );
      // Generous bound: one copy of the weights plus four states, with 50% slack for allocator overhead.
      expect(rssGrowth).toBeLessThan(1.5 * m.totalBytes);
      expect(rssGrowth).toBeLessThan(fourModels);
    } finally {
      await engine.dispose();
    }
  });

  it("a model loaded with no workers holds no state; each model's state, measured once created, stays inside the bound the sizing plans by before one exists", async () => {
    const lines: string[] = [];
    for (const name of ["tiny.en", "base.en", "tiny-ko", "base-ko"] as const) {
      // Without flash attention a state also holds the encoder's attention matrices: its largest case.
      for (const flashAttn of [true, false]) {
        const m = new (loadAddon().WhisperModel)(model(name), { flashAttn });
        try {
          await m.load();
          expect(m.memory()).toMatchObject({ workers: 0, stateBytes: 0 });
          await m.resize(1);
          const { weightsBytes, stateBytes } = m.memory();
          expect(stateBytes).toBeGreaterThan(50e6);
          expect(stateBytes).toBeLessThan(stateBytesBound(weightsBytes));
          lines.push(
            `${name}${flashAttn ? "" : " (no flash attention)"}: state ${(stateBytes / 2 ** 20).toFixed(0)} MiB, bound ${(stateBytesBound(weightsBytes) / 2 ** 20).toFixed(0)} MiB`,
          );
        } finally {
          await m.dispose();
        }
      }
    }
    const engine = await LocalWhisperEngine.load({ modelPath: model("tiny.en"), workers: 0 });
    expect(engine.memory()).toMatchObject({ workers: 0, stateBytes: 0 });
    await engine.dispose();
    console.log(lines.join("; "));
  });
});
