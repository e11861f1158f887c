/**
 * The scheduler: runs a plan's chunks on an engine with a dynamic number of workers. Where a
 * chunk's fate is decided, in one hop: `runChunk` (cache → attempts → result or named failure);
 * after a failed attempt, `afterFailure` in retryPolicy.ts; each attempt's deadline,
 * `attemptDeadlineMs` in timeouts.ts; layout changes, LayoutAdapter; progress, LaneBoard.
 * No chunk is lost: each ends transcribed or as a named failure.
 */
import pLimit from "p-limit";

import type { ChunkRequest, DecodedAudio, TranscribeOptions, TranscriptionEngine } from "../engines/engine";
import { abortableSleep, abortError, FleetError, toFleetError } from "../errors";
import type { ChunkFailure } from "../stitching/stitch";
import type { ChunkMetric, ChunkTranscript, FallbackRecord, PlannedChunk, Segment } from "../types";
import { CoreBudget } from "./coreBudget";
import { cpuLayouts, HillClimber } from "./hillClimber";
import { LaneBoard } from "./laneBoard";
import { LayoutAdapter } from "./layoutAdapter";
import type { ProgressSnapshot } from "./progress";
import type { ResumeCache } from "./resumeCache";
import { afterFailure } from "./retryPolicy";
import { missingText, WordRates, wordCount } from "./textCheck";
import { type Piece, SplitChunk } from "./splitChunk";
import { splitPoint } from "./tailSplit";
import { attemptDeadlineMs, SpeedEstimate } from "./timeouts";
import { WakeList } from "./wakeList";
import { threadsFor } from "./workerSizing";

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
  /** Local engines on a CPU: only layouts that use every core are tried (8 cores: 8×1, 4×2, 2×4, 1×8). */
  backend?: "cpu" | "gpu";
  autoAdjust: boolean;
  /** Throughput measured in earlier jobs per worker count (not explored again when clearly worse). */
  knownThroughput?: Record<number, number>;
  /** WORKER_TIMEOUT: the floor of every attempt's deadline. */
  timeoutMs: number;
  /** A remembered speed of one worker (audio s per s at `threads`), for deadlines before the first chunk ends. */
  rememberedSpeed?: { threads: number; speed: number };
  maxAttempts?: number;
  backoffMs?: number;
  cache?: { store: ResumeCache; keyFor(chunk: PlannedChunk, engine: TranscriptionEngine): string | Promise<string> };
  signal?: AbortSignal;
  onProgress?: (snapshot: ProgressSnapshot) => void;
  /** Text of running chunks as the engine finishes it (local: every window): a preview, see ChunkRequest. */
  onHeard?: (segments: Segment[]) => void;
  /** Every chunk result as it arrives (cached ones too), in completion order. */
  onChunkResult?: (transcript: ChunkTranscript) => void;
  /** Polled after each chunk; true shrinks the pool at once. */
  memoryPressure?: () => boolean | Promise<boolean>;
  /**
   * Local engines: a worker left without a chunk to start takes the rest of a running one, which
   * ends early (tailSplit.ts); off, it waits for the others. The overlap both hear is `splitOverlap`.
   */
  splitTail?: boolean;
  splitOverlap?: number;
  /** Seconds of clear speech in a chunk's own range (from the energy map): empty text over speech is a failure. */
  speechSeconds?: (chunk: PlannedChunk) => number;
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
  /** Throughput per worker count measured in this job. */
  measured: Record<number, number>;
  speed?: { threads: number; speed: number };
  adaptation: { steps: string[]; pressureChecks: number };
  laneBusyMs: number[];
  wallMs: number;
  engine: TranscriptionEngine;
}

/** A successful attempt: the chunk's transcript, and the layout setting and threads it ran under. */
interface Attempted {
  transcript: ChunkTranscript;
  setting: number;
  threads: number;
}

/**
 * An attempt whose worker slot is free again: `finish` resolves once every worker that took part of
 * the chunk is done; `speed` is how fast this worker went (audio s per s).
 */
interface Attempting {
  finish: () => Promise<Attempted>;
  speed?: number;
}

export function runSchedule(input: ScheduleInput): Promise<ScheduleResult> {
  return new Schedule(input).run();
}

