/**
 * Text while the job runs: as chunks finish (in any order), the longest run of finished chunks from
 * the start of the file is stitched, and the segments that no later chunk can change any more —
 * those ending before the next chunk's audio begins — are handed out once, in order. What it hands
 * out is exactly the start of the final transcript.
 */
import type { ChunkTranscript, PlannedChunk, Segment } from "../types";
import { stitch } from "./stitch";

export class StitchedPrefix {
  private readonly plan: PlannedChunk[];
  private readonly results = new Map<number, ChunkTranscript>();
  private emitted = 0;

  constructor(
    plan: PlannedChunk[],
    private readonly onSegments: (segments: Segment[]) => void,
  ) {
    this.plan = [...plan].sort((a, b) => a.index - b.index);
  }

  /** Segments handed out so far. */
  get count(): number {
    return this.emitted;
  }

  add(result: ChunkTranscript): void {
    this.results.set(result.index, result);
    let k = 0;
    while (k < this.plan.length && this.results.has(this.plan[k].index)) k++;
    if (k === 0) return;
    const prefix = this.plan.slice(0, k);
    const { segments } = stitch(prefix, this.results);
    // The next chunk re-aligns words from where its audio starts; everything before is final.
    const stableBefore = k < this.plan.length ? this.plan[k].start : Infinity;
    let end = this.emitted;
    while (end < segments.length && segments[end].end < stableBefore) end++;
    if (end > this.emitted) {
      this.onSegments(segments.slice(this.emitted, end));
      this.emitted = end;
    }
  }
}
