/**
 * Splitting a running chunk with a worker that ran out of work (pure). The plan assumes every
 * worker runs a window in the same time; when one does not (a vCPU that the host slows for a while,
 * an efficiency core, a window that decodes many more tokens), the workers that finish first would
 * idle while the last chunk runs on. Instead the running chunk is asked to end early (it stops
 * before its next 30-second window once its text reaches the split) and the idle worker takes the
 * rest of its audio, both hearing an overlap around the split so the stitcher aligns the words
 * there as at any cut inside speech. whisper_full_parallel's equal slices cannot do this.
 */

/** A running piece of a chunk: what it was given, and how far its text has come. */
export interface RunningPiece {
  /** The audio the piece was sent (seconds, file timeline). */
  start: number;
  end: number;
  /** Where its text ends so far (its next window starts there or later). */
  heardTo: number;
  /** Wall ms since the piece started, and since its text last moved. */
  runningMs: number;
  sinceHeardMs: number;
}

export interface SplitInput {
  piece: RunningPiece;
  /** Audio seconds per wall second of the worker running the piece, when known. */
  ownerSpeed?: number;
  /** Audio seconds per wall second of the idle worker (its last chunk). */
  helperSpeed: number;
  /** Seconds each side of the split both workers hear (CHUNK_OVERLAP / 2). */
  halfOverlap: number;
  /** The chunk is played this much faster (PlannedChunk.speed): its windows hold more of the file. */
  playSpeed?: number;
}

export interface Split {
  /** The split point: the piece keeps [start, at + halfOverlap], the helper gets [at - halfOverlap, end]. */
  at: number;
  /** Expected wall seconds until both are done, and until the piece alone would have been. */
  together: number;
  alone: number;
}

/** whisper's window, in seconds of audio. */
const WINDOW = 30;
/**
 * The piece is asked to stop this much before where its k-th window from now is expected to end:
 * whisper moves on by up to a window (less when a window ends on an earlier timestamp), so its text
 * reaches that point after k windows even when they come up a few seconds short of 30.
 */
const STOP_MARGIN = 5;
/** A split must save at least this much of the piece's own time (seconds of audio at its speed). */
const MIN_GAIN_AUDIO = 10;

/**
 * Where to split `piece` so that it and the helper end soonest, or undefined when a split would not
 * save at least MIN_GAIN_AUDIO seconds of the piece's audio (both would end about together anyway,
 * or too little is left to share). Both are priced in whole windows: the piece keeps k more windows
 * (the one it is decoding now included) and is stopped just before the k-th ends; the helper takes
 * the rest, from `halfOverlap` before the split.
 */
export function splitPoint(input: SplitInput): Split | undefined {
  const { piece, helperSpeed, halfOverlap: h } = input;
  if (!(helperSpeed > 0)) return undefined;
  // Seconds of the file a window holds, and the windows whisper runs over some of it (0.1 s past a
  // full window costs another).
  const window = WINDOW * Math.max(1, input.playSpeed ?? 1);
  const windowsOver = (seconds: number) => Math.max(1, Math.ceil((seconds - 0.05) / window));
  const heard = Math.max(piece.start, Math.min(piece.end, piece.heardTo));
  const measured = heard > piece.start && piece.runningMs > 0 ? (heard - piece.start) / (piece.runningMs / 1000) : undefined;
  const v = input.ownerSpeed ?? measured ?? helperSpeed;
  if (!(v > 0)) return undefined;
  // The window it is in now started at `heard` and has run `sinceHeard` of its time.
  const intoWindow = Math.min(window / v, piece.sinceHeardMs / 1000);
  const alone = (windowsOver(piece.end - heard) * window) / v - intoWindow;
  let best: Split | undefined;
  for (let k = 1; heard + k * window < piece.end - 0.05; k++) {
    const at = heard + k * window - STOP_MARGIN - h;
    if (at - h <= heard) continue;
    const together = Math.max((k * window) / v - intoWindow, (windowsOver(piece.end - (at - h)) * window) / helperSpeed);
    if (!best || together < best.together) best = { at, together, alone };
  }
  if (!best || alone - best.together < MIN_GAIN_AUDIO / v) return undefined;
  return best;
}