/** One run of a plan: the state its chunks share. */
class Schedule {
  private readonly now: () => number;
  private readonly started: number;
  private engine: TranscriptionEngine;
  private engineDead?: FleetError;
  private switching?: Promise<boolean>;
  private readonly results = new Map<number, ChunkTranscript>();
  private readonly failures = new Map<number, ChunkFailure>();
  private readonly fallbacks: FallbackRecord[] = [];
  private readonly metrics: ChunkMetric[] = [];
  private retries = 0;
  private cached = 0;
  private failuresSeen = 0;
  private options: TranscribeOptions;
  private readonly lockLanguage: boolean;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly initial: number;
  private maxUsed: number;
  private readonly board: LaneBoard;
  private readonly adapter: LayoutAdapter;
  private readonly climber: HillClimber;
  private readonly speed: SpeedEstimate;
  /** Local CPU engines: the threads of running chunks never exceed the cores. */
  private readonly coreBudget?: CoreBudget;
  /** Chunks whose attempt started and whose outcome is not yet recorded, with the setting they run under. */
  private readonly inFlight = new Map<number, { setting: number; threads: number; seconds: number; since: number }>();
  /** Woken whenever a chunk's outcome is recorded: chunks held for a decision look again. */
  private readonly chunkSettled = new WakeList();
  /** Chunks, solo ones aside (they wait for every other), whose first attempt has not begun. */
  private readonly notStarted: Set<number>;
  private readonly wordRates = new WordRates();
  /** Chunks whose last attempt came back without words: the next one decodes hotter. */
  private readonly noText = new Set<number>();
  /** Pieces of running chunks that an idle worker may take the rest of, with what their helpers need. */
  private readonly splittable = new Map<Piece, { split: SplitChunk; options: TranscribeOptions; attempt: AbortController }>();
  private lastEmit = 0;

  constructor(private readonly input: ScheduleInput) {
    this.now = input.now ?? Date.now;
    this.started = this.now();
    this.engine = input.engine;
    this.options = input.options;
    // With language "auto", the language the first finished chunk detected is used for every chunk
    // started after it (as whisper-cli does for a whole file): detection costs an encode per chunk.
    this.lockLanguage = (input.options.language ?? "auto") === "auto";
    this.initial = Math.max(1, Math.min(input.initialWorkers, input.maxWorkers));
    this.maxUsed = this.initial;
    this.limit = pLimit(this.initial);
    this.board = new LaneBoard(input.plan, this.now);
    this.notStarted = new Set(input.plan.filter((c) => !c.solo).map((c) => c.index));
    const min = Math.max(1, input.minWorkers);
    const max = Math.max(1, input.maxWorkers);
    const cpu = input.engine.kind === "local" && (input.backend ?? "cpu") === "cpu";
    if (cpu) this.coreBudget = new CoreBudget(Math.max(1, input.cores));
    this.climber = new HillClimber({
      candidates: cpu ? cpuLayouts(input.cores, min, max) : undefined,
      min,
      max,
      start: this.initial,
      window: 2,
      known: input.knownThroughput,
    });
    this.adapter = new LayoutAdapter(this.climber, {
      explore: input.autoAdjust && input.engine.kind === "local",
      memoryPressure: input.memoryPressure,
    });
    this.speed = new SpeedEstimate(input.rememberedSpeed);
  }

  async run(): Promise<ScheduleResult> {
    await this.startPool();
    this.emit(true);
    const outcomes = await Promise.allSettled(this.input.plan.map((chunk) => this.runChunk(chunk)));
    const aborted = outcomes.find((o) => o.status === "rejected");
    if (aborted) throw toFleetError((aborted as PromiseRejectedResult).reason);
    this.emit(true);
    this.climber.finish();
    return {
      results: this.results,
      failures: this.failures,
      fallbacks: this.fallbacks,
      retries: this.retries,
      cached: this.cached,
      metrics: this.metrics.sort((a, b) => a.index - b.index),
      workers: { initial: this.initial, max: this.maxUsed, final: this.limit.concurrency },
      best: this.climber.best(),
      measured: this.climber.measurements(),
      speed: this.speed.summary(),
      adaptation: { steps: this.adapter.steps, pressureChecks: this.adapter.pressureChecks },
      laneBusyMs: this.board.busyMs,
      wallMs: this.now() - this.started,
      engine: this.engine,
    };
  }

