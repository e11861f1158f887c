/**
 * Splitting a running chunk with a worker that ran out of work: where the split goes (pure), and the
 * scheduler doing it with an engine double that decodes in 30-second windows as whisper.cpp does
 * (test/native/engine.test.ts checks the addon's stopAt itself; the pipeline tests run it end to end).
 */
import { describe, expect, it } from "vitest";

import type { ChunkRequest, TranscriptionEngine } from "../../src/core/engines/engine";
import { FleetError } from "../../src/core/errors";
import { splitPoint } from "../../src/core/scheduling/tailSplit";
import { stitch } from "../../src/core/stitching/stitch";
import type { ChunkTranscript, PlannedChunk, Segment } from "../../src/core/types";
import { runUneven, unevenPlan } from "../support/unevenPlan";

describe("where to split (splitPoint)", () => {
  const piece = (heardTo: number, end = 240) => ({ start: 30, end, heardTo, runningMs: heardTo > 30 ? ((heardTo - 30) / 10) * 1000 : 0, sinceHeardMs: 0 });

  it("gives an idle worker about half of a long rest, in whole windows, and both end sooner", () => {
    const s = splitPoint({ piece: piece(30), ownerSpeed: 10, helperSpeed: 10, halfOverlap: 2.5 })!;
    // 210 s left: 7 windows alone (21 s); split, 4 windows each (12 s).
    expect(s.alone).toBeCloseTo(21);
    expect(s.together).toBeCloseTo(12);
    expect(s.at).toBeGreaterThan(100);
    expect(s.at).toBeLessThan(160);
  });

  it("gives a faster helper more, a slower one less", () => {
    const even = splitPoint({ piece: piece(30, 630), ownerSpeed: 10, helperSpeed: 10, halfOverlap: 2.5 })!;
    const fast = splitPoint({ piece: piece(30, 630), ownerSpeed: 10, helperSpeed: 14, halfOverlap: 2.5 })!;
    const slow = splitPoint({ piece: piece(30, 630), ownerSpeed: 10, helperSpeed: 7, halfOverlap: 2.5 })!;
    expect(fast.at).toBeLessThan(even.at);
    expect(slow.at).toBeGreaterThan(even.at);
    expect(fast.together).toBeLessThan(even.together);
  });

  it("splits two windows left into one each, but not the last window", () => {
    expect(splitPoint({ piece: piece(200), ownerSpeed: 10, helperSpeed: 10, halfOverlap: 2.5 })).toMatchObject({ alone: 6, together: 3 });
    expect(splitPoint({ piece: piece(212), ownerSpeed: 10, helperSpeed: 10, halfOverlap: 2.5 })).toBeUndefined();
  });

  it("counts the windows of a sped-up chunk as it is played: 30.6 s at 1.02x is the last window", () => {
    const left = { start: 58.8, end: 120, heardTo: 89.4, runningMs: 3000, sinceHeardMs: 100 };
    expect(splitPoint({ piece: left, ownerSpeed: 10, helperSpeed: 10, halfOverlap: 2.5, playSpeed: 1.02 })).toBeUndefined();
    expect(splitPoint({ piece: left, ownerSpeed: 10, helperSpeed: 10, halfOverlap: 2.5 })).toBeDefined();
  });

  it("does not split what would not end sooner", () => {
    // A helper far slower than the owner would end last.
    expect(splitPoint({ piece: piece(30, 120), ownerSpeed: 10, helperSpeed: 2, halfOverlap: 2.5 })).toBeUndefined();
    expect(splitPoint({ piece: piece(30, 120), ownerSpeed: 10, helperSpeed: 0, halfOverlap: 2.5 })).toBeUndefined();
  });
});

/**
 * An engine double that decodes like whisper.cpp: window after window from the chunk's start, each
 * `msPerWindow` long, its text one word per second of audio ("w30 w31 …", each word at its time);
 * it can be told to stop (StopControl) and then ends at the window whose text reaches the point.
 */
