/**
 * The cloud engine: chunks go to the OpenAI transcription API or to any server that speaks it
 * (whisper.cpp's whisper-server, Groq, LocalAI), spread over one or more endpoints by free
 * capacity, under a process-wide request-rate limit, with 429/5xx/timeout retries and fatal
 * errors that fail fast with a code that says what to do.
 */
import OpenAI, { toFile } from "openai";
import pLimit, { type LimitFunction } from "p-limit";

import type { CloudEndpoint, FleetConfig } from "../config";
import { abortError, FleetError, type ErrorCode } from "../errors";
import { runFfmpeg, stderrTail } from "../media/ffmpeg";
import { cloudModel } from "../cloud/cloudModels";
import { realClock, retryAfterMs, sharedLimiter, TOKENS_PER_AUDIO_SECOND, type LimiterClock, type RateLimiter } from "../cloud/rateLimiter";
import type { ChunkTranscript, Segment } from "../types";
import type { ChunkRequest, TranscriptionEngine } from "./engine";

/** Upload limit of the OpenAI API; chunks are encoded well below it. */
export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

interface Endpoint {
  config: CloudEndpoint;
  client: OpenAI;
  limit: LimitFunction;
  limiter: RateLimiter;
  active: number;
  downUntil: number;
  label: string;
}

export interface OpenAIEngineOptions {
  model: string;
  endpoints: CloudEndpoint[];
  requestsPerMinute: number;
  /** Tokens-per-minute budget shared by every request to one endpoint (default: none). */
  tokensPerMinute?: number;
  ffmpeg: string;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
  clock?: LimiterClock;
}

export function createCloudEngine(cloud: FleetConfig["cloud"], ffmpeg: string, timeoutMs?: number): OpenAIEngine {
  return new OpenAIEngine({
    model: cloud.model,
    endpoints: cloud.endpoints,
    requestsPerMinute: cloud.requestsPerMinute,
    tokensPerMinute: cloud.tokensPerMinute,
    ffmpeg,
    timeoutMs,
  });
}

export class OpenAIEngine implements TranscriptionEngine {
  readonly kind = "cloud" as const;
  readonly name = "openai";
  readonly model: string;
  private readonly endpoints: Endpoint[];
  private readonly clock: LimiterClock;
  /** Requests sent, per endpoint label (for tests and metrics). */
  readonly requests = new Map<string, number>();

  constructor(private readonly options: OpenAIEngineOptions) {
    if (!options.endpoints.length) throw new FleetError("CLOUD_NOT_CONFIGURED", "No cloud endpoint is configured.");
    this.model = options.model;
    this.clock = options.clock ?? realClock;
    this.endpoints = options.endpoints.map((config, i) => {
      const label = config.baseURL ?? "api.openai.com";
      return {
        config,
        // Our own retry loop honours Retry-After and the shared limiter; the SDK's must not stack on it.
        client: new OpenAI({ apiKey: config.apiKey ?? "not-needed", baseURL: config.baseURL, maxRetries: 0, timeout: options.timeoutMs ?? 300_000 }),
        limit: pLimit(config.concurrency),
        limiter: sharedLimiter(label, options.requestsPerMinute, options.tokensPerMinute),
        active: 0,
        downUntil: 0,
        label: `${i}:${label}`,
      };
    });
  }

  capacity(): number {
    return this.endpoints.reduce((n, e) => n + e.config.concurrency, 0);
  }

  /** The endpoint with the most free slots that is not marked down. */
  private pick(exclude: Set<Endpoint>): Endpoint | undefined {
    const now = this.clock.now();
    const up = this.endpoints.filter((e) => e.downUntil <= now && !exclude.has(e));
    const pool = up.length ? up : this.endpoints.filter((e) => !exclude.has(e));
    return pool.sort((a, b) => b.config.concurrency - b.active - (a.config.concurrency - a.active))[0];
  }

