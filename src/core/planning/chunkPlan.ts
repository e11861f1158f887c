/**
 * Chunk planning (pure, deterministic): where to cut a file so each piece can be transcribed on its
 * own. Cuts go at the quietest stretch near each target, found on an energy map with an adaptive
 * threshold, so boundaries fall between words; neighbours share an overlap centred on the cut so
 * the stitcher can align words at the edges. Optionally, long silences are skipped outright.
 */
import type { PlannedChunk } from "../types";

export interface EnergyProfile {
  frameSeconds: number;
  rms: ArrayLike<number>;
}

export interface PlanOptions {
  /** Target chunk length (own part): 300 s local, 600 s cloud by default. */
  chunkSeconds: number;
  /** Seconds shared by neighbouring chunks, centred on each cut (CHUNK_OVERLAP). */
  overlapSeconds: number;
  /** How far from the target a cut may move to find a pause; default 10% of the chunk, at most 30 s. */
  searchSeconds?: number;
  /** Hard cap on audio sent per chunk, overlap included (engine duration caps, upload limits). */
  maxChunkSeconds?: number;
  /** Silences at least this long are not transcribed at all (0 = off). */
  skipSilenceSeconds?: number;
}

export interface ChunkPlan {
  duration: number;
  chunks: PlannedChunk[];
  /** Stretches deliberately not transcribed (long silences). With the chunks' own ranges they tile the file. */
  skipped: { start: number; end: number }[];
  /** The RMS level under which a frame counts as quiet. */
  threshold: number;
}

export const DEFAULT_PLAN = { localChunkSeconds: 300, cloudChunkSeconds: 600, overlapSeconds: 5 } as const;

function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))];
}

/** Quiet threshold between the noise floor and the speech level, adapting to the recording. */
export function quietThreshold(rms: ArrayLike<number>): number {
  const floor = quantile(rms, 0.1);
  const speech = quantile(rms, 0.9);
  return floor + 0.15 * (speech - floor);
}

/** Moving average over `radius` frames either side: a single quiet frame inside a word is not a pause. */
export function smooth(rms: ArrayLike<number>, radius: number): Float64Array {
  const out = new Float64Array(rms.length);
  let sum = 0;
  let lo = 0;
  let hi = -1;
  for (let i = 0; i < rms.length; i++) {
    while (hi < Math.min(rms.length - 1, i + radius)) sum += rms[++hi];
    while (lo < i - radius) sum -= rms[lo++];
    out[i] = sum / (hi - lo + 1);
  }
  return out;
}

/**
 * Picks the cut in [from, to] seconds: the middle of the longest run of quiet frames, ties broken
 * by closeness to `target`; without any quiet run, the quietest frame nearest the target.
 */
export function findCut(
  energy: EnergyProfile | undefined,
  smoothed: Float64Array | undefined,
  threshold: number,
  from: number,
  to: number,
  target: number,
): number {
  if (!energy || !smoothed || smoothed.length === 0) return target;
  const fs = energy.frameSeconds;
  const a = Math.max(0, Math.floor(from / fs));
  const b = Math.min(smoothed.length - 1, Math.ceil(to / fs));
  if (b <= a) return target;
  let best: { len: number; mid: number } | undefined;
  let runStart = -1;
  for (let i = a; i <= b + 1; i++) {
    const quiet = i <= b && smoothed[i] <= threshold;
    if (quiet && runStart < 0) runStart = i;
    if (!quiet && runStart >= 0) {
      const len = i - runStart;
      const mid = ((runStart + i) / 2) * fs;
      if (!best || len > best.len || (len === best.len && Math.abs(mid - target) < Math.abs(best.mid - target))) best = { len, mid };
      runStart = -1;
    }
  }
  if (best) return best.mid;
  let min = Infinity;
  let at = target;
  for (let i = a; i <= b; i++) {
    const t = (i + 0.5) * fs;
    if (smoothed[i] < min - 1e-12 || (Math.abs(smoothed[i] - min) <= 1e-12 && Math.abs(t - target) < Math.abs(at - target))) {
      min = smoothed[i];
      at = t;
    }
  }
  return at;
}

function longSilences(energy: EnergyProfile, smoothed: Float64Array, threshold: number, minSeconds: number, pad: number) {
  const out: { start: number; end: number }[] = [];
  const fs = energy.frameSeconds;
  let runStart = -1;
  for (let i = 0; i <= smoothed.length; i++) {
    const quiet = i < smoothed.length && smoothed[i] <= threshold;
    if (quiet && runStart < 0) runStart = i;
    if (!quiet && runStart >= 0) {
      // Keep `pad` seconds of the silence on each side so word edges are not clipped.
      const start = runStart * fs + pad;
      const end = i * fs - pad;
      if (end - start >= minSeconds - 2 * pad && end > start) out.push({ start, end });
      runStart = -1;
    }
  }
  return out;
}

