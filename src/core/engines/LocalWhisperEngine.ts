/**
 * The local engine: one whisper.cpp model loaded once, a native pool of workers that share it.
 * Validation and policy live here; the addon runs what it is given, filling in whisper.cpp's own
 * defaults (temperature steps, thresholds) for what it is not.
 */
import { basename } from "node:path";

import type {
  NativeChunk,
  NativeChunkResult,
  NativeDecodeOptions,
  NativeJobEvent,
  NativeMemory,
  NativeModelFacts,
  NativeSystemInfo,
  NativeWhisperModel,
} from "../../bindings/addonTypes";
import { loadAddon } from "../../bindings/loadAddon";
import { checkModelFile } from "../models/modelFile";
import { abortError, FleetError, invalidArgument, toFleetError } from "../errors";
import { checkDecodeOptions } from "../../bindings/checkOptions";
import type { ChunkTranscript, Segment, Word } from "../types";
import type { ChunkRequest, TranscribeOptions, TranscriptionEngine } from "./engine";

export interface LocalEngineOptions {
  modelPath: string;
  useGpu?: boolean;
  /** Linux: the model's big buffers on transparent huge pages (default true). */
  hugePages?: boolean;
  /** Workers to start with (each holds one whisper_state; default 1). 0 loads the weights alone: states come with resize(). */
  workers?: number;
  signal?: AbortSignal;
  /** A load that takes longer fails with MODEL_LOAD_TIMEOUT (default 120 s). */
  loadTimeoutMs?: number;
}

export interface LocalJobOptions {
  signal?: AbortSignal;
  threads?: number;
  onEvent?: (event: NativeJobEvent) => void;
  /** Called once the job is queued, with the way to end its chunks early (NativeWhisperModel.stopAt). */
  onStoppable?: (stopAt: (atMs: number) => boolean) => void;
}

let nextJobId = 1;

export class LocalWhisperEngine implements TranscriptionEngine {
  readonly kind = "local" as const;
  readonly name = "local";
  readonly model: string;
  readonly facts: NativeModelFacts;
  private disposed = false;
  private gpu?: boolean;

  private constructor(
    private readonly native: NativeWhisperModel,
    facts: NativeModelFacts,
  ) {
    this.facts = facts;
    this.model = basename(facts.path).replace(/\.bin$/, "");
  }

