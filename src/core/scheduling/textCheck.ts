/**
 * Empty on speech is not success (pure). The energy map says how many seconds of a chunk are
 * sound well above the recording's quiet level; a transcript with no words over at least
 * MIN_SPEECH_SECONDS of it, or — once a few chunks are in — with under a tenth of the words per
 * second of speech that the other chunks have over at least 10 s of it, is treated as a failed
 * attempt (NO_TEXT_FOR_SPEECH, retried, then a named gap), never as a quiet stretch.
 */
import { FleetError } from "../errors";
import type { ChunkTranscript, PlannedChunk } from "../types";

export const MIN_SPEECH_SECONDS = 3;
const SPARSE_SPEECH_SECONDS = 10;
const SPARSE_RATIO = 0.1;
const NEIGHBOURS_NEEDED = 3;

export function wordCount(t: ChunkTranscript): number {
  return t.segments.reduce((n, s) => n + (s.words?.length ?? s.text.split(/\s+/).filter(Boolean).length), 0);
}

/** Words per second of speech of the chunks accepted so far (what "its neighbours" manage). */
export class WordRates {
  private readonly rates: number[] = [];

  add(words: number, speechSeconds: number): void {
    if (speechSeconds >= SPARSE_SPEECH_SECONDS) this.rates.push(words / speechSeconds);
  }

  median(): number | undefined {
    if (this.rates.length < NEIGHBOURS_NEEDED) return undefined;
    const s = [...this.rates].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  }
}

/** The error to raise for this transcript, or undefined when its words match the speech it covers. */
export function missingText(chunk: PlannedChunk, transcript: ChunkTranscript, speechSeconds: number, neighbours: WordRates): FleetError | undefined {
  const words = wordCount(transcript);
  const where = `Chunk ${chunk.index + 1} (${chunk.start.toFixed(0)}–${chunk.end.toFixed(0)} s)`;
  if (words === 0 && speechSeconds >= MIN_SPEECH_SECONDS)
    return new FleetError("NO_TEXT_FOR_SPEECH", `${where} holds ${speechSeconds.toFixed(0)} s of speech but the engine returned no words for it.`, {
      retryable: true,
    });
  const median = neighbours.median();
  if (median !== undefined && speechSeconds >= SPARSE_SPEECH_SECONDS && words / speechSeconds < median * SPARSE_RATIO)
    return new FleetError(
      "NO_TEXT_FOR_SPEECH",
      `${where} got ${words} word(s) for ${speechSeconds.toFixed(0)} s of speech, under a tenth of what the other chunks got (${median.toFixed(1)} words/s).`,
      { retryable: true },
    );
  return undefined;
}
