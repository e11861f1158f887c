/**
 * Plain text on standard output while the job runs: paragraphs are written as soon as they are
 * complete (a later segment can still join the last one), and the rest when the job ends. What is
 * written, start to end, is exactly what `toText` writes for the finished transcript.
 */
import { paragraphs, paragraphText, type FormatOptions } from "../core/output/formats";
import type { Segment, Transcript } from "../core/types";

export class ParagraphStream {
  private readonly segments: Segment[] = [];
  private written = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly options: FormatOptions = {},
  ) {}

  add(segments: Segment[]): void {
    this.segments.push(...segments);
    const partial = paragraphs(this.asTranscript(), this.options.paragraphPause);
    for (; this.written < partial.length - 1; this.written++) this.write(`${paragraphText(partial[this.written], this.options, false)}\n\n`);
  }

  /** Writes what is left of the finished transcript. */
  finish(t: Transcript): void {
    const long = t.source.duration >= 3600;
    const rest = paragraphs(t, this.options.paragraphPause).slice(this.written);
    this.write(`${rest.map((p) => paragraphText(p, this.options, long)).join("\n\n")}\n`);
  }

  private asTranscript(): Transcript {
    return { source: { path: "", duration: 0 }, engine: "", model: "", precision: "segment", segments: this.segments, gaps: [], fallbacks: [] };
  }
}
