/**
 * Plans for a worker layout (pure, deterministic). whisper.cpp decodes in 30-second windows and a
 * window costs the same whether it holds 30 s of speech or 2 s followed by padding, so a chunk's
 * cost is its window count, not its length. The plan is made after the workers are sized: it picks
 * how many windows each chunk gets so that, run in order by the scheduler's workers (first free
 * worker takes the next chunk), every worker finishes at nearly the same moment; then it places each
 * cut at a pause just before its chunk's last window is full.
 *
 * The shape is chosen by simulating the schedule over a few families of candidates (equal chunks;
 * a short first chunk so text appears early; longest first so the tail is made of short chunks) and
 * keeping the one with the smallest makespan, then the earliest first text, then the fewest chunks.
 *
 * A cut at a pause rarely falls exactly on a window boundary, and where the file fills its windows
 * (whole minutes do) there is no room to move it: one chunk would then spill a few seconds into a
 * whole extra window — the window whisper_full_parallel's blind cut never pays. With `maxSpeed` > 1
 * a chunk may be played up to that much faster (native/SpeedUp.h, on its worker) so it fits the
 * windows it was given; each chunk gets just the speed-up its length needs (`speed`, absent when it
 * needs none).
 */
import type { PlannedChunk } from "../types";
import { findCut, plannedChunk, speechRegions, validatePlan, type ChunkPlan, type EnergyProfile, type PlanOptions } from "./chunkPlan";

/** whisper's window: 1500 encoder frames × 20 ms. */
export const WINDOW_SECONDS = 30;
/** A cut inside a pause at least this long needs no overlap: no word straddles it. */
export const PAUSE_SECONDS = 0.3;
/** The narrowest overlap a cut inside speech gets when the full one does not fit the windows. */
export const MIN_OVERLAP = 1.5;
/**
 * whisper.cpp (1.9) runs another window whenever more than 10 mel frames (0.1 s) of audio are left
 * (`seek + delta_min >= seek_end`, delta_min = 10): a chunk of 210.1 s takes 7 windows, one of
 * 210.12 s takes 8 (measured with whisper-cli, and asserted through the addon in
 * test/native/engine.test.ts). Older releases stopped a whole second early; planning with that
 * second gave most chunks a window of padding they did not need. Half of the 0.1 s is kept as margin.
 */
const WINDOW_GRACE = 0.05;
/** Scheduling cost of a chunk besides its windows (mel, set-up), in windows: breaks ties towards fewer chunks. */
const CHUNK_OVERHEAD = 0.03;

export interface WindowPlanOptions {
  /** Workers that run chunks at once. */
  workers: number;
  /** Threads each worker's chunk runs on (default 1): what a solo last chunk on every core gains. */
  threads?: number;
  /** The user's upper bound on a chunk's own length (CHUNK_SECONDS). */
  maxChunkSeconds: number;
  overlapSeconds: number;
  /** Cuts expected to fall inside speech and so to need the overlap (default: all of them). */
  overlappedCuts?: (chunks: number) => number;
  /** How far before its window boundary a cut may move to reach a pause (default 8 s). */
  searchSeconds?: number;
  /** How much faster than recorded a chunk may be played to fit its windows (default 1: never). */
  maxSpeed?: number;
}

export interface WindowShape {
  /** Windows per chunk, in the order the chunks are cut and run. */
  windows: number[];
  /** Simulated finish time of the whole plan and of the first chunk, in windows. */
  makespan: number;
  firstText: number;
  /** Seconds of capacity beyond the audio, spent on moving cuts to pauses. */
  slack: number;
  /** The last chunk is the remainder that would leave workers idle: it runs alone on every core. */
  solo: boolean;
  /** Chunks played faster to fit their windows (known once cut). */
  spedUp?: number;
}

/**
 * Windows whisper.cpp runs over `seconds` of audio (at most WINDOW_GRACE past the last full one is
 * free), when the audio may be played up to `maxSpeed` times faster.
 */
export function windowsFor(seconds: number, maxSpeed = 1): number {
  return Math.max(1, Math.ceil((seconds / Math.max(1, maxSpeed) - WINDOW_GRACE) / WINDOW_SECONDS - 1e-9));
}

