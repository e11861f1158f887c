/**
 * The transcription core's front door: file in, transcript out. decode → plan → size workers →
 * schedule → stitch. A session keeps its engines loaded across files (a queue of files loads the
 * model once) and is what the CLI and the Raycast engine host both drive.
 */
import { availableParallelism } from "node:os";

import { addonAvailable } from "../bindings/loadAddon";
import type { EngineChoice, FleetConfig } from "./config";
import type { TranscribeOptions, TranscriptionEngine } from "./engines/engine";
import { cloudModel, CONFIRM_ABOVE_SECONDS, estimateCost, type CostEstimate } from "./cloud/cloudModels";
import { LocalWhisperEngine } from "./engines/LocalWhisperEngine";
import { FleetError, throwIfAborted, toFleetError } from "./errors";
import { decodeMedia, type DecodedMedia } from "./media/decode";
import { resolveFfmpeg, type FfmpegInfo } from "./media/ffmpeg";
import { resolveModelPath } from "./models/modelStore";
import { DEFAULT_PLAN, planChunks, quietThreshold, speechSecondsIn } from "./planning/chunkPlan";
import { planForWorkers, windowsFor } from "./planning/windowPlan";
import { cpuLayouts } from "./scheduling/hillClimber";
import type { ProgressSnapshot } from "./scheduling/progress";
import { cacheKey, fileIdentity, ResumeCache } from "./scheduling/resumeCache";
import { runSchedule, type ScheduleResult } from "./scheduling/scheduler";
import { freshLayouts, machineKey, sizingFigures, StatsStore, statsKey, type StatsEntry } from "./scheduling/statsStore";
import { fmtGB, sizeWorkers, stateBytesBound, statesMemoryHolds, threadsFor, workersForWindows, type SizingDecision } from "./scheduling/workerSizing";
import { stitch } from "./stitching/stitch";
import { StitchedPrefix } from "./stitching/stitchedPrefix";
import type { ChunkTranscript, FallbackRecord, JobMetrics, PlannedChunk, Segment, Transcript } from "./types";

export interface TranscribeFileOptions {
  signal?: AbortSignal;
  onProgress?: (snapshot: ProgressSnapshot) => void;
  /** The transcript while it grows: newly final segments, in order, from the start of the file. */
  onSegments?: (segments: Segment[]) => void;
  /**
   * Asked before more than 10 minutes of audio go to api.openai.com (which bills per minute);
   * false cancels the job before anything is uploaded. Without it, the job goes ahead.
   */
  confirmCost?: (estimate: CostEstimate) => boolean | Promise<boolean>;
  /** Per-run overrides of the session's config (engine, model, language, translate, workers...). */
  overrides?: Partial<Pick<FleetConfig, "engine" | "model" | "language" | "translate" | "prompt" | "workers" | "chunkSeconds" | "overlapSeconds" | "cache">>;
}

export interface SessionHooks {
  /** Reads available memory; injectable for tests. */
  availableMemory?: () => Promise<number | undefined>;
  /** Whether memory is short right now (shrinks the pool at once); injectable for tests. */
  memoryPressure?: () => Promise<boolean>;
  cores?: number;
  /** Wraps every engine the session hands to the scheduler (instrumentation, fault injection in tests). */
  decorateEngine?: (engine: TranscriptionEngine) => TranscriptionEngine;
}

/**
 * systeminformation's memory figures. The module loads on first use (~25 ms of loading that the
 * start of a job need not wait for), as does the cloud engine's openai package (cloudEngine).
 */
async function systemMemory() {
  return (await import("systeminformation")).default.mem();
}

/** Memory is short when less than 10% (at least 512 MB) of it is still available. */
async function memoryShortFromSystem(): Promise<boolean> {
  try {
    const m = await systemMemory();
    return m.available < Math.max(512e6, m.total * 0.1);
  } catch {
    return false;
  }
}

async function availableMemoryFromSystem(): Promise<number | undefined> {
  try {
    return (await systemMemory()).available;
  } catch {
    return undefined;
  }
}

/**
 * Started before the local model has loaded: the memory reading (transcribeFile), the plans
 * (planEveryLayout) and the first worker states (warmStates, with what the sizing should say of them).
 */
interface HeadStart {
  memory?: Promise<number | undefined>;
  plans?: LayoutPlans;
  states?: Promise<string | undefined>;
}