  /**
   * Starts the pool at the sized count; a state that cannot be allocated (out of memory) shrinks
   * the pool and the job goes on with fewer workers rather than failing.
   */
  private async startPool(): Promise<void> {
    if (!this.engine.resize) return;
    for (let n = this.initial; n >= 1; n--) {
      try {
        await this.engine.resize(n);
        if (n < this.initial) {
          this.fallbacks.push({
            at: 0,
            from: `${this.initial} workers`,
            to: `${n} worker(s)`,
            reason: "not enough memory for more whisper states",
            chunks: [],
          });
          this.limit.concurrency = n;
          this.adapter.bump();
        }
        return;
      } catch (error) {
        if (toFleetError(error).code !== "OUT_OF_MEMORY" || n === 1) throw error;
      }
    }
  }

  private async runChunk(chunk: PlannedChunk): Promise<void> {
    if (await this.fromCache(chunk)) return;
    for (let attempt = 1; ; attempt++) {
      const t0 = this.now();
      try {
        // A solo chunk waits for every other chunk outside the worker slots, so a worker left
        // without a chunk meanwhile can still take the rest of a running one (helpOut).
        if (chunk.solo && this.engine.kind === "local") await this.soloTurn();
        const { finish, speed } = await this.limit(() => this.attempt(chunk, attempt));
        this.helpOut(speed);
        const { transcript, setting, threads } = await finish();
        try {
          await this.recordSuccess(chunk, transcript, attempt, t0, setting, threads);
        } finally {
          this.settled(chunk.index);
        }
        return;
      } catch (error) {
        this.settled(chunk.index);
        const e = toFleetError(error);
        if (e.code === "ABORTED" || this.input.signal?.aborted) throw abortError();
        const decision = afterFailure(
          e,
          attempt,
          { maxAttempts: this.input.maxAttempts ?? 3, backoffMs: this.input.backoffMs ?? 500 },
          { engineDead: this.engineDead !== undefined, canSwitch: e !== this.engineDead },
        );
        if (decision.action === "switch-engine") {
          if (await this.switchEngine(e, chunk.index)) {
            attempt--; // the new engine gets a full set of attempts
            continue;
          }
        }
        await this.afterRepeatedFailures(e, chunk.index);
        if (decision.action !== "retry") {
          this.recordFailure(chunk, e, attempt, t0);
          return;
        }
        this.retries++;
        await abortableSleep(decision.delayMs, this.input.signal);
      }
    }
  }

  private async fromCache(chunk: PlannedChunk): Promise<boolean> {
    const cache = this.input.cache;
    if (!cache) return false;
    const hit = await cache.store.get(await cache.keyFor(chunk, this.engine));
    if (!hit) return false;
    this.results.set(chunk.index, hit);
    this.notStarted.delete(chunk.index);
    this.cached++;
    this.board.settle(chunk.index);
    this.metrics.push({ index: chunk.index, start: chunk.start, end: chunk.end, engine: `${hit.engine}:${hit.model}`, attempts: 0, wallMs: 0, cached: true });
    this.input.onChunkResult?.(hit);
    this.emit(true);
    return true;
  }

  /**
   * One attempt on a worker slot. A solo chunk first waits for every other chunk to finish; on a
   * CPU every chunk first takes its threads from the core budget.
   */
  private async attempt(chunk: PlannedChunk, attemptNo: number): Promise<Attempting> {
    if (this.input.signal?.aborted) throw abortError();
    if (this.engineDead) throw this.engineDead;
    const solo = chunk.solo === true && this.engine.kind === "local";
    if (solo) await this.board.idle();
    else await this.holdForDecision(chunk);
    // A chunk of the current layout waits for the cores that chunks of an earlier one still hold.
    const budget = this.engine.kind === "local" ? this.coreBudget : undefined;
    // The threads and the setting they belong to are read at the same moment: a sample is
    // measured against the layout its threads came from.
    let setting = this.adapter.setting;
    const share = () => {
      setting = this.adapter.setting;
      if (solo) return Math.max(1, this.input.cores);
      const layout = threadsFor(this.input.cores, this.limit.concurrency);
      // No idle cores at the tail: cores no chunk left to start could take go to this one (such a
      // chunk says nothing about the layout, so its sample is not the layout's).
      const tail = budget ? Math.floor((budget.cores - budget.inUse) / Math.max(1, this.chunksLeftToStart())) : 0;
      if (tail > layout) setting = -1;
      return Math.max(layout, tail);
    };
    const threads = budget ? await budget.take(share, this.input.signal) : share();
    try {
      return await this.attemptWith(chunk, attemptNo, threads, setting);
    } finally {
      budget?.give(threads);
    }
  }