  /** Loads the model once; rejects with ABORTED as soon as `signal` fires (the load is then freed). */
  static async load(options: LocalEngineOptions): Promise<LocalWhisperEngine> {
    if (typeof options?.modelPath !== "string" || options.modelPath.length === 0) throw invalidArgument("a model file path", "modelPath", options?.modelPath);
    if (options.workers !== undefined && options.workers !== 0) validateWorkers(options.workers);
    if (options.signal?.aborted) throw abortError();
    // whisper.cpp trusts the file; a truncated or corrupt one must be turned away before it loads.
    checkModelFile(options.modelPath);
    if (options.signal?.aborted) throw abortError();
    const addon = loadAddon();
    const native = new addon.WhisperModel(options.modelPath, { useGpu: options.useGpu ?? true, hugePages: options.hugePages });
    const loading = native.load();
    let onAbort: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError());
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const timeoutMs = options.loadTimeoutMs ?? 120_000;
      timer = setTimeout(
        () => reject(new FleetError("MODEL_LOAD_TIMEOUT", `Loading ${options.modelPath} took longer than ${Math.round(timeoutMs / 1000)} s and was given up.`)),
        timeoutMs,
      );
    });
    try {
      const facts = await Promise.race([loading, aborted]);
      const engine = new LocalWhisperEngine(native, facts);
      if (options.workers !== 0) await engine.resize(options.workers ?? 1);
      return engine;
    } catch (error) {
      // whisper.cpp cannot stop a load half-way; free the model whenever the load ends.
      loading.catch(() => undefined);
      void native.dispose();
      throw toFleetError(error);
    } finally {
      clearTimeout(timer);
      if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    }
  }

  get workers(): number {
    return this.disposed ? 0 : this.native.memory().workers;
  }

  /** What the addon reports about this machine: backends, devices, CPU features. */
  static systemInfo(): NativeSystemInfo {
    return loadAddon().systemInfo();
  }

  /** Whether this model runs on a GPU (Metal, CUDA): asked of the addon once. */
  usesGpu(): boolean {
    this.gpu ??= this.facts.useGpu && LocalWhisperEngine.systemInfo().devices.some((d) => d.type === "gpu" || d.type === "igpu");
    return this.gpu;
  }

  capacity(): number {
    return this.workers;
  }

  /** Grows or shrinks the pool; safe while chunks run. Growing resolves once the new states exist; shrinking at once (a retiring worker finishes its chunk, then exits). */
  async resize(count: number): Promise<{ workers: number; stateBytes: number }> {
    validateWorkers(count);
    this.assertLive();
    try {
      return await this.native.resize(count);
    } catch (error) {
      throw toFleetError(error);
    }
  }

  memory(): NativeMemory {
    this.assertLive();
    return this.native.memory();
  }

  /**
   * Runs chunks on the pool. Results come back ordered by chunk index. Several calls may run at
   * once on one model: their chunks share the workers in arrival order.
   */
  async transcribe(chunks: NativeChunk[], options: NativeDecodeOptions = {}, job: LocalJobOptions = {}): Promise<NativeChunkResult[]> {
    this.assertLive();
    if (!Array.isArray(chunks) || chunks.length === 0) throw invalidArgument("a non-empty array of chunks", "chunks", chunks);
    const decode = { threads: job.threads, ...options };
    checkDecodeOptions(decode);
    if (job.signal?.aborted) throw abortError();
    const jobId = nextJobId++;
    let settled = false;
    const onAbort = () => this.native.abort(jobId);
    job.signal?.addEventListener("abort", onAbort, { once: true });
    const listener = job.onEvent;
    try {
      const running = this.native.transcribe(jobId, chunks, decode, (event) => {
        if (settled || !listener) return;
        try {
          listener(event);
        } catch {
          // a faulty listener must not take the job down
        }
      });
      job.onStoppable?.((atMs) => !settled && !this.disposed && this.native.stopAt(jobId, atMs));
      const results = await running;
      return [...results].sort((a, b) => a.index - b.index);
    } catch (error) {
      throw toFleetError(error);
    } finally {
      settled = true;
      job.signal?.removeEventListener("abort", onAbort);
    }
  }

  async transcribeChunk(request: ChunkRequest): Promise<ChunkTranscript> {
    const { chunk, audio } = request;
    const sampleOffset = Math.round(chunk.start * audio.sampleRate);
    const sampleCount = Math.max(1, Math.min(audio.samples, Math.round(chunk.end * audio.sampleRate)) - sampleOffset);
    const offsetMs = (sampleOffset / audio.sampleRate) * 1000;
    // A chunk planned to be played faster is sped up by its worker as it reads it (off the event
    // loop); whisper's times come back on the faster clock and are mapped back ×speed.
    const speed = chunk.speed !== undefined && chunk.speed > 1 ? chunk.speed : 1;
    const native: NativeChunk = { index: chunk.index, offsetMs, path: audio.path, sampleOffset, sampleCount, ...(speed > 1 ? { speed } : {}) };
    const onTimeline = <T extends { t0Ms: number; t1Ms: number }>(x: T): T => rescaled(x, offsetMs, speed);
    const options = toNativeOptions(request.options);
    // English-only models know one language; asking them to detect it costs a whole extra encode
    // per chunk in whisper.cpp.
    if (!this.facts.multilingual) options.language = "en";
    // Ended early (StopControl): the transcript ends where it was asked to, whatever the last window
    // heard past it (another worker transcribes the rest).
    let end = chunk.end;
    const [result] = await this.transcribe([native], options, {
      signal: request.signal,
      threads: request.threads,
      onStoppable: (stopAt) =>
        request.onStoppable?.({
          stopAt: (at) => {
            if (!(at > chunk.start && at < end) || !stopAt(offsetMs + (at * 1000 - offsetMs) / speed)) return false;
            end = at;
            return true;
          },
        }),
      onEvent: (event) => {
        if (event.type === "chunkStart") request.onStart?.(event.workerId);
        else if (event.type === "progress") request.onProgress?.(event.percent, event.workerId);
        else if (event.type === "segments" && request.onSegments) {
          const heard = heardSegments(event.segments.map(onTimeline), chunk.start, end, chunk.index);
          if (heard.length) request.onSegments(heard);
        }
      },
    });
    const timed = speed > 1 ? { ...result, segments: result.segments.map(onTimeline) } : result;
    return { ...toChunkTranscript(timed, chunk.start, end, this.model), ...(speed > 1 ? { speed } : {}) };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.native.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new FleetError("DISPOSED", `The model ${this.facts.path} has been disposed.`);
  }
}