/** The plan of a file for a worker layout, each made once: the sizing prices several, the chosen one is cut. */
type LayoutPlans = (workers: number, threads: number) => ReturnType<typeof planForWorkers>;

function layoutPlans(media: DecodedMedia, options: ReturnType<typeof planOptionsFor>): LayoutPlans {
  const plans = new Map<string, ReturnType<typeof planForWorkers>>();
  return (workers, threads) => {
    const key = `${workers}x${threads}`;
    if (!plans.has(key)) plans.set(key, planForWorkers(media.duration, media.energy, { ...options, workers, threads }));
    return plans.get(key)!;
  };
}

/** How a file is cut for an engine of this kind under this config. */
function planOptionsFor(kind: TranscriptionEngine["kind"], config: FleetConfig) {
  const chunkSeconds = config.chunkSeconds ?? (kind === "cloud" ? DEFAULT_PLAN.cloudChunkSeconds : DEFAULT_PLAN.localChunkSeconds);
  // Text-only cloud models (gpt-4o-transcribe) give no times to align an overlap by, so both
  // neighbours would keep the words they shared: their chunks meet at quiet points instead
  // (bench:quality: +3.2 WER points with a 5 s overlap, within noise of the whole file without).
  const textOnly = kind === "cloud" && !cloudModel(config.cloud.model).timestamps;
  return {
    chunkSeconds,
    overlapSeconds: textOnly ? 0 : Math.min(config.overlapSeconds, chunkSeconds / 4),
    skipSilenceSeconds: config.skipSilenceSeconds || undefined,
    searchSeconds: config.cutSearchSeconds,
    maxSpeed: config.maxSpeedUp,
  };
}

export class FleetSession {
  private local?: { key: string; engine: Promise<LocalWhisperEngine> };
  /** The local engine once its load finished (for memory figures without awaiting). */
  private loaded?: LocalWhisperEngine;
  private cloud?: Promise<TranscriptionEngine>;
  private ffmpeg?: FfmpegInfo;
  private readonly cores: number;

  constructor(
    readonly config: FleetConfig,
    private readonly hooks: SessionHooks = {},
  ) {
    this.cores = hooks.cores ?? availableParallelism();
  }

  ffmpegInfo(): FfmpegInfo {
    return (this.ffmpeg ??= resolveFfmpeg({ explicitPath: this.config.ffmpegPath }));
  }

  /** The local engine for `model`, loaded once per session. */
  async localEngine(model: string | undefined, signal?: AbortSignal): Promise<LocalWhisperEngine> {
    const path = resolveModelPath(model, this.config.modelsDir);
    if (this.local?.key !== path) {
      this.loaded = undefined;
      if (this.local) void (await this.local.engine.catch(() => undefined))?.dispose();
      const engine = LocalWhisperEngine.load({ modelPath: path, useGpu: this.config.useGpu, hugePages: this.config.hugePages, workers: 0, signal });
      this.local = { key: path, engine };
      void engine.then(
        (e) => {
          if (this.local?.engine === engine) this.loaded = e;
        },
        () => undefined,
      );
      engine.catch(() => {
        if (this.local?.engine === engine) this.local = undefined;
      });
    }
    return this.local.engine;
  }

  async cloudEngine(): Promise<TranscriptionEngine> {
    if (!this.config.cloud.endpoints.length)
      throw new FleetError("CLOUD_NOT_CONFIGURED", "The cloud engine needs an OpenAI API key or an OpenAI-compatible base URL.");
    if (!this.cloud) {
      const { cloud, timeoutSeconds } = this.config;
      const ffmpeg = this.ffmpegInfo().path;
      const created = import("./engines/OpenAIEngine").then(({ createCloudEngine }) => createCloudEngine(cloud, ffmpeg, timeoutSeconds * 1000));
      this.cloud = created;
      created.catch(() => {
        if (this.cloud === created) this.cloud = undefined; // the next call tries again
      });
    }
    return this.cloud;
  }

  private cloudConfigured(): boolean {
    return this.config.cloud.endpoints.length > 0;
  }

  /** Picks the engine for `choice`; `auto` prefers local and falls back to cloud, recording why. */
  private async pickEngine(
    choice: EngineChoice,
    model: string | undefined,
    signal: AbortSignal | undefined,
    fallbacks: FallbackRecord[],
  ): Promise<TranscriptionEngine> {
    if (choice === "cloud") return this.cloudEngine();
    try {
      return await this.localEngine(model, signal);
    } catch (error) {
      const e = toFleetError(error);
      if (e.code === "ABORTED" || choice === "local" || !this.cloudConfigured()) throw e;
      fallbacks.push({ at: 0, from: "local", to: "cloud", reason: e.message, chunks: [] });
      return this.cloudEngine();
    }
  }