  /**
   * Runs the chunk on this worker slot. What comes back finishes the attempt after the slot is free:
   * at once, or once the workers that took the rest of the chunk are done (tailSplit.ts).
   */
  private async attemptWith(chunk: PlannedChunk, attemptNo: number, threads: number, setting: number): Promise<Attempting> {
    if (this.engineDead) throw this.engineDead;
    this.notStarted.delete(chunk.index);
    const engine = this.engine;
    this.inFlight.set(chunk.index, { setting, threads, seconds: chunk.end - chunk.start, since: this.now() });
    const lane = this.board.acquire(chunk.index, engine.name, attemptNo > 1);
    this.emit(true);
    const controller = new AbortController();
    const onJobAbort = () => controller.abort();
    this.input.signal?.addEventListener("abort", onJobAbort, { once: true });
    const deadline = this.deadline(chunk, threads, controller);
    const cleanUp = () => {
      deadline.clear();
      this.input.signal?.removeEventListener("abort", onJobAbort);
    };
    const split = new SplitChunk(chunk, this.now());
    const options = this.optionsFor(chunk, attemptNo);
    const failed = (error: unknown): FleetError => {
      controller.abort(); // pieces still running on other workers stop too
      if (this.input.signal?.aborted) return abortError();
      if (deadline.fired)
        return new FleetError(
          "CHUNK_TIMEOUT",
          `Chunk ${chunk.index + 1} (${chunk.start.toFixed(0)}–${chunk.end.toFixed(0)} s) ran past its deadline of ${Math.round(deadline.ms / 1000)} s (WORKER_TIMEOUT=${Math.round(this.input.timeoutMs / 1000)} s is the floor; above it, 3x the measured speed) and was stopped.`,
          { retryable: true, cause: error },
        );
      return toFleetError(error);
    };
    try {
      split.owner.result = await this.runPiece(split, split.owner, { engine, lane, options, attempt: controller, threads });
    } catch (error) {
      cleanUp();
      throw failed(split.failure ?? error);
    } finally {
      this.board.release(lane, this.limit.concurrency);
    }
    // Nobody took part of it: recorded before the worker slot is released, so the next chunk to
    // start already sees it (previous-chunk prompt, language lock).
    const accept = (transcript: ChunkTranscript) => {
      const speech = this.input.speechSeconds?.(chunk) ?? 0;
      const missing = missingText(chunk, transcript, speech, this.wordRates);
      if (missing) {
        this.noText.add(chunk.index);
        throw missing;
      }
      this.wordRates.add(wordCount(transcript), speech);
      this.results.set(chunk.index, transcript);
      if (this.lockLanguage && transcript.language && this.options.language !== transcript.language)
        this.options = { ...this.options, language: transcript.language };
      // A chunk finished by several workers says nothing about the layout.
      return { transcript, setting: split.split ? -1 : setting, threads };
    };
    // How fast this worker went (audio seconds per second): what it may take of another chunk.
    const { end, timings } = split.owner.result;
    const speed = timings.wallMs > 0 ? (end - chunk.start) / (timings.wallMs / 1000) : undefined;
    if (!split.split) {
      try {
        const done = accept(split.owner.result);
        return { finish: async () => done, speed };
      } catch (error) {
        throw failed(error);
      } finally {
        cleanUp();
      }
    }
    const finish = async () => {
      try {
        return accept(await split.finish());
      } catch (error) {
        throw failed(error);
      } finally {
        cleanUp();
      }
    };
    return { finish, speed };
  }