/** The most windows a chunk may have: CHUNK_SECONDS of its own audio and the overlap. */
function windowsAllowed(maxChunkSeconds: number, overlap: number): number {
  return Math.max(1, Math.floor((maxChunkSeconds + overlap) / WINDOW_SECONDS));
}

/** Windows a planned chunk costs: its audio at the speed it is played. */
export function chunkWindows(chunk: { start: number; end: number; speed?: number }): number {
  return windowsFor(chunk.end - chunk.start, chunk.speed ?? 1);
}

/**
 * The speed-up a chunk of `seconds` needs to fit the fewest windows `maxSpeed` allows: 1 when it
 * fits them as recorded, otherwise just enough (never more than `maxSpeed`).
 */
export function speedToFit(seconds: number, maxSpeed = 1): number {
  const windows = windowsFor(seconds, maxSpeed);
  if (windows >= windowsFor(seconds)) return 1;
  const speed = seconds / (windows * WINDOW_SECONDS + WINDOW_GRACE / 2);
  return Math.min(Math.max(1, maxSpeed), Math.max(1, Math.ceil(speed * 1e4) / 1e4));
}

/**
 * Seconds of audio that windows holding `asRecorded` seconds take when played up to `speed` times
 * faster — but a speed-up never takes them past `cap` (CHUNK_SECONDS, per chunk).
 */
function stretched(asRecorded: number, speed: number, cap: number): number {
  return Math.min(asRecorded * speed, Math.max(asRecorded, cap));
}

/**
 * Own seconds that `total` windows hold when `overlapped` cuts each cost an overlap — played up to
 * `speed` times faster, but never past `maxChunkSeconds` a chunk (CHUNK_SECONDS) for the speed-up.
 */
function capacity(chunks: number, total: number, overlapped: number, overlap: number, speed = 1, maxChunkSeconds = Infinity): number {
  return stretched(total * WINDOW_SECONDS + chunks * WINDOW_GRACE, speed, chunks * maxChunkSeconds) - overlapped * overlap;
}
/** The prior's figure for two threads (see threadSpeedup). */
const TWO_THREADS = 1.9;

/**
 * How much faster one whisper_full call runs on `threads` threads than on one, next to workers
 * that keep the other cores busy: a prior, used until this machine has measured its layouts
 * (StatsStore). Two threads: 1.9x. Machines disagree on which side of 2 it lies, and by how much:
 * on the Intel Xeon 2-vCPU machine CI ran on until 2026-11-27, whisper-cli -t 2 against -t 1 was
 * 1.92–2.04x and a Fleet worker on 2 threads against each of two workers on one, same audio, same
 * run, 2.01–2.23x (the two threads of one state share its weights and buffers in cache); on the AMD
 * EPYC 2-vCPU machine of 2026-11-28, -t 2 against -t 1 was 1.84–1.87x, two states on one thread
 * each ran the same 4 windows 7–12% faster than one state on two (whisper-cli -mc 0, three mirrored
 * pairs; 1.61–1.87x in these terms) and whisper-cli -t 2 took 10.5 s where -p 2 took 8.5 s; on the
 * machine #12 was filed from, -p 2 beat -t 2 by 18%. Token-by-token decoding barely scales with
 * threads (ggml synchronises them at every node of a one-token graph), so two states on one thread
 * each are the better bet for a first job when their plans need the same windows; the jobs after it
 * measure both and keep the faster (see sizeWorkers). Beyond two, the shape of Gunther's universal
 * scalability law (serial share σ = 0.03, cross-thread traffic κ = 0.005) scaled to that point:
 * 3.4x at 4, 5.3x at 8, and no gain past about 14. Unmeasured on bigger machines: a prior, not a
 * figure.
 */
export function threadSpeedup(threads: number): number {
  const t = Math.max(1, threads);
  const law = (n: number) => n / (1 + 0.03 * (n - 1) + 0.005 * n * (n - 1));
  return t <= 2 ? 1 + (TWO_THREADS - 1) * (t - 1) : (TWO_THREADS * law(t)) / law(2);
}

/** How much faster one chunk runs on all `workers` × `threads` cores than on one worker's `threads`. */
export function soloSpeedup(workers: number, threads = 1): number {
  const t = Math.max(1, threads);
  return Math.max(1, threadSpeedup(Math.max(1, workers) * t) / threadSpeedup(t));
}