  /** decode (while the model loads) → size → plan → schedule → stitch. */
  async transcribeFile(path: string, options: TranscribeFileOptions = {}): Promise<Transcript> {
    const config = { ...this.config, ...options.overrides };
    const { signal, onProgress } = options;
    const t0 = Date.now();
    const base = {
      file: path,
      engine: config.engine,
      workers: [],
      activeWorkers: 0,
      chunks: { done: 0, total: 0, failed: 0, cached: 0, running: 0 },
      audio: { done: 0, total: 0 },
      speed: { chunksPerMinute: 0, realtimeFactor: 0 },
    };
    const report = (p: Partial<ProgressSnapshot>) => onProgress?.({ ...base, elapsedSeconds: (Date.now() - t0) / 1000, phase: "decoding", ...p });
    throwIfAborted(signal);
    report({ phase: "probing" });
    // Read as the job starts, before the weights take their share: the sizing budgets them itself.
    const memory = config.engine === "cloud" ? undefined : this.availableMemory().catch(() => undefined);
    const { media, engine, fallbacks, plans, states } = await this.decodeWhileLoading(path, config, signal, report, memory);
    try {
      const mediaDecodeMs = Date.now() - t0;
      throwIfAborted(signal);
      const planStarted = Date.now();
      report({ phase: "planning" });
      const planned = await this.planFile(path, engine, media, config, options.confirmCost, { memory, plans, states });
      const planMs = Date.now() - planStarted;
      const { schedule, firstTextMs, firstHeardMs } = await this.scheduleFile(path, engine, media, planned, config, options, t0);
      fallbacks.push(...schedule.fallbacks);
      throwIfNothingTranscribed(planned.chunks, schedule.results, schedule.failures);

      const stitchStarted = Date.now();
      report({ phase: "stitching" });
      const { segments, gaps } = stitch(planned.chunks, schedule.results, schedule.failures);
      const stitchMs = Date.now() - stitchStarted;
      if (schedule.engine.kind === "local" && config.autoAdjust) {
        await new StatsStore(config.statsPath)
          .remember(statsKey(machineKey(), schedule.engine.model, schedule.engine.name), { measured: schedule.measured, speed: schedule.speed })
          .catch(() => undefined);
      }
      const wallMs = Date.now() - t0;
      const metrics = jobMetrics({
        wallMs,
        mediaDecodeMs,
        planMs,
        stitchMs,
        duration: media.duration,
        chunks: planned.chunks.length,
        schedule,
        sizing: planned.sizing,
        firstTextMs,
        firstHeardMs,
      });
      onProgress?.({
        ...base,
        phase: "done",
        elapsedSeconds: wallMs / 1000,
        chunks: { done: schedule.results.size, total: planned.chunks.length, failed: schedule.failures.size, cached: schedule.cached, running: 0 },
        audio: { done: media.duration, total: media.duration },
      });
      const ffmpeg = this.ffmpegInfo();
      return {
        source: { path, duration: media.duration },
        language: dominantLanguage(schedule.results.values()),
        engine: schedule.engine.name,
        model: schedule.engine.model,
        precision: coarsestPrecision(schedule.results.values()),
        segments,
        gaps,
        fallbacks,
        metrics,
        ffmpeg: { path: ffmpeg.path, source: ffmpeg.source },
        ...(media.warnings.length ? { warnings: media.warnings } : {}),
      };
    } finally {
      await media.dispose();
    }
  }