  /** One piece of a chunk on one worker: the whole chunk, or the rest that an idle worker took. */
  private async runPiece(
    split: SplitChunk,
    piece: Piece,
    run: { engine: TranscriptionEngine; lane: number; options: TranscribeOptions; attempt: AbortController; threads: number },
  ): Promise<ChunkTranscript> {
    const { chunk } = split;
    const entry = { split, options: run.options, attempt: run.attempt };
    const request: ChunkRequest = {
      chunk: piece === split.owner ? chunk : split.request(piece),
      audio: this.input.audio,
      options: run.options,
      signal: run.attempt.signal,
      threads: run.threads,
      onProgress: (percent) => {
        this.board.progress(run.lane, percent);
        this.emit();
      },
      onSegments: (segments) => {
        split.heard(piece, segments, this.now());
        this.board.hear(segments[segments.length - 1]);
        this.input.onHeard?.(segments);
        this.emit();
      },
      onStep: (step) => {
        this.board.step(run.lane, step);
        this.emit(true);
      },
      onStoppable: (control) => {
        piece.control = control;
        if (this.input.splitTail) this.splittable.set(piece, entry);
      },
    };
    try {
      return await run.engine.transcribeChunk(request);
    } finally {
      this.splittable.delete(piece);
    }
  }

  /**
   * A worker slot is free and no chunk is left to start: the running piece that would end last is
   * split, and this worker takes the rest of it (tailSplit.ts). `helperSpeed`: the free worker's own
   * speed, when its last piece measured it.
   */
  private helpOut(helperSpeed?: number): void {
    if (!this.input.splitTail || this.engine.kind !== "local" || this.input.signal?.aborted) return;
    if (this.chunksLeftToStart() > 0 || this.limit.pendingCount > 0 || this.limit.activeCount >= this.limit.concurrency) return;
    const threads = threadsFor(this.input.cores, this.limit.concurrency);
    if (this.coreBudget && this.coreBudget.cores - this.coreBudget.inUse < threads) return;
    const speed = helperSpeed ?? this.speed.at(threads);
    if (!speed) return;
    const halfOverlap = (this.input.splitOverlap ?? 5) / 2;
    let best: { piece: Piece; at: number; together: number; alone: number } | undefined;
    for (const [piece, { split }] of this.splittable) {
      const s = splitPoint({ piece: split.view(piece, this.now()), helperSpeed: speed, halfOverlap, playSpeed: split.chunk.speed });
      if (s && (!best || s.alone > best.alone)) best = { piece, ...s };
    }
    if (!best) return;
    const { split, options, attempt } = this.splittable.get(best.piece)!;
    const rest = split.splitAt(best.piece, best.at, halfOverlap, this.now());
    if (!rest) return;
    // A helper that fails fails the chunk's attempt: its other pieces stop now, the retry runs it whole.
    split.addHelper(
      this.runHelper(split, rest, options, attempt).catch((error) => {
        attempt.abort();
        throw error;
      }),
    );
  }

  /** The rest of a split chunk on the free worker slot; when it is done, that worker may help again. */
  private async runHelper(split: SplitChunk, piece: Piece, options: TranscribeOptions, attempt: AbortController): Promise<void> {
    const signal = attempt.signal;
    const engine = this.engine;
    const budget = this.coreBudget;
    piece.result = await this.limit(async () => {
      const threads = budget
        ? await budget.take(() => threadsFor(this.input.cores, this.limit.concurrency), signal)
        : threadsFor(this.input.cores, this.limit.concurrency);
      const lane = this.board.acquire(split.chunk.index, engine.name, false, piece.end - piece.cut);
      this.emit(true);
      try {
        return await this.runPiece(split, piece, { engine, lane, options, attempt, threads });
      } finally {
        this.board.release(lane, this.limit.concurrency);
        budget?.give(threads);
      }
    });
    // This worker's own speed on this piece (its wait for the slot and the cores not counted).
    const { end, start, timings } = piece.result;
    this.helpOut(timings.wallMs > 0 ? (end - start) / (timings.wallMs / 1000) : undefined);
  }

  /**
   * The attempt's deadline from the chunk's length and the speed measured so far, re-checked at
   * least every WORKER_TIMEOUT: a speed measured meanwhile (the first chunks finishing) tightens
   * an attempt that started before anything was known.
   */
  private deadline(chunk: PlannedChunk, threads: number, controller: AbortController) {
    const startedAt = Date.now();
    const compute = () => attemptDeadlineMs({ audioSeconds: chunk.end - chunk.start, speed: this.speed.at(threads), floorMs: this.input.timeoutMs });
    const state = { fired: false, ms: compute(), timer: undefined as ReturnType<typeof setTimeout> | undefined, clear: () => clearTimeout(state.timer) };
    const check = () => {
      state.ms = compute();
      const left = state.ms - (Date.now() - startedAt);
      if (left <= 0) {
        state.fired = true;
        controller.abort();
        return;
      }
      state.timer = setTimeout(check, Math.min(left, this.input.timeoutMs));
    };
    state.timer = setTimeout(check, Math.min(state.ms, this.input.timeoutMs));
    return state;
  }