/**
 * First free worker takes the next chunk: finish time of the whole plan and of chunk 0, in
 * windows. A `solo` last chunk waits for every worker and then runs on all their cores.
 */
export function simulate(windows: number[], workers: number, solo = false, threads = 1): { makespan: number; firstText: number } {
  const free = new Array<number>(Math.max(1, workers)).fill(0);
  let firstText = 0;
  windows.forEach((w, i) => {
    if (solo && i === windows.length - 1 && i > 0) {
      const end = Math.max(...free) + w / soloSpeedup(workers, threads) + CHUNK_OVERHEAD;
      free.fill(end);
      return;
    }
    let lane = 0;
    for (let j = 1; j < free.length; j++) if (free[j] < free[lane]) lane = j;
    free[lane] += w + CHUNK_OVERHEAD;
    if (i === 0) firstText = free[lane];
  });
  return { makespan: Math.max(...free), firstText };
}

/** `total` windows over `count` chunks, as even as possible, larger ones first. */
function even(total: number, count: number): number[] {
  const base = Math.floor(total / count);
  const extra = total - base * count;
  return Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0));
}

/** Longest first, halving towards the end (guided self-scheduling): the tail is short chunks. */
function guided(total: number, count: number, workers: number): number[] | undefined {
  const out: number[] = [];
  let left = total;
  for (let i = 0; i < count; i++) {
    const remainingChunks = count - i;
    const w = Math.max(1, Math.min(left - (remainingChunks - 1), Math.ceil(left / Math.max(remainingChunks, workers * 2))));
    out.push(w);
    left -= w;
  }
  if (left !== 0) out[out.length - 1] += left;
  return out.every((w) => w >= 1) ? out : undefined;
}

function candidates(total: number, chunks: number, workers: number): { windows: number[]; solo: boolean }[] {
  const plain = [even(total, chunks)];
  const g = guided(total, chunks, workers);
  if (g) plain.push(g);
  for (const head of [1, 2]) {
    if (chunks >= 2 && total - head >= chunks - 1) plain.push([head, ...even(total - head, chunks - 1)]);
  }
  const out = plain.map((windows) => ({ windows, solo: false }));
  // Windows that do not divide among the workers: the remainder as one last chunk on every core
  // (after a one-window first chunk too, for early text).
  const remainder = total % workers;
  if (workers > 1 && remainder > 0 && chunks >= 2 && total - remainder >= chunks - 1) {
    if ((chunks - 1) % workers === 0) out.push({ windows: [...even(total - remainder, chunks - 1), remainder], solo: true });
    if (chunks >= 3 && total - remainder - 1 >= chunks - 2) out.push({ windows: [1, ...even(total - remainder - 1, chunks - 2), remainder], solo: true });
  }
  return out;
}

/**
 * Window shapes worth trying for `length` seconds on `workers` workers: equal, guided and
 * short-first shapes for every chunk count from the fewest `maxChunkSeconds` allows to a few
 * rounds more, each with the fewest windows that can hold the audio, and with up to one spare
 * window per worker (free where a worker would idle anyway; it leaves room to reach pauses).
 */
export function shapeCandidates(length: number, options: WindowPlanOptions): WindowShape[] {
  const workers = Math.max(1, Math.floor(options.workers));
  const overlap = options.overlapSeconds;
  const maxWindows = windowsAllowed(options.maxChunkSeconds, overlap);
  const minChunks = Math.max(1, Math.ceil(length / Math.max(1, options.maxChunkSeconds)));
  const speed = Math.max(1, options.maxSpeed ?? 1);
  const out: WindowShape[] = [];
  for (let chunks = minChunks; chunks <= minChunks + 2 * workers + 2; chunks++) {
    const overlapped = Math.min(chunks - 1, options.overlappedCuts ? options.overlappedCuts(chunks) : chunks - 1);
    let total = 1;
    while (capacity(chunks, total, overlapped, overlap, speed, options.maxChunkSeconds) < length) total++;
    for (let t = Math.max(total, chunks); t < Math.max(total, chunks) + workers; t++) {
      const slack = capacity(chunks, t, overlapped, overlap, speed, options.maxChunkSeconds) - length;
      for (const { windows, solo } of candidates(t, chunks, workers)) {
        if (windows.some((w) => w > maxWindows)) continue;
        out.push({ windows, slack, solo, ...simulate(windows, workers, solo, options.threads) });
      }
    }
  }
  if (!out.length) out.push({ windows: [windowsFor(length)], makespan: windowsFor(length), firstText: windowsFor(length), slack: 0, solo: false });
  return out;
}

