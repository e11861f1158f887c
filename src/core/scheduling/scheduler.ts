/**
 * The scheduler: runs a plan's chunks on an engine with a dynamic number of workers, per-chunk
 * timeouts, retries with backoff, the single-worker fallback, engine fallback, the resume cache,
 * and one progress model. No chunk is lost: each ends transcribed or as a named failure.
 */
import pLimit from "p-limit";

import type { ChunkRequest, DecodedAudio, TranscribeOptions, TranscriptionEngine } from "../engines/engine";
import { abortableSleep, abortError, FleetError, toFleetError, type ErrorCode } from "../errors";
import type { ChunkFailure } from "../stitching/stitch";
import type { ChunkMetric, ChunkTranscript, FallbackRecord, PlannedChunk } from "../types";
import { HillClimber } from "./hillClimber";
import { estimateEta, type ProgressSnapshot, type WorkerLane } from "./progress";
import type { ResumeCache } from "./resumeCache";
import { threadsFor } from "./workerSizing";

/** Errors that mean the engine cannot run at all: no point retrying chunk by chunk. */
const ENGINE_FATAL = new Set<ErrorCode>([
  "MODEL_NOT_FOUND",
  "MODEL_INVALID",
  "ADDON_NOT_FOUND",
  "ADDON_LOAD_FAILED",
  "OUT_OF_MEMORY",
  "ENGINE_UNAVAILABLE",
  "CLOUD_AUTH",
  "CLOUD_QUOTA",
  "CLOUD_MODEL_NOT_FOUND",
  "CLOUD_NOT_CONFIGURED",
]);

export interface ScheduleInput {
  file: string;
  plan: PlannedChunk[];
  audio: DecodedAudio;
  options: TranscribeOptions;
  engine: TranscriptionEngine;
  /** Where the remaining chunks go when `engine` cannot run at all (created on first need). */
  fallback?: () => Promise<TranscriptionEngine>;
  initialWorkers: number;
  minWorkers: number;
  maxWorkers: number;
  cores: number;
  autoAdjust: boolean;
  /** Per-chunk attempt timeout (WORKER_TIMEOUT). */
  timeoutMs: number;
  maxAttempts?: number;
  backoffMs?: number;
  cache?: { store: ResumeCache; keyFor(chunk: PlannedChunk, engine: TranscriptionEngine): string | Promise<string> };
  signal?: AbortSignal;
  onProgress?: (snapshot: ProgressSnapshot) => void;
  onChunk?: (transcript: ChunkTranscript) => void;
  /**
   * With language "auto", use the language the first finished chunk detected for every chunk
   * started after it (as whisper-cli does for a whole file): detection costs an extra encode per
   * chunk and only ever looks at a chunk's first 30 seconds. Default true.
   */
  lockLanguage?: boolean;
  /** Polled after each chunk; true shrinks the pool at once. */
  memoryPressure?: () => boolean | Promise<boolean>;
  now?: () => number;
}

export interface ScheduleResult {
  results: Map<number, ChunkTranscript>;
  failures: Map<number, ChunkFailure>;
  fallbacks: FallbackRecord[];
  retries: number;
  cached: number;
  metrics: ChunkMetric[];
  workers: { initial: number; max: number; final: number };
  best?: { workers: number; throughput: number };
  laneBusyMs: number[];
  wallMs: number;
  engine: TranscriptionEngine;
  adjustments: string[];
}