  /**
   * Decodes the file while the model loads; if no engine can run, decoding stops at once rather
   * than after an hour-long file has been read.
   */
  private async decodeWhileLoading(
    path: string,
    config: FleetConfig,
    signal: AbortSignal | undefined,
    report: (p: Partial<ProgressSnapshot>) => void,
    memory: Promise<number | undefined> | undefined,
  ) {
    const ffmpeg = this.ffmpegInfo();
    const fallbacks: FallbackRecord[] = [];
    const linked = new AbortController();
    const onAbort = () => linked.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let engineError: unknown;
    let engineSettled = false;
    const enginePick = this.pickEngine(config.engine, config.model, signal, fallbacks).then(
      (e) => {
        engineSettled = true;
        return e;
      },
      (error: unknown) => {
        engineSettled = true;
        engineError = error;
        linked.abort();
        return undefined;
      },
    );
    // A model that loads before the file is decoded gets its first states then, sized by the
    // file's length as the container states it (warmStates).
    let decoded = false;
    let duration: number | undefined;
    const states = enginePick.then((e) =>
      e?.kind === "local" && !decoded && !signal?.aborted ? this.warmStates(e as LocalWhisperEngine, config, memory, duration) : undefined,
    );
    let media: Awaited<ReturnType<typeof decodeMedia>>;
    try {
      media = await decodeMedia(path, {
        ffmpeg: ffmpeg.path,
        tempDir: config.tempDir,
        signal: linked.signal,
        onProbe: (probe) => (duration = probe.duration),
        onProgress: (done, total) => report({ phase: "decoding", decoded: { done, total } }),
      });
    } catch (error) {
      // A failed engine is what stopped the decode; otherwise the file itself is the problem.
      throw engineError !== undefined && !signal?.aborted ? toFleetError(engineError) : error;
    } finally {
      decoded = true;
      signal?.removeEventListener("abort", onAbort);
    }
    report({ phase: "loading" });
    const plans = engineSettled || config.engine === "cloud" ? undefined : this.planEveryLayout(media, config);
    const picked = await enginePick;
    if (!picked) {
      await media.dispose();
      throw toFleetError(engineError);
    }
    const engine = this.hooks.decorateEngine ? this.hooks.decorateEngine(picked) : picked;
    return { media, engine, fallbacks, plans, states };
  }

  /**
   * What a local job can do while its model is still loading (a short file decodes first): make the
   * plan of every layout the sizing may price.
   */
  private planEveryLayout(media: DecodedMedia, config: FleetConfig): LayoutPlans {
    const plans = layoutPlans(media, planOptionsFor("local", config));
    try {
      for (const w of config.workers !== undefined ? [config.workers] : cpuLayouts(this.cores, 1, this.cores)) plans(w, threadsFor(this.cores, w));
    } catch {
      // planFile meets the same error again, where the job reports it
    }
    return plans;
  }

  /**
   * The layout is decided first and the file is cut for it, so every worker finishes together; a
   * file met before is cut as it was then, so its finished chunks are found again.
   */
  private async planFile(
    path: string,
    engine: TranscriptionEngine,
    media: DecodedMedia,
    config: FleetConfig,
    confirm: TranscribeFileOptions["confirmCost"],
    early: HeadStart,
  ) {
    const planOptions = planOptionsFor(engine.kind, config);
    const { chunkSeconds, overlapSeconds, skipSilenceSeconds, searchSeconds } = planOptions;
    // What earlier jobs measured on this machine + model, read once: the start layout, the
    // layouts not worth exploring again, and a speed for the first deadlines.
    const remembered =
      engine.kind === "local" && config.autoAdjust ? await new StatsStore(config.statsPath).get(statsKey(machineKey(), engine.model, engine.name)) : undefined;
    // Each layout the sizing prices is planned once; the chosen one's plan is the one cut.
    const planFor = (engine.kind === "local" && early.plans) || layoutPlans(media, planOptions);
    const planCost = (workers: number, threads: number) => planFor(workers, threads).makespanWindows;
    const sizing = await this.size(engine, media.duration, chunkSeconds, config, remembered, planCost, early);
    const identity = config.cache ? await fileIdentity(path) : "";
    const cache = config.cache ? new ResumeCache({ dir: config.cacheDir }) : undefined;
    const cap = cloudModel(config.cloud.model).maxSeconds;
    const planKey = cacheKey({
      file: identity,
      chunk: { start: 0, end: media.duration },
      engine: `plan:${engine.kind}`,
      model: "",
      options: {
        chunkSeconds,
        overlapSeconds,
        skip: config.skipSilenceSeconds,
        cap: engine.kind === "cloud" ? cap : 0,
        search: searchSeconds,
        speed: engine.kind === "local" && config.maxSpeedUp > 1 ? config.maxSpeedUp : undefined,
      },
    });
    const stored = cache ? await cache.getPlan(planKey) : undefined;
    const chunks =
      stored ??
      (engine.kind === "local"
        ? planFor(sizing.workers, sizing.threadsPerWorker)
        : planChunks(media.duration, media.energy, { chunkSeconds, overlapSeconds, maxChunkSeconds: cap, skipSilenceSeconds, searchSeconds })
      ).chunks;
    if (cache && !stored) await cache.putPlan(planKey, chunks).catch(() => undefined);
    await this.confirmCost(engine, chunks, config, confirm);
    return { chunks, sizing, cache, identity, remembered };
  }

