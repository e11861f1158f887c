/**
 * Stitching (pure, deterministic): chunk transcripts → one ordered, non-overlapping transcript.
 * Neighbouring chunks both hear the overlap around each cut, so their words there are aligned —
 * by time first (a match must lie close on the timeline), then by word sequence (longest common
 * subsequence) — and each word is kept once, from the chunk in which it lies farther from the edge.
 * A chunk that failed leaves an explicit gap; nothing disappears silently.
 */
import type { ChunkTranscript, Gap, PlannedChunk, Segment, Word } from "../types";

export interface ChunkFailure {
  code: string;
  reason: string;
}

export interface StitchResult {
  segments: Segment[];
  gaps: Gap[];
}

interface TaggedWord extends Word {
  chunk: number;
  segment: number; // index into that chunk's segments
}

/** How far apart (seconds) two copies of one word may be placed by the two chunks and still match. */
const MATCH_TOLERANCE = 1.5;

export function normalizeWord(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
}

const mid = (w: Word) => (w.start + w.end) / 2;

/** Words of a segment; when the engine gave none, spread its text over its time by character count. */
export function wordsOf(segment: Segment): Word[] {
  if (segment.words?.length) return segment.words;
  const parts = segment.text.split(/\s+/).filter(Boolean);
  const chars = parts.reduce((n, p) => n + p.length, 0) || 1;
  const span = Math.max(0, segment.end - segment.start);
  let at = segment.start;
  return parts.map((text) => {
    const length = (span * text.length) / chars;
    const word = { text, start: at, end: at + length };
    at += length;
    return word;
  });
}

function tag(result: ChunkTranscript): TaggedWord[] {
  const out: TaggedWord[] = [];
  result.segments.forEach((segment, s) => {
    for (const w of wordsOf(segment)) out.push({ ...w, chunk: result.index, segment: s });
  });
  return out;
}

/**
 * Longest common subsequence of normalised words whose copies also lie close in time. Among
 * alignments with the most matches, the one whose matched copies lie closest wins: when a chunk
 * heard "and and" where its neighbour heard one "and", the single copy pairs with its twin at the
 * same time, not with the earlier one (which would leave both chunks' copies in the text).
 */
export function alignWords(a: Word[], b: Word[], tolerance = MATCH_TOLERANCE): [number, number][] {
  const na = a.map((w) => normalizeWord(w.text));
  const nb = b.map((w) => normalizeWord(w.text));
  // A match is worth 1 less a sliver for its distance; the slivers of a whole overlap never add up to a match.
  const sliver = 1 / (4 * (Math.min(a.length, b.length) + 1) * tolerance);
  const worth = (i: number, j: number) =>
    na[i] !== "" && na[i] === nb[j] && Math.abs(mid(a[i]) - mid(b[j])) <= tolerance ? 1 - sliver * Math.abs(mid(a[i]) - mid(b[j])) : 0;
  const dp: Float64Array[] = Array.from({ length: a.length + 1 }, () => new Float64Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) {
      const w = worth(i, j);
      dp[i][j] = Math.max(w > 0 ? dp[i + 1][j + 1] + w : 0, dp[i + 1][j], dp[i][j + 1]);
    }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const w = worth(i, j);
    if (w > 0 && dp[i][j] === dp[i + 1][j + 1] + w) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (dp[i + 1][j] >= dp[i][j + 1]) i++;
    else j++;
  }
  return pairs;
}

/**
 * Joins the words kept so far (ending with chunk A) with chunk B's words across cut `cut`.
 * [winStart, winEnd] is the audio both chunks heard.
 */