  private async recordSuccess(chunk: PlannedChunk, transcript: ChunkTranscript, attempt: number, t0: number, setting: number, threads: number) {
    const wallMs = transcript.timings.wallMs || this.now() - t0;
    this.board.settle(chunk.index);
    // A chunk that several workers finished ran faster than one worker runs.
    if (!transcript.pieces) this.speed.record(threads, chunk.end - chunk.start, wallMs);
    this.metrics.push({
      index: chunk.index,
      start: chunk.start,
      end: chunk.end,
      engine: `${transcript.engine}:${transcript.model}`,
      workerId: transcript.workerId,
      attempts: attempt,
      wallMs,
      threads,
      windows: transcript.windows,
      ...(transcript.speed ? { speed: transcript.speed } : {}),
      ...(transcript.pieces ? { pieces: transcript.pieces } : {}),
      encodeMs: transcript.timings.encodeMs,
      decoderMs: transcript.timings.decoderMs,
      cached: false,
    });
    this.input.onChunkResult?.(transcript);
    if (this.input.cache) {
      const key = await this.input.cache.keyFor(chunk, this.engine);
      await this.input.cache.store.put(key, transcript).catch(() => undefined);
    }
    if (!chunk.solo) {
      const remaining = this.chunksLeftToStart();
      const d = await this.adapter.afterChunk(
        { setting, audioSeconds: chunk.end - chunk.start, windows: transcript.windows, wallMs, remaining },
        this.limit.concurrency,
      );
      if (d?.changed) await this.applyWorkers(d.workers);
    }
    this.emit(true);
  }

  /** A chunk's outcome is recorded (and any layout move it caused applied): held chunks look again. */
  private settled(index: number) {
    this.inFlight.delete(index);
    this.chunkSettled.wakeAll();
  }

  /**
   * Waits while the climber's next decision rests on the chunks now running (LayoutAdapter.holds),
   * if that wait is short: the running chunks are expected to end within a quarter of the time the
   * waiting chunk itself would run (paired chunks that started together). A long wait would idle
   * more than a chunk started on a share about to change could lose.
   */
  private async holdForDecision(chunk: PlannedChunk): Promise<void> {
    for (;;) {
      if (this.input.signal?.aborted) return;
      const current = [...this.inFlight.values()].filter((c) => c.setting === this.adapter.setting);
      if (!this.adapter.holds(current.length, this.chunksLeftToStart(), this.limit.concurrency)) return;
      // Nothing measured yet (the first result is still being recorded): look again once it is.
      const speed = this.speed.at(threadsFor(this.input.cores, this.limit.concurrency));
      if (speed) {
        const left = current.map((c) => {
          const s = this.speed.at(c.threads);
          return s ? (c.seconds / s) * 1000 - (this.now() - c.since) : Infinity;
        });
        if (Math.max(...left) > 0.25 * ((chunk.end - chunk.start) / speed) * 1000) return;
      }
      await this.chunkSettled.next(this.input.signal);
    }
  }

  /** Resolves once no other chunk is left to start and no worker is busy: a solo chunk's turn. */
  private async soloTurn(): Promise<void> {
    while (this.chunksLeftToStart() > 0 || this.board.runningCount > 0) {
      if (this.input.signal?.aborted) throw abortError();
      if (this.board.runningCount > 0) await this.board.idle();
      else await this.chunkSettled.next(this.input.signal);
    }
  }

  private chunksLeftToStart(): number {
    return this.notStarted.size;
  }

  private recordFailure(chunk: PlannedChunk, e: FleetError, attempt: number, t0: number) {
    this.failures.set(chunk.index, { code: e.code, reason: e.message });
    this.notStarted.delete(chunk.index); // a chunk that never started (its engine died) is not awaited
    this.board.settle(chunk.index);
    this.metrics.push({
      index: chunk.index,
      start: chunk.start,
      end: chunk.end,
      engine: `${this.engine.name}:${this.engine.model}`,
      attempts: attempt,
      wallMs: this.now() - t0,
      cached: false,
    });
    this.emit(true);
  }