  private async scheduleFile(
    path: string,
    engine: TranscriptionEngine,
    media: DecodedMedia,
    planned: Awaited<ReturnType<FleetSession["planFile"]>>,
    config: FleetConfig,
    options: TranscribeFileOptions,
    t0: number,
  ) {
    const { chunks, sizing, cache, identity, remembered } = planned;
    const transcribeOptions: TranscribeOptions = {
      language: config.language,
      translate: config.translate,
      prompt: config.prompt,
      textContext: config.textContext,
      vadModelPath: config.vadModelPath,
    };
    const threshold = media.energy ? quietThreshold(media.energy.rms) : 0;
    let firstTextMs: number | undefined;
    let firstHeardMs: number | undefined;
    const prefix = new StitchedPrefix(chunks, (segments) => {
      firstTextMs ??= Date.now() - t0;
      options.onSegments?.(segments);
    });
    const schedule = await runSchedule({
      file: path,
      plan: chunks,
      audio: media,
      options: transcribeOptions,
      engine,
      fallback: this.fallbackFor(engine, config),
      initialWorkers: sizing.workers,
      minWorkers: config.workers ?? config.minWorkers,
      maxWorkers: sizing.ceiling,
      cores: this.cores,
      backend: sizing.backend,
      autoAdjust: config.autoAdjust && config.workers === undefined,
      splitTail: config.splitTail,
      splitOverlap: config.overlapSeconds,
      // A stale figure does not keep the climber from measuring its layout again.
      knownThroughput: freshLayouts(remembered),
      rememberedSpeed: remembered?.speed,
      timeoutMs: config.timeoutSeconds * 1000,
      maxAttempts: config.attempts,
      cache: cache && {
        store: cache,
        // A sped-up chunk heard other audio than the same stretch as recorded (the cloud never speeds up).
        keyFor: (chunk, e) =>
          cacheKey({
            file: identity,
            chunk,
            engine: e.name,
            model: e.model,
            options: { ...transcribeOptions, speed: e.kind === "local" ? chunk.speed : undefined },
          }),
      },
      signal: options.signal,
      onProgress: options.onProgress,
      onChunkResult: (r) => prefix.add(r),
      onHeard: () => {
        firstHeardMs ??= Date.now() - t0;
      },
      memoryPressure: engine.kind === "local" ? (this.hooks.memoryPressure ?? memoryShortFromSystem) : undefined,
      speechSeconds: (chunk) => speechSecondsIn(media.energy, chunk.ownStart, chunk.ownEnd, threshold),
    });
    return { schedule, firstTextMs, firstHeardMs };
  }

  /** The price of what would go to api.openai.com, confirmed before any upload. */
  private async confirmCost(engine: TranscriptionEngine, chunks: PlannedChunk[], config: FleetConfig, confirm: TranscribeFileOptions["confirmCost"]) {
    if (!confirm || engine.kind !== "cloud" || !config.cloud.endpoints.some((e) => !e.baseURL || /api\.openai\.com/.test(e.baseURL))) return;
    const seconds = chunks.reduce((n, c) => n + (c.end - c.start), 0);
    if (seconds <= CONFIRM_ABOVE_SECONDS) return;
    if (!(await confirm(estimateCost(config.cloud.model, seconds))))
      throw new FleetError("ABORTED", `Not sent: ${(seconds / 60).toFixed(0)} minutes of audio to the OpenAI API was declined.`);
  }

  private fallbackFor(engine: TranscriptionEngine, config: FleetConfig): (() => Promise<TranscriptionEngine>) | undefined {
    const decorate = (e: TranscriptionEngine) => (this.hooks.decorateEngine ? this.hooks.decorateEngine(e) : e);
    if (engine.kind === "local") return this.cloudConfigured() ? async () => decorate(await this.cloudEngine()) : undefined;
    if (config.engine === "cloud" && !addonAvailable()) return undefined;
    try {
      resolveModelPath(config.model, config.modelsDir);
    } catch {
      return undefined;
    }
    return async () => decorate(await this.localEngine(config.model));
  }