function windowedEngine(msPerWindow: number | ((req: ChunkRequest, window: number) => number)) {
  const calls: { start: number; end: number; windows: number }[] = [];
  const engine: TranscriptionEngine = {
    kind: "local",
    name: "windowed",
    model: "m",
    capacity: () => 2,
    dispose: async () => undefined,
    transcribeChunk: async (req: ChunkRequest): Promise<ChunkTranscript> => {
      const { start, end: audioEnd } = req.chunk;
      let end = audioEnd;
      let stopAt: number | undefined;
      let done = false;
      req.onStoppable?.({
        stopAt: (at) => {
          if (done || !(at > start && at < end)) return false;
          stopAt = at;
          end = at;
          return true;
        },
      });
      const segments: Segment[] = [];
      let seek = start;
      let windows = 0;
      const started = Date.now();
      const ms = () => (typeof msPerWindow === "number" ? msPerWindow : msPerWindow(req, windows));
      while (seek < audioEnd - 0.1 && !(stopAt !== undefined && windows > 0 && seek >= stopAt)) {
        await new Promise((r) => setTimeout(r, ms()));
        if (req.signal.aborted) throw new Error("aborted");
        const to = Math.min(audioEnd, seek + 30);
        const words = [];
        for (let t = Math.ceil(seek); t < to; t++) words.push({ text: `w${t}`, start: t, end: t + 0.8 });
        const segment = { start: seek, end: to, text: words.map((w) => w.text).join(" "), words };
        segments.push(segment);
        req.onSegments?.([segment]);
        seek = to;
        windows++;
      }
      done = true;
      calls.push({ start, end, windows });
      const kept = segments
        .map((s) => ({ ...s, words: s.words!.filter((w) => w.start < end) }))
        .filter((s) => s.words.length)
        .map((s) => ({ ...s, end: Math.min(s.end, end), text: s.words.map((w) => w.text).join(" ") }));
      return {
        index: req.chunk.index,
        start,
        end,
        segments: kept,
        engine: "local",
        model: "m",
        precision: "word",
        temperatureRetries: 0,
        windows,
        timings: { wallMs: Date.now() - started, startedAt: started },
      };
    },
  };
  return { engine, calls };
}