  async transcribeChunk(request: ChunkRequest): Promise<ChunkTranscript> {
    const { signal } = request;
    const started = Date.now();
    request.onStep?.("encoding");
    const upload = await this.encode(request);
    request.onProgress?.(10, 0);
    // Encoded once, before any rate-limit slot is taken, so the slot is spent on sending; the SDK's
    // file object is made afresh for every request (a body stream is read once).
    const file = () => toFile(upload, `chunk-${request.chunk.index}.mp3`, { type: "audio/mpeg" });
    // One request per call: the scheduler owns retries and backoff. The engine only routes around
    // an endpoint that does not answer at all, and pauses one that asked for a Retry-After.
    const failedEndpoints = new Set<Endpoint>();
    for (;;) {
      if (signal.aborted) throw abortError();
      const endpoint = this.pick(failedEndpoints) ?? this.endpoints[0];
      try {
        const body = await file();
        const answer = await endpoint.limit(async () => {
          endpoint.active++;
          try {
            const estimate = Math.ceil((request.chunk.end - request.chunk.start) * TOKENS_PER_AUDIO_SECOND);
            await endpoint.limiter.acquire(signal, estimate);
            this.requests.set(endpoint.label, (this.requests.get(endpoint.label) ?? 0) + 1);
            request.onStart?.(this.endpoints.indexOf(endpoint));
            // Upload and the server's work are one request: the SDK cannot tell them apart.
            request.onStep?.("sent");
            request.onProgress?.(20, 0);
            const answer = await this.send(endpoint, body, request);
            const used = (answer as { usage?: { total_tokens?: unknown } } | undefined)?.usage?.total_tokens;
            if (typeof used === "number") endpoint.limiter.settle(estimate, used);
            return answer;
          } finally {
            endpoint.active--;
          }
        });
        return this.toTranscript(answer, request, Date.now() - started);
      } catch (error) {
        if (signal.aborted) throw abortError();
        const e = classify(error, this.model, endpoint.config.baseURL);
        if (!e.retryable) throw e;
        if (e.code === "CLOUD_UNAVAILABLE" && isConnectionError(error)) {
          // A dead server: route around it for a while, without spending an attempt if another is up.
          endpoint.downUntil = this.clock.now() + 30_000;
          failedEndpoints.add(endpoint);
          if (this.endpoints.some((x) => !failedEndpoints.has(x) && x.downUntil <= this.clock.now())) continue;
        }
        const wait = e.code === "CLOUD_RATE_LIMITED" ? (e.details?.retryAfterMs as number | undefined) : undefined;
        if (wait !== undefined) endpoint.limiter.pause(this.clock.now() + wait);
        throw e;
      }
    }
  }

  private send(endpoint: Endpoint, file: Awaited<ReturnType<typeof toFile>>, request: ChunkRequest): Promise<unknown> {
    const { options } = request;
    const verbose = cloudModel(this.model).timestamps;
    const params = {
      file,
      model: this.model,
      ...(options.prompt ? { prompt: options.prompt } : {}),
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      response_format: verbose ? ("verbose_json" as const) : ("json" as const),
    };
    if (options.translate && this.model === "whisper-1") {
      return endpoint.client.audio.translations.create(params as never, { signal: request.signal });
    }
    return endpoint.client.audio.transcriptions.create(
      {
        ...params,
        ...(options.language && options.language !== "auto" ? { language: options.language } : {}),
        // Word times are what the stitcher aligns overlaps on.
        ...(verbose ? { timestamp_granularities: ["word" as const, "segment" as const] } : {}),
      } as never,
      { signal: request.signal },
    );
  }

  /** Encodes the chunk's range of the decoded audio to compact 16 kHz mono MP3 (under 25 MB for any allowed length). */
  private async encode(request: ChunkRequest): Promise<Buffer> {
    const { chunk, audio, signal } = request;
    const duration = chunk.end - chunk.start;
    const bitrate = duration > 3000 ? "24k" : "48k";
    const { code, stdout, stderr } = await runFfmpeg(
      this.options.ffmpeg,
      [
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-f",
        "f32le",
        "-ar",
        String(audio.sampleRate),
        "-ac",
        "1",
        "-ss",
        chunk.start.toFixed(3),
        "-t",
        duration.toFixed(3),
        "-i",
        audio.path,
        "-c:a",
        "libmp3lame",
        "-b:a",
        bitrate,
        "-f",
        "mp3",
        "pipe:1",
      ],
      signal,
    );
    if (signal.aborted) throw abortError();
    if (code !== 0 || stdout.length === 0) throw new FleetError("FFMPEG_FAILED", `Encoding chunk ${chunk.index + 1} for upload failed: ${stderrTail(stderr)}`);
    if (stdout.length > MAX_UPLOAD_BYTES)
      throw new FleetError(
        "CLOUD_REQUEST_TOO_LARGE",
        `Chunk ${chunk.index + 1} encodes to ${(stdout.length / 1e6).toFixed(1)} MB, over the 25 MB upload limit.`,
        { hint: "Use shorter chunks (CHUNK_SECONDS)." },
      );
    return stdout;
  }