  /** The worker layout for a file of `duration` seconds, decided before it is cut. */
  private async size(
    engine: TranscriptionEngine,
    duration: number,
    chunkSeconds: number,
    config: FleetConfig,
    remembered: StatsEntry | undefined,
    planCost: (workers: number, threads: number) => number,
    early: HeadStart,
  ): Promise<SizingDecision & { backend: "cpu" | "gpu" }> {
    const local = engine.kind === "local" && this.local ? await this.local.engine : undefined;
    const backend = local?.usesGpu() ? "gpu" : "cpu";
    const chunks = Math.max(1, Math.ceil(duration / chunkSeconds));
    if (config.workers !== undefined) {
      return {
        backend,
        workers: config.workers,
        ceiling: config.workers,
        threadsPerWorker: Math.max(1, Math.floor(this.cores / config.workers)),
        steps: [{ rule: "forced", value: config.workers, note: `--workers ${config.workers}` }],
        explanation: `${config.workers} worker(s), set explicitly`,
      };
    }
    if (engine.kind === "cloud") {
      return {
        backend,
        ...sizeWorkers({
          chunks,
          minWorkers: config.minWorkers,
          maxWorkers: config.maxWorkers,
          engine: "cloud",
          cores: this.cores,
          cloudConcurrency: engine.capacity(),
        }),
      };
    }
    const windows = windowsFor(duration);
    if (!local)
      return {
        backend,
        ...sizeWorkers({ chunks, windows, minWorkers: config.minWorkers, maxWorkers: config.maxWorkers, engine: "local", cores: this.cores, planCost }),
      };
    const availableBytes = await (early.memory ?? this.availableMemory());
    const { weightsBytes } = local.memory();
    const sizeFor = (stateBytes: number) =>
      sizeWorkers({
        chunks,
        windows,
        minWorkers: config.minWorkers,
        maxWorkers: config.maxWorkers,
        engine: "local",
        backend,
        cores: this.cores,
        availableBytes,
        weightsBytes,
        stateBytes,
        ...sizingFigures(remembered),
        planCost,
      });
    // The model loads without a state: its first ones came while the file decoded, or come now,
    // sized on the bound (createStates).
    let created = await early.states;
    if (!local.memory().stateBytes) created = await this.createStates(local, availableBytes, (bound) => sizeFor(bound).workers, "");
    const decision = sizeFor(local.memory().stateBytes);
    if (!created) return { backend, ...decision };
    return {
      backend,
      ...decision,
      steps: [...decision.steps, { rule: "states", value: decision.workers, note: created }],
      explanation: `${decision.explanation}; ${created}`,
    };
  }

  /**
   * A job's first worker states, created while its file still decodes when the model loads first
   * (the ~0.1 s a state takes is then off the job's path): as many as the sizing could want for a
   * file this long on this machine — one per core and per 30-second window — and where memory
   * might not hold that many, one (see createStates). A layout of fewer workers retires the rest
   * before the first chunk (a file of an odd number of windows under ten minutes usually runs one
   * worker on 2 cores: its second state cost ~35 ms of CPU for nothing). Never rejects: what fails
   * here is met again by the sizing or the scheduler.
   */
  private async warmStates(
    engine: LocalWhisperEngine,
    config: FleetConfig,
    memory: Promise<number | undefined> | undefined,
    duration: number | undefined,
  ): Promise<string | undefined> {
    try {
      if (engine.memory().workers > 0) return undefined; // a session's pool from an earlier job
      const most = config.workers ?? Math.min(config.maxWorkers, duration ? workersForWindows(this.cores, windowsFor(duration)) : 1);
      return await this.createStates(engine, await (memory ?? this.availableMemory()), () => most, "while the file decoded");
    } catch {
      return undefined;
    }
  }

  /**
   * Creates the first worker states of a model loaded without any. Where memory would hold one per
   * core even at the bound on a state's size (stateBytesBound), `count(bound)` of them at once, side
   * by side (~0.13 s for two base states, against 0.095 s each one after another); otherwise one,
   * whose measured size the sizing then budgets by. Says which, for the sizing's explanation.
   */
  private async createStates(local: LocalWhisperEngine, availableBytes: number | undefined, count: (bound: number) => number, when: string): Promise<string> {
    const { weightsBytes } = local.memory();
    const bound = stateBytesBound(weightsBytes);
    const gpu = local.usesGpu();
    const ample = !gpu && (!availableBytes || statesMemoryHolds(availableBytes, weightsBytes, bound) >= this.cores);
    const n = ample ? count(bound) : 1;
    // A state that cannot be created shows as too few workers; the scheduler's start handles it.
    await local.resize(n).catch(() => undefined);
    const at = when ? ` ${when}` : "";
    return ample
      ? `${n} state(s) created together${at} (memory holds one per core even at ${fmtGB(bound)} each)`
      : `one state created and measured first${at} (${gpu ? "GPU backend" : `at ${fmtGB(bound)} a state memory might not hold one per core`})`;
  }