function validateWorkers(count: unknown): void {
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > 64) throw invalidArgument("an integer between 1 and 64", "workers", count);
}

export function toNativeOptions(options: TranscribeOptions): NativeDecodeOptions {
  return {
    language: options.language ?? "auto",
    translate: options.translate ?? false,
    initialPrompt: options.prompt,
    noContext: true,
    // whisper.cpp drops the initial prompt too when no context is carried: a prompt keeps its default.
    maxTextContext: options.prompt ? undefined : options.textContext,
    temperature: options.temperature,
    vadModelPath: options.vadModelPath,
    // Words are what the stitcher aligns overlaps on.
    tokens: true,
    tokenTimestamps: true,
  };
}

/**
 * Times whisper gave for audio played `speed` times faster, starting at `offsetMs` on the file's
 * timeline, put back on that timeline (segments, their words and tokens; -1 stays "no time").
 */
export function rescaled<T extends { t0Ms: number; t1Ms: number; words?: { t0Ms: number; t1Ms: number }[]; tokens?: { t0Ms: number; t1Ms: number }[] }>(
  x: T,
  offsetMs: number,
  speed: number,
): T {
  if (speed === 1) return x;
  const at = (t: number) => (t >= 0 ? offsetMs + (t - offsetMs) * speed : t);
  const out: T = { ...x, t0Ms: at(x.t0Ms), t1Ms: at(x.t1Ms) };
  if (x.words) out.words = x.words.map((w) => ({ ...w, t0Ms: at(w.t0Ms), t1Ms: at(w.t1Ms) }));
  if (x.tokens) out.tokens = x.tokens.map((k) => ({ ...k, t0Ms: at(k.t0Ms), t1Ms: at(k.t1Ms) }));
  return out;
}

/** Segments a running chunk just finished, on the file's timeline and clipped to the chunk's audio, as toChunkTranscript does. */
export function heardSegments(
  native: { t0Ms: number; t1Ms: number; text: string; noSpeechProb: number }[],
  start: number,
  end: number,
  chunk: number,
): Segment[] {
  return native.flatMap((s) => clippedSegment(s, start, end, chunk) ?? []);
}

/** A native segment on the file's timeline, clipped to the chunk's audio; undefined when empty or past its end. */
function clippedSegment(s: { t0Ms: number; t1Ms: number; text: string; noSpeechProb: number }, start: number, end: number, chunk: number): Segment | undefined {
  const text = s.text.trim();
  const segStart = Math.max(start, s.t0Ms / 1000);
  if (!text || segStart >= end) return undefined;
  return { start: segStart, end: Math.max(segStart, Math.min(end, s.t1Ms / 1000)), text, noSpeechProb: s.noSpeechProb, chunk };
}

/**
 * Native result → chunk transcript on the file's timeline, clipped to the audio the chunk really
 * had (whisper can place the last segment of a partial window past the end of the audio).
 */
export function toChunkTranscript(result: NativeChunkResult, start: number, end: number, model: string): ChunkTranscript {
  const segments: Segment[] = [];
  for (const s of result.segments) {
    const segment = clippedSegment(s, start, end, result.index);
    if (!segment) continue;
    if (s.words?.length) {
      const words: Word[] = [];
      let heardAll = true;
      for (const w of s.words) {
        if (w.t0Ms < 0) continue;
        // A word that starts after the chunk's audio ended cannot have been heard.
        if (w.t0Ms / 1000 >= end && words.length > 0) {
          heardAll = false;
          continue;
        }
        const ws = Math.min(Math.max(segment.start, w.t0Ms / 1000), segment.end);
        const we = Math.min(Math.max(ws, w.t1Ms / 1000), segment.end);
        words.push({ text: w.text, start: ws, end: we, probability: w.p });
      }
      if (words.length) {
        segment.words = words;
        if (!heardAll) segment.text = words.map((w) => w.text).join(" ");
      }
    }
    segments.push(segment);
  }
  return {
    index: result.index,
    start,
    end,
    segments,
    language: result.language || undefined,
    engine: "local",
    model,
    workerId: result.workerId,
    precision: "word",
    temperatureRetries: result.temperatureRetries,
    windows: result.windows,
    timings: {
      wallMs: result.timings.wallMs,
      melMs: result.timings.melMs,
      encodeMs: result.timings.encodeMs,
      decoderMs: result.timings.decoderMs,
      startedAt: result.timings.startedAtMs,
    },
  };
}
