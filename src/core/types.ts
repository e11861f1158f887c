/** The domain model shared by every part of the core. Times are seconds on the file's timeline. */

export interface Word {
  text: string;
  start: number;
  end: number;
  probability?: number;
}

export interface Segment {
  start: number;
  end: number;
  text: string;
  words?: Word[];
  noSpeechProb?: number;
  /** Index of the chunk this segment came from. */
  chunk?: number;
}

/** A stretch of the file with no transcript, and why: nothing is dropped silently. */
export interface Gap {
  start: number;
  end: number;
  chunk: number;
  code: string;
  reason: string;
}

/**
 * One planned chunk. [start, end) is the audio sent to the engine. The chunk owns [ownStart, ownEnd),
 * the stretch between its two cut points (owned stretches tile the file); it also hears
 * `overlapBefore` seconds before ownStart and `overlapAfter` after ownEnd, which its neighbours own.
 */
export interface PlannedChunk {
  index: number;
  start: number;
  end: number;
  overlapBefore: number;
  overlapAfter: number;
  /** The cut points around this chunk: the plan's chunks own [ownStart, ownEnd) and tile the file. */
  ownStart: number;
  ownEnd: number;
  /**
   * The plan's last chunk holds windows that would otherwise leave workers idle: it waits for the
   * others to finish and then runs on every core (local engines).
   */
  solo?: boolean;
  /**
   * Local engines: the chunk is played this much faster (a few percent at most) so it fits the
   * 30-second windows it was planned for; times come back on the file's timeline. Absent: as recorded.
   */
  speed?: number;
}

export type TimestampPrecision = "word" | "segment" | "chunk";

/** What an engine returns for one chunk, already on the file's timeline. */
export interface ChunkTranscript {
  index: number;
  start: number;
  end: number;
  segments: Segment[];
  language?: string;
  engine: string;
  model: string;
  workerId?: number;
  precision: TimestampPrecision;
  /** Windows decoded again at a higher temperature (local engines). */
  temperatureRetries: number;
  /** 30-second windows the local engine encoded for this chunk. */
  windows?: number;
  /** The chunk was played this much faster to fit its windows (PlannedChunk.speed). */
  speed?: number;
  /** Workers that finished it: more than one when idle workers took the rest of it (scheduling/tailSplit.ts). */
  pieces?: number;
  /** decoderMs: whisper's token decoder; ffmpeg's media decoding is JobMetrics.mediaDecodeMs. */
  timings: { wallMs: number; melMs?: number; encodeMs?: number; decoderMs?: number; startedAt?: number };
}

export type EngineKind = "local" | "cloud";

export interface FallbackRecord {
  at: number;
  from: string;
  to: string;
  reason: string;
  chunks: number[];
}

export interface ChunkMetric {
  index: number;
  start: number;
  end: number;
  engine: string;
  workerId?: number;
  attempts: number;
  wallMs: number;
  /** Threads the successful attempt ran with (local engines). */
  threads?: number;
  /** whisper windows the chunk cost (local engines): what the plan's window count predicted. */
  windows?: number;
  /** The chunk was played this much faster to fit its windows (absent: as recorded). */
  speed?: number;
  /** Workers that finished it, when idle ones took the rest of it (absent: one). */
  pieces?: number;
  encodeMs?: number;
  decoderMs?: number;
  cached: boolean;
}

export interface JobMetrics {
  wallMs: number;
  /** ffmpeg: reading and resampling the file (with the model loading beside it). */
  mediaDecodeMs: number;
  planMs: number;
  transcribeMs: number;
  stitchMs: number;
  audioSeconds: number;
  realtimeFactor: number;
  chunksPerMinute: number;
  workers: { initial: number; max: number; final: number; threads: number; decision: string; adaptation: string[] };
  /** Time from the start of the job to the first final text (see StitchedPrefix). */
  firstTextMs?: number;
  /** Time from the start of the job to the first text a running chunk produced (a preview: ProgressSnapshot.heard). */
  firstHeardMs?: number;
  workerBusy: Record<string, number>;
  retries: number;
  cachedChunks: number;
  chunks: ChunkMetric[];
}

export interface Transcript {
  source: { path: string; duration: number };
  language?: string;
  engine: string;
  model: string;
  precision: TimestampPrecision;
  segments: Segment[];
  gaps: Gap[];
  fallbacks: FallbackRecord[];
  metrics?: JobMetrics;
  ffmpeg?: { path: string; source: string };
  /** Problems that did not stop the job (ffmpeg's complaints about damaged input). */
  warnings?: string[];
}