export async function runSchedule(input: ScheduleInput): Promise<ScheduleResult> {
  const now = input.now ?? Date.now;
  const started = now();
  const maxAttempts = input.maxAttempts ?? 3;
  const backoffMs = input.backoffMs ?? 500;
  const total = input.plan.length;
  const audioTotal = input.plan.reduce((n, c) => n + (c.ownEnd - c.ownStart), 0);

  let engine = input.engine;
  let engineDead: FleetError | undefined;
  let switching: Promise<boolean> | undefined;
  const results = new Map<number, ChunkTranscript>();
  const failures = new Map<number, ChunkFailure>();
  const fallbacks: FallbackRecord[] = [];
  const metrics: ChunkMetric[] = [];
  const adjustments: string[] = [];
  let retries = 0;
  let cached = 0;
  let options = input.options;
  const lockLanguage = (input.lockLanguage ?? true) && (options.language ?? "auto") === "auto";
  let failuresSeen = 0;

  const initial = Math.max(1, Math.min(input.initialWorkers, input.maxWorkers));
  const climber = new HillClimber({ min: Math.max(1, input.minWorkers), max: Math.max(1, input.maxWorkers), start: initial, window: 2 });
  const limit = pLimit(initial);
  let maxUsed = initial;
  let setting = 0; // bumps on every change, so throughput is measured per setting
  let settingStart = now();
  let settingAudio = 0;
  if (engine.resize) await engine.resize(initial);

  const lanes: WorkerLane[] = [];
  const laneBusyMs: number[] = [];
  const running = new Map<number, { lane: number; percent: number }>();
  let lastEmit = 0;

  const snapshot = (): ProgressSnapshot => {
    const elapsed = (now() - started) / 1000;
    let audioDone = 0;
    for (const c of input.plan) {
      const own = c.ownEnd - c.ownStart;
      if (results.has(c.index) || failures.has(c.index)) audioDone += own;
      else if (running.has(c.index)) audioDone += (own * running.get(c.index)!.percent) / 100;
    }
    const done = results.size;
    return {
      phase: "transcribing",
      file: input.file,
      engine: `${engine.name}:${engine.model}`,
      workers: lanes.map((l) => ({ ...l })),
      activeWorkers: limit.concurrency,
      chunks: { done, total, failed: failures.size, cached, running: running.size },
      audio: { done: audioDone, total: audioTotal },
      speed: {
        chunksPerMinute: elapsed > 0 ? ((done - cached) / elapsed) * 60 : 0,
        realtimeFactor: elapsed > 0 ? audioDone / elapsed : 0,
      },
      etaSeconds: estimateEta(audioDone, audioTotal, elapsed),
      elapsedSeconds: elapsed,
    };
  };
  const emit = (force = false) => {
    if (!input.onProgress) return;
    const t = now();
    if (!force && t - lastEmit < 250) return;
    lastEmit = t;
    input.onProgress(snapshot());
  };

  const acquireLane = (chunk: number): number => {
    let lane = lanes.findIndex((l) => l.state === "idle" || l.state === "stopped");
    if (lane < 0) {
      lane = lanes.length;
      lanes.push({ id: lane, state: "idle", percent: 0 });
      laneBusyMs.push(0);
    }
    lanes[lane] = { id: lane, state: "busy", chunk, percent: 0, engine: engine.name };
    return lane;
  };

  const applyWorkers = async (n: number, reason: string) => {
    const previous = limit.concurrency;
    if (n === previous) return;
    adjustments.push(`${previous} → ${n}: ${reason}`);
    setting++;
    settingStart = now();
    settingAudio = 0;
    if (n > previous) {
      // Grow the native pool first so no chunk waits in its queue while its timeout runs.
      if (engine.resize) await engine.resize(n).catch(() => undefined);
      limit.concurrency = n;
      maxUsed = Math.max(maxUsed, n);
    } else {
      limit.concurrency = n;
      if (engine.resize) void engine.resize(n).catch(() => undefined); // retiring workers finish first
    }
    for (let i = n; i < lanes.length; i++) if (lanes[i].state === "idle") lanes[i].state = "stopped";
    emit(true);
  };

  const switchEngine = (cause: FleetError, chunk: number): Promise<boolean> => {
    if (!switching) {
      switching = (async () => {
        if (!input.fallback) {
          engineDead = cause;
          return false;
        }
        try {
          const next = await input.fallback();
          fallbacks.push({
            at: (now() - started) / 1000,
            from: `${engine.name}:${engine.model}`,
            to: `${next.name}:${next.model}`,
            reason: cause.message,
            chunks: [chunk],
          });
          const old = engine;
          engine = next;
          if (engine.kind === "cloud") await applyWorkers(Math.max(1, Math.min(input.maxWorkers, engine.capacity())), "cloud engine concurrency");
          else if (engine.resize) await engine.resize(limit.concurrency);
          void old.dispose().catch(() => undefined);
          return true;
        } catch (error) {
          engineDead = cause;
          fallbacks.push({
            at: (now() - started) / 1000,
            from: `${engine.name}:${engine.model}`,
            to: "none",
            reason: `${cause.message}; fallback failed: ${toFleetError(error).message}`,
            chunks: [chunk],
          });
          return false;
        }
      })();
    }
    return switching;
  };

  /**
   * Cloud chunks that run in order get the end of the previous chunk's text as prompt context
   * (after the user's glossary), as OpenAI recommends for split audio. In parallel there is no
   * "previous" text yet, and local chunks are decoded without context on purpose.
   */
  const withPreviousTail = (o: TranscribeOptions, chunk: PlannedChunk): TranscribeOptions => {
    if (engine.kind !== "cloud" || limit.concurrency !== 1) return o;
    const previous = results.get(chunk.index - 1);
    if (!previous?.segments.length) return o;
    const text = previous.segments.map((s) => s.text).join(" ");
    const tail = text.length > 200 ? text.slice(-200).replace(/^\S*\s/, "") : text; // no half word
    return { ...o, prompt: [o.prompt, tail].filter(Boolean).join(" ") };
  };

  const attempt = async (chunk: PlannedChunk, attemptNo: number): Promise<ChunkTranscript> => {
    if (input.signal?.aborted) throw abortError();
    if (engineDead) throw engineDead;
    const current = engine;
    const lane = acquireLane(chunk.index);
    if (attemptNo > 1) lanes[lane].state = "retrying";
    running.set(chunk.index, { lane, percent: 0 });
    emit(true);
    const controller = new AbortController();
    const onJobAbort = () => controller.abort();
    input.signal?.addEventListener("abort", onJobAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, input.timeoutMs);
    const t0 = now();
    try {
      const request: ChunkRequest = {
        chunk,
        audio: input.audio,
        options: withPreviousTail(options, chunk),
        signal: controller.signal,
        threads: threadsFor(input.cores, limit.concurrency),
        onProgress: (percent) => {
          const r = running.get(chunk.index);
          if (r) r.percent = percent;
          lanes[lane].percent = percent;
          emit();
        },
      };
      const transcript = await current.transcribeChunk(request);
      // Recorded before the worker slot is released, so the next chunk to start already sees it
      // (previous-chunk prompt, language lock).
      results.set(chunk.index, transcript);
      if (lockLanguage && transcript.language && options.language !== transcript.language) options = { ...options, language: transcript.language };
      return transcript;
    } catch (error) {
      if (input.signal?.aborted) throw abortError();
      if (timedOut)
        throw new FleetError(
          "CHUNK_TIMEOUT",
          `Chunk ${chunk.index + 1} (${chunk.start.toFixed(0)}–${chunk.end.toFixed(0)} s) took longer than WORKER_TIMEOUT=${Math.round(input.timeoutMs / 1000)} s and was stopped.`,
          { retryable: true, cause: error },
        );
      throw toFleetError(error);
    } finally {
      clearTimeout(timer);
      input.signal?.removeEventListener("abort", onJobAbort);
      laneBusyMs[lane] += now() - t0;
      running.delete(chunk.index);
      lanes[lane] = { id: lane, state: lane < limit.concurrency ? "idle" : "stopped", percent: 0 };
    }
  };

  const runChunk = async (chunk: PlannedChunk): Promise<void> => {
    const key = input.cache ? await input.cache.keyFor(chunk, engine) : undefined;
    if (key && input.cache) {
      const hit = await input.cache.store.get(key);
      if (hit) {
        results.set(chunk.index, hit);
        cached++;
        metrics.push({ index: chunk.index, start: chunk.start, end: chunk.end, engine: `${hit.engine}:${hit.model}`, attempts: 0, wallMs: 0, cached: true });
        input.onChunk?.(hit);
        emit(true);
        return;
      }
    }
    for (let attemptNo = 1; ; attemptNo++) {
      const mySetting = setting;
      const t0 = now();
      try {
        const transcript = await limit(() => attempt(chunk, attemptNo));
        const wallMs = now() - t0;
        metrics.push({
          index: chunk.index,
          start: chunk.start,
          end: chunk.end,
          engine: `${transcript.engine}:${transcript.model}`,
          workerId: transcript.workerId,
          attempts: attemptNo,
          wallMs: transcript.timings.wallMs || wallMs,
          encodeMs: transcript.timings.encodeMs,
          decodeMs: transcript.timings.decodeMs,
          cached: false,
        });
        input.onChunk?.(transcript);
        if (input.cache) {
          const storeKey = await input.cache.keyFor(chunk, engine);
          await input.cache.store.put(storeKey, transcript).catch(() => undefined);
        }
        if (mySetting === setting) {
          settingAudio += chunk.end - chunk.start;
          const throughput = settingAudio / Math.max(0.001, (now() - settingStart) / 1000);
          if (input.memoryPressure && (await input.memoryPressure())) {
            const d = climber.pressure();
            if (d.changed) await applyWorkers(d.workers, d.reason);
          } else if (input.autoAdjust && engine.kind === "local" && total - results.size - failures.size >= 2 * limit.concurrency + 2) {
            // Explore only while enough chunks remain to pay for a measurement at another count.
            const d = climber.observe(throughput);
            if (d.changed) await applyWorkers(d.workers, d.reason);
          }
        }
        emit(true);
        return;
      } catch (error) {
        const e = toFleetError(error);
        if (e.code === "ABORTED" || input.signal?.aborted) throw abortError();
        if (ENGINE_FATAL.has(e.code) && e !== engineDead) {
          if (await switchEngine(e, chunk.index)) {
            attemptNo--; // the new engine gets a full set of attempts
            continue;
          }
        }
        failuresSeen++;
        if (failuresSeen >= 2 && limit.concurrency > 1 && engine.kind === "local") {
          const d = climber.single();
          fallbacks.push({
            at: (now() - started) / 1000,
            from: `${limit.concurrency} workers`,
            to: "1 worker",
            reason: `repeated failures (${e.code})`,
            chunks: [chunk.index],
          });
          await applyWorkers(d.workers, d.reason);
        }
        if (!e.retryable || attemptNo >= maxAttempts || engineDead) {
          failures.set(chunk.index, { code: e.code, reason: e.message });
          metrics.push({
            index: chunk.index,
            start: chunk.start,
            end: chunk.end,
            engine: `${engine.name}:${engine.model}`,
            attempts: attemptNo,
            wallMs: now() - t0,
            cached: false,
          });
          emit(true);
          return;
        }
        retries++;
        const delay = backoffMs * 2 ** (attemptNo - 1) * (0.75 + Math.random() * 0.5);
        await abortableSleep(delay, input.signal);
      }
    }
  };

  emit(true);
  const outcomes = await Promise.allSettled(input.plan.map((chunk) => runChunk(chunk)));
  const aborted = outcomes.find((o) => o.status === "rejected");
  if (aborted) throw toFleetError((aborted as PromiseRejectedResult).reason);
  emit(true);
  return {
    results,
    failures,
    fallbacks,
    retries,
    cached,
    metrics: metrics.sort((a, b) => a.index - b.index),
    workers: { initial, max: maxUsed, final: limit.concurrency },
    best: climber.best(),
    laneBusyMs,
    wallMs: now() - started,
    engine,
    adjustments,
  };
}