describe("an idle worker takes the rest of a running chunk (scheduler)", () => {
  const plan = unevenPlan;
  const audio = { path: "/dev/null", sampleRate: 16000 as const, samples: 240 * 16000, duration: 240 };
  const run = (engine: TranscriptionEngine, splitTail: boolean) => runUneven(engine, audio, { splitTail });

  it("splits the long chunk once the short one is done: two pieces, every word once, in order", async () => {
    const { engine, calls } = windowedEngine(60);
    const r = await run(engine, true);
    const metric = r.metrics.find((m) => m.index === 1)!;
    expect(metric.pieces).toBe(2);
    expect(calls).toHaveLength(3);
    // The owner ran 4 of the 7 windows, the helper the other 3 and a bit of overlap: 4 windows.
    const owner = calls.find((c) => c.start === 30)!;
    const helper = calls.find((c) => c.start > 30)!;
    expect(owner.windows).toBeLessThan(7);
    expect(helper.end).toBe(240);
    expect(helper.start).toBeLessThan(owner.end);
    expect(r.metrics.find((m) => m.index === 1)!.windows).toBe(owner.windows + helper.windows);
    const words = stitch(plan, r.results).segments.flatMap((s) => s.words!.map((w) => w.text));
    expect(words).toEqual(Array.from({ length: 240 }, (_, t) => `w${t}`));
    // Both lanes worked most of the job.
    expect(Math.min(...r.laneBusyMs)).toBeGreaterThan(0.5 * Math.max(...r.laneBusyMs));
  });

  it("with WHISPER_FLEET_SPLIT_TAIL off, the long chunk runs whole on one worker", async () => {
    const { engine, calls } = windowedEngine(20);
    const r = await run(engine, false);
    expect(r.metrics.find((m) => m.index === 1)!.pieces).toBeUndefined();
    expect(calls.map((c) => c.windows).sort()).toEqual([1, 7]);
    const words = stitch(plan, r.results).segments.flatMap((s) => s.words!.map((w) => w.text));
    expect(words).toEqual(Array.from({ length: 240 }, (_, t) => `w${t}`));
  });

  it("a helper that fails fails the chunk's attempt, and the retry still leaves every word once", async () => {
    const { engine } = windowedEngine(40);
    const inner = engine.transcribeChunk.bind(engine);
    let failed = 0;
    engine.transcribeChunk = async (req) => {
      if (req.chunk.start > 30 && req.chunk.start < 200 && failed++ === 0) throw new FleetError("DECODE_FAILED", "helper broke", { retryable: true });
      return inner(req);
    };
    const r = await runUneven(engine, audio, { backoffMs: 1 });
    expect(failed).toBeGreaterThan(0);
    expect([...r.failures.values()]).toEqual([]);
    expect(r.metrics.find((m) => m.index === 1)!.attempts).toBe(2);
    const words = stitch(plan, r.results).segments.flatMap((s) => s.words!.map((w) => w.text));
    expect(words).toEqual(Array.from({ length: 240 }, (_, t) => `w${t}`));
  });

  it("a helper's piece split again while the chunk waits for it still gives every word once", async () => {
    // The first helper slows down 10x after its second window (a vCPU the host slows): once the
    // owner's piece ends, its worker takes part of the helper's rest, and when that is done, part
    // of what is still left: a fourth piece joins while the chunk already waits for the others.
    const long: PlannedChunk[] = [
      { index: 0, start: 0, end: 30, ownStart: 0, ownEnd: 30, overlapBefore: 0, overlapAfter: 0 },
      { index: 1, start: 30, end: 480, ownStart: 30, ownEnd: 480, overlapBefore: 0, overlapAfter: 0 },
    ];
    let slow: number | undefined;
    const { engine, calls } = windowedEngine((req, window) => {
      if (req.chunk.start > 30) slow ??= req.chunk.start;
      return req.chunk.start === slow && window >= 2 ? 200 : 20;
    });
    const r = await runUneven(engine, { ...audio, samples: 480 * 16000, duration: 480 }, { plan: long });
    expect([...r.failures.values()]).toEqual([]);
    expect(r.metrics.find((m) => m.index === 1)!.pieces).toBeGreaterThanOrEqual(4);
    expect(calls).toHaveLength(r.metrics.reduce((n, m) => n + (m.pieces ?? 1), 0));
    const words = stitch(long, r.results).segments.flatMap((s) => s.words!.map((w) => w.text));
    expect(words).toEqual(Array.from({ length: 480 }, (_, t) => `w${t}`));
  });

  it("splits a chunk on a slow worker while a solo last chunk waits, and the solo chunk runs after every piece, on both cores", async () => {
    // 6 + 6 windows and a solo one; the worker that takes chunk 1 runs 3x slower (a vCPU the host slows).
    const solo: PlannedChunk[] = [
      { index: 0, start: 0, end: 180, ownStart: 0, ownEnd: 180, overlapBefore: 0, overlapAfter: 0 },
      { index: 1, start: 180, end: 360, ownStart: 180, ownEnd: 360, overlapBefore: 0, overlapAfter: 0 },
      { index: 2, start: 360, end: 390, ownStart: 360, ownEnd: 390, overlapBefore: 0, overlapAfter: 0, solo: true },
    ];
    const { engine, calls } = windowedEngine((req) => (req.chunk.start === 180 ? 60 : 20));
    const seen: { start: number; threads?: number; at: number }[] = [];
    const inner = engine.transcribeChunk.bind(engine);
    engine.transcribeChunk = async (req) => {
      const t = await inner(req);
      seen.push({ start: req.chunk.start, threads: req.threads, at: Date.now() });
      return t;
    };
    const r = await runUneven(engine, { ...audio, samples: 390 * 16000, duration: 390 }, { plan: solo });
    expect(r.metrics.find((m) => m.index === 1)!.pieces).toBeGreaterThanOrEqual(2);
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ start: 360, threads: 2 });
    expect(seen.slice(0, -1).every((s) => s.at <= last.at)).toBe(true);
    expect(calls).toHaveLength(r.metrics.reduce((n, m) => n + (m.pieces ?? 1), 0));
    const words = stitch(solo, r.results).segments.flatMap((s) => s.words!.map((w) => w.text));
    expect(words).toEqual(Array.from({ length: 390 }, (_, t) => `w${t}`));
  });
});
