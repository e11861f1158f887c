/**
 * One attempt of a chunk that idle workers may help finish (tailSplit.ts): its pieces — the audio
 * each worker was given, how far its text has come, the way to end it early — and, once every
 * piece is done, their transcripts stitched into the chunk's one transcript.
 */
import type { StopControl } from "../engines/engine";
import { stitch } from "../stitching/stitch";
import type { ChunkTranscript, PlannedChunk, Segment } from "../types";
import type { RunningPiece } from "./tailSplit";

export interface Piece {
  /** The audio this piece is sent (its end moves earlier when it is split). */
  start: number;
  end: number;
  /** Where the part it owns begins: the chunk's start, or the split that made it. */
  cut: number;
  heardTo: number;
  since: number;
  heardAt: number;
  control?: StopControl;
  result?: ChunkTranscript;
}

export class SplitChunk {
  readonly pieces: Piece[];
  /** Why a helper failed: what the attempt failed of, whatever the pieces it stopped then said. */
  failure?: unknown;
  private readonly helpers: Promise<void>[] = [];

  constructor(
    readonly chunk: PlannedChunk,
    now: number,
  ) {
    this.pieces = [{ start: chunk.start, end: chunk.end, cut: chunk.start, heardTo: chunk.start, since: now, heardAt: now }];
  }

  get owner(): Piece {
    return this.pieces[0];
  }

  get split(): boolean {
    return this.pieces.length > 1;
  }

  /** Text a piece just finished: how far it has come. */
  heard(piece: Piece, segments: Segment[], now: number): void {
    const to = Math.max(...segments.map((s) => s.end));
    if (to > piece.heardTo) {
      piece.heardTo = to;
      piece.heardAt = now;
    }
  }

  /** The piece as tailSplit.ts sees it. */
  view(piece: Piece, now: number): RunningPiece {
    return { start: piece.start, end: piece.end, heardTo: piece.heardTo, runningMs: now - piece.since, sinceHeardMs: now - piece.heardAt };
  }

  /**
   * Ends `piece` early at `at` + `halfOverlap` and returns the piece that takes the rest (from
   * `at` − `halfOverlap`), or undefined when the piece had already ended.
   */
  splitAt(piece: Piece, at: number, halfOverlap: number, now: number): Piece | undefined {
    if (piece.result || !piece.control?.stopAt(at + halfOverlap)) return undefined;
    const rest: Piece = { start: at - halfOverlap, end: piece.end, cut: at, heardTo: at - halfOverlap, since: now, heardAt: now };
    piece.end = at + halfOverlap;
    this.pieces.push(rest);
    return rest;
  }

  /** What a helper piece runs: the chunk's audio from its start to its end. */
  request(piece: Piece): PlannedChunk {
    return { ...this.chunk, start: piece.start, end: piece.end, ownStart: piece.cut, overlapBefore: piece.cut - piece.start };
  }

  /** A helper's run; its failure fails the chunk's attempt (`finish` rejects with it). */
  addHelper(run: Promise<void>): void {
    // Seen by `finish`, not left unhandled while the owner still runs.
    run.catch((error) => {
      this.failure ??= error;
    });
    this.helpers.push(run);
  }

  /** Waits for every helper (helpers may be split too), then stitches the pieces into one transcript. */
  async finish(): Promise<ChunkTranscript> {
    // A helper may be split again while this waits (a worker that finished a piece takes part of
    // another): wait until a round adds none.
    for (let seen = 0; seen < this.helpers.length;) {
      seen = this.helpers.length;
      await Promise.allSettled(this.helpers);
    }
    if (this.failure !== undefined) throw this.failure;
    const ordered = [...this.pieces].sort((a, b) => a.start - b.start);
    const owner = this.owner.result!;
    if (ordered.length === 1) return owner;
    const plan: PlannedChunk[] = ordered.map((p, i) => {
      const ownEnd = i + 1 < ordered.length ? ordered[i + 1].cut : this.chunk.end;
      const end = p.result!.end;
      return { index: i, start: p.start, end, ownStart: p.cut, ownEnd, overlapBefore: p.cut - p.start, overlapAfter: Math.max(0, end - ownEnd) };
    });
    const results = new Map(ordered.map((p, i) => [i, { ...p.result!, index: i }]));
    const { segments } = stitch(plan, results);
    const parts = ordered.map((p) => p.result!);
    const sum = (f: (t: ChunkTranscript) => number | undefined) => parts.reduce((n, t) => n + (f(t) ?? 0), 0);
    return {
      ...owner,
      end: this.chunk.end,
      segments: segments.map((s) => ({ ...s, chunk: this.chunk.index })),
      windows: sum((t) => t.windows),
      temperatureRetries: sum((t) => t.temperatureRetries),
      pieces: ordered.length,
      timings: {
        ...owner.timings,
        wallMs: Math.max(...parts.map((t) => (t.timings.startedAt ?? 0) + t.timings.wallMs)) - (owner.timings.startedAt ?? 0),
        encodeMs: sum((t) => t.timings.encodeMs),
        decoderMs: sum((t) => t.timings.decoderMs),
        melMs: sum((t) => t.timings.melMs),
      },
    };
  }
}