  /** The plan's single-worker fallback: a second failure with several local workers drops to one. */
  private async afterRepeatedFailures(e: FleetError, chunk: number) {
    this.failuresSeen++;
    if (this.failuresSeen < 2 || this.limit.concurrency <= 1 || this.engine.kind !== "local") return;
    const d = this.adapter.failures();
    this.fallbacks.push({
      at: (this.now() - this.started) / 1000,
      from: `${this.limit.concurrency} workers`,
      to: "1 worker",
      reason: `repeated failures (${e.code})`,
      chunks: [chunk],
    });
    await this.applyWorkers(d.workers);
  }

  private async applyWorkers(n: number) {
    const previous = this.limit.concurrency;
    if (n === previous) return;
    if (n > previous) {
      // Grow the native pool first so no chunk waits in its queue while its deadline runs.
      if (this.engine.resize) await this.engine.resize(n).catch(() => undefined);
      this.limit.concurrency = n;
      this.maxUsed = Math.max(this.maxUsed, n);
    } else {
      this.limit.concurrency = n;
      if (this.engine.resize) void this.engine.resize(n).catch(() => undefined); // retiring workers finish their chunk on their own
    }
    this.board.retire(n);
    this.emit(true);
  }

  private switchEngine(cause: FleetError, chunk: number): Promise<boolean> {
    this.switching ??= (async () => {
      const from = `${this.engine.name}:${this.engine.model}`;
      const at = (this.now() - this.started) / 1000;
      if (!this.input.fallback) {
        this.engineDead = cause;
        return false;
      }
      try {
        const next = await this.input.fallback();
        this.fallbacks.push({ at, from, to: `${next.name}:${next.model}`, reason: cause.message, chunks: [chunk] });
        const old = this.engine;
        this.engine = next;
        this.adapter.bump();
        if (next.kind === "cloud") await this.applyWorkers(Math.max(1, Math.min(this.input.maxWorkers, next.capacity())));
        else if (next.resize) await next.resize(this.limit.concurrency);
        void old.dispose().catch(() => undefined);
        return true;
      } catch (error) {
        this.engineDead = cause;
        this.fallbacks.push({ at, from, to: "none", reason: `${cause.message}; fallback failed: ${toFleetError(error).message}`, chunks: [chunk] });
        return false;
      }
    })();
    return this.switching;
  }

  /** The options for one attempt: a retry after an empty answer decodes at a higher temperature. */
  private optionsFor(chunk: PlannedChunk, attemptNo: number): TranscribeOptions {
    const o = this.withPreviousTail(this.options, chunk);
    if (!this.noText.has(chunk.index) || this.engine.kind !== "local") return o;
    return { ...o, temperature: Math.min(1, 0.2 * (attemptNo - 1)) };
  }

  /**
   * Cloud chunks that run in order get the end of the previous chunk's text as prompt context
   * (after the user's glossary), as OpenAI recommends for split audio. In parallel there is no
   * "previous" text yet, and local chunks are decoded without context on purpose.
   */
  private withPreviousTail(o: TranscribeOptions, chunk: PlannedChunk): TranscribeOptions {
    if (this.engine.kind !== "cloud" || this.limit.concurrency !== 1) return o;
    const previous = this.results.get(chunk.index - 1);
    if (!previous?.segments.length) return o;
    const text = previous.segments.map((s) => s.text).join(" ");
    const tail = text.length > 200 ? text.slice(-200).replace(/^\S*\s/, "") : text; // no half word
    return { ...o, prompt: [o.prompt, tail].filter(Boolean).join(" ") };
  }

  private emit(force = false) {
    if (!this.input.onProgress) return;
    const t = this.now();
    if (!force && t - this.lastEmit < 250) return;
    this.lastEmit = t;
    this.input.onProgress(
      this.board.snapshot(
        {
          file: this.input.file,
          engine: `${this.engine.name}:${this.engine.model}`,
          activeWorkers: this.limit.concurrency,
          chunks: { done: this.results.size, total: this.input.plan.length, failed: this.failures.size, cached: this.cached, running: 0 },
        },
        this.started,
      ),
    );
  }
}