  /** Bytes of memory available now (the test hook, or systeminformation). */
  private availableMemory(): Promise<number | undefined> {
    return (this.hooks.availableMemory ?? availableMemoryFromSystem)();
  }

  /** What the loaded local model holds now (the addon's figures), without loading one. */
  loadedMemory(): { bytes: number; weightsBytes?: number; model?: string } {
    const engine = this.loaded;
    if (!engine) return { bytes: 0 };
    try {
      const m = engine.memory();
      return { bytes: m.totalBytes, weightsBytes: m.weightsBytes, model: engine.model };
    } catch {
      return { bytes: 0 };
    }
  }

  async dispose(): Promise<void> {
    const local = this.local;
    this.local = undefined;
    this.loaded = undefined;
    if (local) await (await local.engine.catch(() => undefined))?.dispose();
    const cloud = this.cloud;
    this.cloud = undefined;
    if (cloud) await (await cloud.catch(() => undefined))?.dispose();
  }
}

/**
 * A job in which no chunk produced a transcript failed, whatever the gaps would say: it fails with
 * the first chunk's error (its code decides the front ends' one action).
 */
function throwIfNothingTranscribed(
  chunks: PlannedChunk[],
  results: ReadonlyMap<number, unknown>,
  failures: ReadonlyMap<number, { code: string; reason: string }>,
): void {
  if (results.size > 0 || failures.size === 0) return;
  const first = [...chunks].sort((a, b) => a.index - b.index).find((c) => failures.has(c.index));
  const failure = failures.get(first!.index)!;
  throw FleetError.fromJSON({
    code: failure.code,
    message: `No part of the file was transcribed (${failures.size} of ${chunks.length} chunk(s) failed). The first failure: ${failure.reason}`,
    details: { failedChunks: failures.size },
  });
}

/** The language spoken longest, by the chunks' own detection. */
function dominantLanguage(results: Iterable<ChunkTranscript>): string | undefined {
  const seconds = new Map<string, number>();
  for (const r of results) if (r.language) seconds.set(r.language, (seconds.get(r.language) ?? 0) + (r.end - r.start));
  return [...seconds.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

function coarsestPrecision(results: Iterable<ChunkTranscript>): Transcript["precision"] {
  const precisions = new Set([...results].map((r) => r.precision));
  return precisions.has("chunk") ? "chunk" : precisions.has("segment") ? "segment" : "word";
}

function jobMetrics(m: {
  wallMs: number;
  mediaDecodeMs: number;
  planMs: number;
  stitchMs: number;
  duration: number;
  chunks: number;
  schedule: ScheduleResult;
  sizing: SizingDecision;
  firstTextMs?: number;
  firstHeardMs?: number;
}): JobMetrics {
  const { schedule } = m;
  return {
    wallMs: m.wallMs,
    mediaDecodeMs: m.mediaDecodeMs,
    planMs: m.planMs,
    transcribeMs: schedule.wallMs,
    stitchMs: m.stitchMs,
    audioSeconds: m.duration,
    realtimeFactor: m.duration / Math.max(0.001, m.wallMs / 1000),
    chunksPerMinute: (m.chunks / Math.max(0.001, schedule.wallMs)) * 60000,
    workers: {
      initial: schedule.workers.initial,
      max: schedule.workers.max,
      final: schedule.workers.final,
      threads: m.sizing.threadsPerWorker,
      decision: m.sizing.explanation,
      adaptation: schedule.adaptation.steps,
    },
    firstTextMs: m.firstTextMs,
    firstHeardMs: m.firstHeardMs,
    workerBusy: Object.fromEntries(schedule.laneBusyMs.map((ms, lane) => [String(lane + 1), Math.min(1, ms / Math.max(1, schedule.wallMs))])),
    retries: schedule.retries,
    cachedChunks: schedule.cached,
    chunks: schedule.metrics,
  };
}