export function validatePlan(duration: number, o: PlanOptions): void {
  if (!Number.isFinite(duration) || duration <= 0) throw new RangeError(`Expected a positive duration but received ${duration}`);
  if (!(o.chunkSeconds >= 10)) throw new RangeError(`Expected chunkSeconds >= 10 but received ${o.chunkSeconds}`);
  if (!(o.overlapSeconds >= 0) || o.overlapSeconds > o.chunkSeconds / 4)
    throw new RangeError(`Expected overlapSeconds between 0 and a quarter of the chunk but received ${o.overlapSeconds}`);
  if (o.maxChunkSeconds !== undefined && !(o.maxChunkSeconds >= 10 + o.overlapSeconds))
    throw new RangeError(`Expected maxChunkSeconds >= 10 s plus the overlap but received ${o.maxChunkSeconds}`);
}

/** The chunk that owns [ownStart, ownEnd) and also hears `before` and `after` seconds around it. */
export function plannedChunk(index: number, ownStart: number, ownEnd: number, before: number, after: number): PlannedChunk {
  return { index, start: ownStart - before, end: ownEnd + after, overlapBefore: before, overlapAfter: after, ownStart, ownEnd };
}

/** The stretches to transcribe: the file minus skipped long silences (when asked for). */
export function speechRegions(duration: number, energy: EnergyProfile | undefined, skipSilenceSeconds?: number) {
  const threshold = energy ? quietThreshold(energy.rms) : 0;
  const smoothed = energy ? smooth(energy.rms, 5) : undefined;
  const skipped = energy && smoothed && skipSilenceSeconds ? longSilences(energy, smoothed, threshold, skipSilenceSeconds, 0.5) : [];
  const regions: { start: number; end: number }[] = [];
  let pos = 0;
  for (const s of skipped) {
    if (s.start > pos) regions.push({ start: pos, end: s.start });
    pos = s.end;
  }
  if (pos < duration) regions.push({ start: pos, end: duration });
  return { regions, skipped, threshold, smoothed };
}

/** Plans by length alone (engines billed or limited by seconds, such as the cloud). */
export function planChunks(duration: number, energy: EnergyProfile | undefined, options: PlanOptions): ChunkPlan {
  validatePlan(duration, options);
  const overlap = options.overlapSeconds;
  const { regions, skipped, threshold, smoothed } = speechRegions(duration, energy, options.skipSilenceSeconds);

  const cap = options.maxChunkSeconds ?? Infinity;
  const chunks: PlannedChunk[] = [];
  for (const region of regions) {
    const length = region.end - region.start;
    // Balanced pieces no longer than the target, and within the cap once overlap and search slack are added.
    const search0 = options.searchSeconds ?? Math.min(30, options.chunkSeconds * 0.1);
    const ownMax = Math.min(options.chunkSeconds, cap - overlap - search0);
    const n = Math.max(1, Math.ceil((length - 1e-9) / Math.max(1, ownMax)));
    const step = length / n;
    const search = Math.min(search0, step * 0.25);
    const cuts = [region.start];
    for (let k = 1; k < n; k++) {
      const target = region.start + k * step;
      const from = Math.max(cuts[k - 1] + step - search, target - search);
      const to = Math.min(target + search, cuts[k - 1] + Math.min(cap - overlap, ownMax + search));
      cuts.push(Math.min(Math.max(findCut(energy, smoothed, threshold, from, to, target), from), to));
    }
    cuts.push(region.end);
    for (let k = 0; k < n; k++) {
      const before = k > 0 ? Math.min(overlap / 2, cuts[k] - region.start) : 0;
      const after = k < n - 1 ? Math.min(overlap / 2, region.end - cuts[k + 1]) : 0;
      chunks.push(plannedChunk(chunks.length, cuts[k], cuts[k + 1], before, after));
    }
  }
  return { duration, chunks, skipped, threshold };
}

/** Loud frames count as speech only this far above silence (about -46 dBFS) in a recording that has pauses. */
const SPEECH_FLOOR = 0.005;

/**
 * Seconds in [start, end) that are clearly sound: above the recording's quiet threshold and an
 * absolute floor. A recording without contrast between its quiet and loud parts (steady noise,
 * digital silence) has no clear speech at all.
 */
export function speechSecondsIn(energy: EnergyProfile | undefined, start: number, end: number, threshold = energy ? quietThreshold(energy.rms) : 0): number {
  if (!energy || energy.rms.length === 0) return 0;
  const floor = quantile(energy.rms, 0.1);
  const loud = quantile(energy.rms, 0.9);
  if (loud < SPEECH_FLOOR || loud < 4 * Math.max(floor, 1e-6)) return 0;
  const fs = energy.frameSeconds;
  let frames = 0;
  for (let i = Math.max(0, Math.floor(start / fs)); i < Math.min(energy.rms.length, Math.ceil(end / fs)); i++)
    if (energy.rms[i] > threshold && energy.rms[i] > SPEECH_FLOOR) frames++;
  return frames * fs;
}