export function mergeAtCut(kept: TaggedWord[], next: TaggedWord[], cut: number, winStart: number, winEnd: number): TaggedWord[] {
  const tailFrom = kept.findIndex((w) => mid(w) >= winStart);
  const tailStart = tailFrom < 0 ? kept.length : tailFrom;
  const tail = kept.slice(tailStart);
  const headEnd = next.findIndex((w) => mid(w) > winEnd);
  const head = next.slice(0, headEnd < 0 ? next.length : headEnd);
  const pairs = alignWords(tail, head);
  if (pairs.length === 0) {
    // No shared words: each chunk keeps what lies on its side of the cut.
    return [...kept.filter((w) => mid(w) < cut), ...next.filter((w) => mid(w) >= cut)];
  }
  // Switch from A to B at the matched word nearest the cut: before it A's copy is farther from
  // A's edge, after it B's copy is farther from B's edge.
  let best = pairs[0];
  let bestDistance = Infinity;
  for (const p of pairs) {
    const d = Math.abs((mid(tail[p[0]]) + mid(head[p[1]])) / 2 - cut);
    if (d < bestDistance) {
      bestDistance = d;
      best = p;
    }
  }
  const [ia, jb] = best;
  const anchor = (mid(tail[ia]) + mid(head[jb])) / 2 < cut ? tail[ia] : head[jb];
  return [...kept.slice(0, tailStart + ia), anchor, ...next.slice(jb + 1)];
}

function segmentsFromWords(words: TaggedWord[], results: Map<number, ChunkTranscript>): Segment[] {
  const segments: Segment[] = [];
  let i = 0;
  while (i < words.length) {
    const { chunk, segment } = words[i];
    let j = i;
    while (j < words.length && words[j].chunk === chunk && words[j].segment === segment) j++;
    const group = words.slice(i, j);
    const original = results.get(chunk)!.segments[segment];
    const whole = group.length === wordsOf(original).length;
    const out: Segment = {
      start: whole ? original.start : group[0].start,
      end: whole ? original.end : group[group.length - 1].end,
      text: whole ? original.text.trim() : group.map((w) => w.text).join(" "),
      words: group.map(({ text, start, end, probability }) => (probability === undefined ? { text, start, end } : { text, start, end, probability })),
      chunk,
    };
    if (original.noSpeechProb !== undefined) out.noSpeechProb = original.noSpeechProb;
    segments.push(out);
    i = j;
  }
  // Ordered and non-overlapping, whatever the engines' timestamps said.
  let floor = 0;
  for (const s of segments) {
    s.start = Math.max(s.start, floor);
    s.end = Math.max(s.end, s.start);
    for (const w of s.words ?? []) {
      w.start = Math.min(Math.max(w.start, s.start), s.end);
      w.end = Math.min(Math.max(w.end, w.start), s.end);
    }
    floor = s.end;
  }
  return segments.filter((s) => s.text.length > 0);
}

export function stitch(
  chunks: PlannedChunk[],
  results: ReadonlyMap<number, ChunkTranscript>,
  failures: ReadonlyMap<number, ChunkFailure> = new Map(),
): StitchResult {
  const ordered = [...chunks].sort((a, b) => a.index - b.index);
  const byIndex = new Map(results);
  let kept: TaggedWord[] = [];
  let previous: PlannedChunk | undefined;
  const gaps: Gap[] = [];
  for (let k = 0; k < ordered.length; k++) {
    const chunk = ordered[k];
    const result = byIndex.get(chunk.index);
    if (!result) {
      const prevOk = k > 0 && byIndex.has(ordered[k - 1].index) && ordered[k - 1].ownEnd === chunk.ownStart;
      const nextOk = k < ordered.length - 1 && byIndex.has(ordered[k + 1].index) && ordered[k + 1].ownStart === chunk.ownEnd;
      const failure = failures.get(chunk.index) ?? { code: "NOT_TRANSCRIBED", reason: "The chunk was not transcribed." };
      const start = prevOk ? Math.min(chunk.ownEnd, Math.max(chunk.ownStart, ordered[k - 1].end)) : chunk.ownStart;
      const end = nextOk ? Math.max(start, Math.min(chunk.ownEnd, ordered[k + 1].start)) : chunk.ownEnd;
      gaps.push({ start, end, chunk: chunk.index, code: failure.code, reason: failure.reason });
      previous = undefined;
      continue;
    }
    const words = tag(result);
    if (previous && previous.ownEnd === chunk.ownStart && chunk.start < previous.end) {
      kept = mergeAtCut(kept, words, chunk.ownStart, chunk.start, previous.end);
    } else {
      kept = kept.concat(words);
    }
    previous = chunk;
  }
  return { segments: segmentsFromWords(kept, byIndex), gaps };
}