  private toTranscript(body: unknown, request: ChunkRequest, wallMs: number): ChunkTranscript {
    const { chunk } = request;
    const b = body as { text?: unknown; language?: unknown; segments?: unknown; words?: unknown };
    if (!b || typeof b !== "object" || typeof b.text !== "string")
      throw new FleetError("CLOUD_BAD_RESPONSE", `The transcription server returned an unexpected response for chunk ${chunk.index + 1}.`, { retryable: true });
    const segments: Segment[] = [];
    const words = Array.isArray(b.words) ? (b.words as { word: string; start: number; end: number }[]) : [];
    const clip = (t: number) => Math.min(chunk.end, Math.max(chunk.start, chunk.start + t));
    if (Array.isArray(b.segments) && b.segments.length) {
      for (const s of b.segments as { start: number; end: number; text: string; no_speech_prob?: number }[]) {
        const text = String(s.text ?? "").trim();
        if (!text || !Number.isFinite(s.start)) continue;
        const seg: Segment = { start: clip(s.start), end: clip(s.end), text, chunk: chunk.index };
        if (typeof s.no_speech_prob === "number") seg.noSpeechProb = s.no_speech_prob;
        const inside = words.filter((w) => w.start >= s.start - 0.01 && w.end <= s.end + 0.01);
        if (inside.length) seg.words = inside.map((w) => ({ text: w.word.trim(), start: clip(w.start), end: clip(w.end) }));
        segments.push(seg);
      }
    } else if (b.text.trim()) {
      // Text-only models: one segment for the audio sent, marked as chunk-level timing.
      segments.push({ start: chunk.start, end: chunk.end, text: b.text.trim(), chunk: chunk.index });
    }
    const precision = Array.isArray(b.segments) && b.segments.length ? (words.length ? "word" : "segment") : "chunk";
    return {
      index: chunk.index,
      start: chunk.start,
      end: chunk.end,
      segments,
      language: typeof b.language === "string" ? normalizeLanguage(b.language) : undefined,
      engine: this.name,
      model: this.model,
      precision,
      temperatureRetries: 0,
      timings: { wallMs },
    };
  }

  async dispose(): Promise<void> {
    // Nothing held open: clients use pooled fetch connections.
  }
}

const LANGUAGE_NAMES: Record<string, string> = { english: "en", korean: "ko", japanese: "ja", chinese: "zh", spanish: "es", german: "de", french: "fr" };
function normalizeLanguage(l: string): string {
  return LANGUAGE_NAMES[l.toLowerCase()] ?? l;
}

function isConnectionError(error: unknown): boolean {
  return error instanceof OpenAI.APIConnectionError && !(error instanceof OpenAI.APIConnectionTimeoutError);
}

/** Maps SDK errors to coded FleetErrors: fatal ones say what to do; transient ones are retryable. */
export function classify(error: unknown, model: string, baseURL?: string): FleetError {
  if (error instanceof FleetError) return error;
  const where = baseURL ?? "the OpenAI API";
  if (error instanceof OpenAI.APIConnectionTimeoutError)
    return new FleetError("CLOUD_UNAVAILABLE", `${where} did not answer in time.`, { retryable: true, cause: error });
  if (error instanceof OpenAI.APIUserAbortError) return abortError(error);
  if (error instanceof OpenAI.APIConnectionError)
    return new FleetError("CLOUD_UNAVAILABLE", `Could not reach ${where}: ${error.message}`, { retryable: true, cause: error });
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? 0;
    const code = (error.code ?? (error.error as { code?: string } | undefined)?.code) as string | undefined;
    const make = (c: ErrorCode, message: string, retryable = false, details?: Record<string, unknown>) =>
      new FleetError(c, message, { retryable, cause: error, details });
    if (status === 401 || status === 403) return make("CLOUD_AUTH", `${where} rejected the API key (HTTP ${status}).`);
    if (status === 429 && code === "insufficient_quota") return make("CLOUD_QUOTA", `The account behind this key at ${where} has no quota left.`);
    if (status === 429)
      return make("CLOUD_RATE_LIMITED", `${where} is rate limiting requests (HTTP 429).`, true, { retryAfterMs: retryAfterMs(error.headers) });
    if (status === 404) return make("CLOUD_MODEL_NOT_FOUND", `${where} does not know the model "${model}" (HTTP 404).`, false);
    if (status === 413) return make("CLOUD_REQUEST_TOO_LARGE", `${where} refused the upload as too large (HTTP 413).`, false);
    if (status >= 500) return make("CLOUD_UNAVAILABLE", `${where} failed with HTTP ${status}.`, true);
    return make("CLOUD_BAD_RESPONSE", `${where} answered HTTP ${status}: ${error.message}`, false);
  }
  if (error instanceof SyntaxError) return new FleetError("CLOUD_BAD_RESPONSE", `${where} returned malformed JSON.`, { retryable: true, cause: error });
  const e = error as Error;
  if (e?.name === "AbortError") return abortError(error);
  return new FleetError("CLOUD_BAD_RESPONSE", `${where}: ${e?.message ?? String(error)}`, { retryable: true, cause: error });
}
