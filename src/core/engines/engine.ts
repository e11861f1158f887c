/** The contract between the scheduler and anything that can transcribe one chunk. */
import type { ChunkTranscript, EngineKind, PlannedChunk, Segment } from "../types";

/** Decoded audio: a raw little-endian float32, 16 kHz mono file (never held whole in the JS heap). */
export interface DecodedAudio {
  path: string;
  sampleRate: 16000;
  samples: number;
  duration: number;
}

export type ChunkStep = "encoding" | "sent";

/** What the user asked for, engine-neutral. */
export interface TranscribeOptions {
  language?: string; // "auto" or a code such as "en", "ko"
  translate?: boolean;
  prompt?: string;
  /**
   * Local engines: tokens of a chunk's earlier 30-second windows fed to the next window as a prompt
   * (whisper's "condition on previous text"). 0 decodes every window on its own.
   */
  textContext?: number;
  /** Set by the scheduler for a retry after an empty answer (local engines). */
  temperature?: number;
  vadModelPath?: string;
}

export interface ChunkRequest {
  chunk: PlannedChunk;
  audio: DecodedAudio;
  options: TranscribeOptions;
  signal: AbortSignal;
  /** Threads this chunk may use (local engines). */
  threads?: number;
  onProgress?: (percent: number, workerId: number) => void;
  /**
   * Engines that finish text before the chunk ends (local whisper: every 30-second window): the new
   * segments, on the file's timeline. A preview — the chunk's result is what counts.
   */
  onSegments?: (segments: Segment[]) => void;
  /** Engines whose work has visible steps (the cloud: encoding the upload, then the request in flight). */
  onStep?: (step: ChunkStep) => void;
  onStart?: (workerId: number) => void;
  /** Engines that can end a running chunk early (local whisper): called once, as the chunk is queued. */
  onStoppable?: (control: StopControl) => void;
}

/** A running chunk that can be ended early, so another worker takes the rest (scheduling/tailSplit.ts). */
export interface StopControl {
  /**
   * Ends the chunk once its text reaches `at` seconds (file timeline): it stops before its next
   * 30-second window, and its transcript then ends at `at`. False when it has already ended: its
   * transcript covers all of it.
   */
  stopAt(at: number): boolean;
}

export interface TranscriptionEngine {
  readonly kind: EngineKind;
  /** e.g. "local" or "openai"; with `model` it identifies results in the resume cache. */
  readonly name: string;
  readonly model: string;
  /** Chunks this engine can run at once right now. */
  capacity(): number;
  transcribeChunk(request: ChunkRequest): Promise<ChunkTranscript>;
  /** Local engines: grow or shrink the native pool (one whisper_state per worker). */
  resize?(workers: number): Promise<unknown>;
  dispose(): Promise<void>;
}