/** Text on screen before half time is worth this much makespan (a 1% longer job). */
const EARLY_TEXT_WORTH = 0.01;
/**
 * "Before half time" on paper, with room for what the simulation does not see (a faster solo tail,
 * the decode before the first chunk): a first chunk planned to end at 49% of the job ended at 51%
 * of it on the CI machine (LJ001, tiny.en, 4 × 10 windows + a solo one).
 */
const EARLY_TEXT_BY = 0.4;

/**
 * A chunk played faster costs this much makespan: a speed-up is for saving a window, not for early
 * text or a tie (the words are heard a few percent faster than spoken).
 */
const SPEED_UP_COST = 0.01;

/**
 * Smaller makespan, counting text well before half time as worth 1% and each sped-up chunk as 1%
 * more; then fewer chunks; then more slack.
 */
export function betterShape(a: WindowShape, b: WindowShape | undefined): boolean {
  if (!b) return true;
  const score = (s: WindowShape) => s.makespan * ((s.firstText <= s.makespan * EARLY_TEXT_BY ? 1 - EARLY_TEXT_WORTH : 1) + SPEED_UP_COST * (s.spedUp ?? 0));
  if (Math.abs(score(a) - score(b)) > 1e-6) return score(a) < score(b);
  if (a.windows.length !== b.windows.length) return a.windows.length < b.windows.length;
  return a.slack > b.slack;
}

/** The best shape on paper (every cut assumed to need the overlap unless told otherwise). */
export function shapeWindows(length: number, options: WindowPlanOptions): WindowShape {
  let best: WindowShape | undefined;
  for (const shape of shapeCandidates(length, options)) if (betterShape(shape, best)) best = shape;
  return best!;
}

/** First and last frame of the run of quiet frames that frame `i` (quiet) belongs to. */
function quietRun(smoothed: Float64Array, threshold: number, i: number): [number, number] {
  let a = i;
  let b = i;
  while (a > 0 && smoothed[a - 1] <= threshold) a--;
  while (b < smoothed.length - 1 && smoothed[b + 1] <= threshold) b++;
  return [a, b];
}

/** Length in seconds of the run of quiet frames around `t` (0 when `t` is not quiet). */
function pauseAround(quiet: Quiet, t: number): number {
  const { energy, smoothed, threshold } = quiet;
  if (!energy || !smoothed) return 0;
  const fs = energy.frameSeconds;
  const i = Math.min(smoothed.length - 1, Math.max(0, Math.floor(t / fs)));
  if (smoothed[i] > threshold) return 0;
  const [a, b] = quietRun(smoothed, threshold, i);
  return (b - a + 1) * fs;
}

export interface Quiet {
  energy?: EnergyProfile;
  smoothed?: Float64Array;
  threshold: number;
}

/** The middle of the first pause of PAUSE_SECONDS or more that reaches into [from, to], clamped to it. */
function firstPause(quiet: Quiet, from: number, to: number): number | undefined {
  const { energy, smoothed, threshold } = quiet;
  if (!energy || !smoothed || to <= from) return undefined;
  const fs = energy.frameSeconds;
  const last = Math.min(smoothed.length - 1, Math.floor(to / fs));
  for (let i = Math.max(0, Math.floor(from / fs)); i <= last; i++) {
    if (smoothed[i] > threshold) continue;
    const [a, b] = quietRun(smoothed, threshold, i);
    if ((b - a + 1) * fs >= PAUSE_SECONDS) return Math.min(Math.max(((a + b + 1) / 2) * fs, from), to);
    i = b;
  }
  return undefined;
}

