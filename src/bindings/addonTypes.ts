/**
 * The one description of everything the native addon exports (native/addon.cpp). Nothing outside
 * src/bindings and the local engine touches these types directly.
 */
export interface NativeModelOptions {
  useGpu?: boolean;
  flashAttn?: boolean;
  gpuDevice?: number;
  /** Linux: weights and compute buffers on transparent huge pages (default true; native/HugePages.h). */
  hugePages?: boolean;
}

export interface NativeModelFacts {
  path: string;
  /** whisper.cpp's readable model type: "tiny", "base", "small", "medium", "large". */
  type: string;
  multilingual: boolean;
  nMels: number;
  nVocab: number;
  nAudioLayer: number;
  nTextLayer: number;
  nAudioState: number;
  ftype: number;
  /** Bytes of the shared weights, as whisper.cpp allocated them. */
  weightsBytes: number;
  useGpu: boolean;
}

export interface NativeMemory {
  weightsBytes: number;
  /** Bytes of one worker state (KV caches + compute buffers), measured when the first was created. */
  stateBytes: number;
  workers: number;
  totalBytes: number;
}

/**
 * A chunk's samples, inline or read by its worker from the decoded file; `speed` (1–2, default 1):
 * the worker plays them that much faster before whisper hears them (native/SpeedUp.h), times
 * coming back on the played audio's clock.
 */
export type NativeChunk = { index: number; offsetMs: number; speed?: number } & (
  { pcm: Float32Array } | { path: string; sampleOffset: number; sampleCount: number }
);

export interface NativeDecodeOptions {
  threads?: number;
  language?: string;
  translate?: boolean;
  initialPrompt?: string;
  carryInitialPrompt?: boolean;
  noContext?: boolean;
  /** Tokens of the earlier windows' text carried into the next window as a prompt (whisper.cpp default 16384, capped at 224); 0 = none. */
  maxTextContext?: number;
  beamSize?: number;
  bestOf?: number;
  temperature?: number;
  temperatureIncrement?: number;
  entropyThreshold?: number;
  logprobThreshold?: number;
  noSpeechThreshold?: number;
  tokenTimestamps?: boolean;
  tokens?: boolean;
  maxSegmentLength?: number;
  splitOnWord?: boolean;
  maxTokensPerSegment?: number;
  suppressNonSpeech?: boolean;
  suppressBlank?: boolean;
  vadModelPath?: string;
  vadThreshold?: number;
  vadMinSpeechMs?: number;
  vadMinSilenceMs?: number;
  vadSpeechPadMs?: number;
}

export interface NativeToken {
  id: number;
  text: string;
  p: number;
  /** On the file's timeline; -1 unless token timestamps were requested. */
  t0Ms: number;
  t1Ms: number;
  special: boolean;
}

export interface NativeSegment {
  t0Ms: number;
  t1Ms: number;
  text: string;
  noSpeechProb: number;
  speakerTurnNext: boolean;
  /** Present with `tokens: true`: tokens, and words assembled from them on the byte level. */
  tokens?: NativeToken[];
  words?: { text: string; t0Ms: number; t1Ms: number; p: number }[];
}

export interface NativeChunkResult {
  index: number;
  workerId: number;
  language: string;
  audioMs: number;
  /** Windows whisper.cpp decoded again at a higher temperature. */
  temperatureRetries: number;
  /** 30-second windows whisper.cpp encoded for this chunk (what it cost; see planning/windowPlan.ts). */
  windows: number;
  /** Ended early by `stopAt`: where its text ends (file timeline, played clock). */
  stoppedAtMs?: number;
  /** decoderMs: whisper's token decoder (not ffmpeg's media decoding). */
  timings: { startedAtMs: number; wallMs: number; melMs: number; encodeMs: number; decoderMs: number };
  segments: NativeSegment[];
}

export type NativeJobEvent =
  | { type: "chunkStart"; chunkIndex: number; workerId: number; percent: number }
  | { type: "progress"; chunkIndex: number; workerId: number; percent: number }
  /** Segments whisper.cpp just finished in a running chunk: text and times (file timeline, ms) only. */
  | { type: "segments"; chunkIndex: number; workerId: number; percent: number; segments: Pick<NativeSegment, "t0Ms" | "t1Ms" | "text" | "noSpeechProb">[] }
  | { type: "chunkDone"; chunkIndex: number; workerId: number; percent: number; result: NativeChunkResult };

export interface NativeWhisperModel {
  load(): Promise<NativeModelFacts>;
  facts(): NativeModelFacts;
  resize(workers: number): Promise<{ workers: number; stateBytes: number }>;
  /** Results arrive in completion order; each chunk's `index` says which it is. */
  transcribe(jobId: number, chunks: NativeChunk[], options: NativeDecodeOptions, onEvent?: (event: NativeJobEvent) => void): Promise<NativeChunkResult[]>;
  abort(jobId: number): void;
  /**
   * Ends a job's chunks early: each stops before its next window once its text reaches `atMs`
   * (file timeline, on the clock the worker plays). False when the job has already ended.
   */
  stopAt(jobId: number, atMs: number): boolean;
  memory(): NativeMemory;
  dispose(): Promise<void>;
}

export interface NativeDevice {
  name: string;
  description: string;
  type: "cpu" | "gpu" | "igpu" | "accel";
  memoryFree: number;
  memoryTotal: number;
}

export interface NativeSystemInfo {
  whisperVersion: string;
  features: string;
  devices: NativeDevice[];
}

export interface NativeAddon {
  WhisperModel: new (path: string, options?: NativeModelOptions) => NativeWhisperModel;
  systemInfo(): NativeSystemInfo;
  /** The resampler a worker plays a sped-up chunk through, on this thread (tests and tools). */
  speedUp(samples: Float32Array, speed: number): Float32Array;
  napiVersion: number;
  /** What this build offers TypeScript (native/addon.cpp kInterfaceVersion); absent before 2. */
  interfaceVersion?: number;
}