export interface CutOptions {
  overlap: number;
  /** How far before its window boundary a cut may move to reach a pause (default 8 s). */
  searchSeconds?: number;
  /** How much faster a chunk may be played to fit its windows (default 1). */
  maxSpeed?: number;
  /** The user's upper bound on a chunk's own audio (CHUNK_SECONDS). */
  maxChunkSeconds?: number;
  /**
   * A cut inside speech moves past this chunk's windows as recorded (this chunk then plays faster)
   * when the rest of the stretch would not fit its windows otherwise. Off, such a cut stays where
   * this chunk needs no speed-up; the planner tries both and keeps the better plan.
   */
  stretchForRest?: boolean;
  firstIndex?: number;
}

/**
 * Cuts one stretch of the file into chunks of the given window counts. Each cut sits at the
 * longest pause in the `search` seconds before its chunk's windows are full, as far as the plan's
 * slack allows; failing that, at the first pause in the few seconds a speed-up (`maxSpeed`) lets
 * the chunk hold past its windows. A cut inside a pause needs no overlap (no word straddles it); a
 * cut that finds no pause sits at the boundary with the full overlap, so the stitcher can align the
 * words around it. Each chunk then gets the speed-up its length needs (speedToFit).
 */
export function cutToShape(region: { start: number; end: number }, shape: WindowShape, quiet: Quiet, options: CutOptions): PlannedChunk[] {
  const { start: from, end: to } = region;
  const { overlap, searchSeconds = 8, firstIndex = 0 } = options;
  const speed = Math.max(1, options.maxSpeed ?? 1);
  const n = shape.windows.length;
  let slack = Math.max(0, shape.slack);
  const cuts = [from];
  const halves = [0]; // overlap either side of each cut
  // Seconds a chunk of `windows` holds, sped up as far as allowed but never past CHUNK_SECONDS.
  const held = (windows: number) => stretched(windows * WINDOW_SECONDS + WINDOW_GRACE, speed, options.maxChunkSeconds ?? Infinity);
  for (let k = 0; k < n - 1; k++) {
    const chunkStart = cuts[k] - halves[k];
    // Where this chunk's windows are full as recorded, and how far a speed-up stretches them.
    const asRecorded = chunkStart + shape.windows[k] * WINDOW_SECONDS + WINDOW_GRACE;
    const boundary = Math.min(asRecorded, to - 1);
    const full = chunkStart + held(shape.windows[k]);
    // What the chunks after this one hold without overlaps, and if every one of their cuts needs it.
    const restWindows = shape.windows.slice(k + 1).reduce((sum, w) => sum + held(w), 0);
    const rest = restWindows - (n - k - 2) * overlap;
    const latest = Math.min(full, to - 1);
    const earliest = Math.max(cuts[k] + 1, Math.min(boundary, latest) - Math.min(searchSeconds, slack), to - rest);
    const cutIn = (a: number, b: number) => (a >= b ? b : Math.min(Math.max(findCut(quiet.energy, quiet.smoothed, quiet.threshold, a, b, b), a), b));
    // A pause before the boundary first (no speed-up); else the first pause the speed-up reaches.
    let cut = cutIn(earliest, Math.min(boundary, latest));
    if (pauseAround(quiet, cut) < PAUSE_SECONDS && latest > boundary) {
      const later = firstPause(quiet, Math.max(earliest, boundary), latest);
      if (later !== undefined) cut = later;
    }
    let half = 0;
    if (pauseAround(quiet, cut) < PAUSE_SECONDS && overlap > 0) {
      // Inside speech: the chunk keeps its windows and both sides hear the overlap — narrowed (to
      // no less than MIN_OVERLAP) when the full one would push the rest of the audio past its
      // windows. whisper_full_parallel cuts with no overlap at all.
      cut = Math.min(cut, asRecorded);
      const room = (restWindows - (to - asRecorded)) / 2;
      half = Math.min(overlap / 2, Math.max(MIN_OVERLAP / 2, room));
      cut = Math.max(cuts[k] + 1, Math.min(cut, asRecorded - half));
      // Where the rest would spill out of its windows: as late as it needs, up to where this chunk's
      // own speed-up reaches (a minute of speech with no pause near its middle: two one-window
      // chunks, each a little faster, instead of three).
      if (options.stretchForRest) cut = Math.max(cut, Math.min(to - rest + half, latest - half));
    }
    slack = Math.max(0, slack - (full - cut - half));
    cuts.push(cut);
    halves.push(half);
  }
  cuts.push(to);
  halves.push(0);
  return shape.windows.map((_, k) => {
    const before = Math.min(halves[k], cuts[k] - from);
    const after = Math.min(halves[k + 1], to - cuts[k + 1]);
    const chunk = plannedChunk(firstIndex + k, cuts[k], cuts[k + 1], before, after);
    const fit = speedToFit(chunk.end - chunk.start, speed);
    return fit > 1 ? { ...chunk, speed: fit } : chunk;
  });
}

/**
 * The plan for a local engine whose layout is already decided: every stretch to transcribe is
 * shaped for `workers` and cut at pauses. `chunkSeconds` is the user's upper bound on a chunk.
 */
export function planForWorkers(
  duration: number,
  energy: EnergyProfile | undefined,
  options: PlanOptions & { workers: number; threads?: number; maxSpeed?: number },
): ChunkPlan & { makespanWindows: number } {
  validatePlan(duration, options);
  const quiet = speechRegions(duration, energy, options.skipSilenceSeconds);
  const search = options.searchSeconds ?? 8;
  const most = windowsAllowed(options.chunkSeconds, options.overlapSeconds);
  const chunks: PlannedChunk[] = [];
  let makespanWindows = 0;
  for (const region of quiet.regions) {
    // Whether a cut finds a pause is known only once it is placed, so the candidate shapes (made
    // assuming no cut, or every cut, needs an overlap) are cut for real and judged on the windows
    // their chunks then take.
    let best: { shape: WindowShape; pieces: PlannedChunk[] } | undefined;
    let fallback: { windows: number[]; pieces: PlannedChunk[] } | undefined;
    const seen = new Set<string>();
    // Shapes cut as recorded, and (when allowed) with speed-ups: one is used only where it wins.
    const speeds = [...new Set([1, Math.max(1, options.maxSpeed ?? 1)])];
    for (const [assumption, maxSpeed] of (energy ? [0, 1] : [1]).flatMap((a) => speeds.map((v) => [a, v] as const))) {
      // With a speed-up, a cut inside speech may also stretch its chunk for the rest (CutOptions).
      const stretches = maxSpeed > 1 ? [false, true] : [false];
      const shapes = shapeCandidates(region.end - region.start, {
        workers: options.workers,
        threads: options.threads,
        maxChunkSeconds: options.chunkSeconds,
        overlapSeconds: options.overlapSeconds,
        overlappedCuts: (n) => (n - 1) * assumption,
        maxSpeed,
      });
      for (const shape of shapes)
        for (const stretchForRest of stretches) {
          const key = `${shape.windows.join(",")}|${shape.slack.toFixed(3)}|${shape.solo}|${maxSpeed}|${stretchForRest}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const pieces = cutToShape(
            region,
            shape,
            { energy, ...quiet },
            {
              overlap: options.overlapSeconds,
              searchSeconds: search,
              maxSpeed,
              maxChunkSeconds: options.chunkSeconds,
              stretchForRest,
              firstIndex: chunks.length,
            },
          );
          const windows = pieces.map(chunkWindows);
          // A cut that pushed a chunk past the windows CHUNK_SECONDS allows is not a plan (the last
          // chunk takes whatever the cuts before it left).
          if (windows.some((w) => w > most) || pieces.some((c) => c.ownEnd - c.ownStart > options.chunkSeconds + options.overlapSeconds + 1e-6)) {
            fallback ??= { windows, pieces };
            continue;
          }
          const spedUp = pieces.filter((c) => c.speed !== undefined).length;
          const actual = { windows, slack: shape.slack, solo: shape.solo, spedUp, ...simulate(windows, options.workers, shape.solo, options.threads) };
          if (betterShape(actual, best?.shape)) best = { shape: actual, pieces };
        }
    }
    if (!best && fallback) {
      const { windows, pieces } = fallback;
      best = { shape: { windows, slack: 0, solo: false, ...simulate(windows, options.workers, false, options.threads) }, pieces };
    }
    makespanWindows += best!.shape.makespan;
    if (best!.shape.solo) best!.pieces[best!.pieces.length - 1].solo = true;
    chunks.push(...best!.pieces);
  }
  return { duration, chunks, skipped: quiet.skipped, threshold: quiet.threshold, makespanWindows };
}
