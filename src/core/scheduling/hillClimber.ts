/**
 * Dynamic layout adjustment (pure): a hill-climb on measured throughput (seconds of work per wall
 * second: a local chunk's 30-second windows, else its audio) over a list of worker counts. On a
 * CPU the list holds the layouts that use every core (8 cores: 8×1, 4×2, 2×4, 1×8 — threads
 * follow from the count); elsewhere every count in range.
 * It holds each count for a window of finished chunks, tries the next one, keeps it only when
 * throughput improves by more than the hysteresis, otherwise steps back and settles. Memory
 * pressure shrinks at once. Never below the smallest or above the largest candidate.
 */

export interface ClimbOptions {
  /** Allowed worker counts; default every count from `min` to `max`. */
  candidates?: number[];
  min: number;
  max: number;
  start: number;
  /** Relative improvement needed to keep a change (0.08 = 8%). */
  hysteresis?: number;
  /** Finished chunks measured per setting before deciding. */
  window?: number;
  /** Throughput measured earlier (other jobs) per worker count: counts already known are not explored again. */
  known?: Record<number, number>;
}

export interface ClimbDecision {
  workers: number;
  changed: boolean;
  reason: string;
}

/** Worker counts that use every one of `cores` CPU cores with whole threads each, within [min, max]. */
export function cpuLayouts(cores: number, min: number, max: number): number[] {
  const out: number[] = [];
  for (let w = 1; w <= cores; w++) if (cores % w === 0 && w >= min && w <= max) out.push(w);
  if (!out.length) out.push(Math.max(1, Math.min(max, Math.max(min, cores))));
  return out;
}

export class HillClimber {
  private readonly list: number[];
  private readonly hysteresis: number;
  private readonly window: number;
  private index: number;
  private samples: number[] = [];
  private readonly measured = new Map<number, number>();
  private readonly known: Map<number, number>;
  private direction: 1 | -1;
  private settled = false;

  constructor(options: ClimbOptions) {
    const min = Math.max(1, options.min);
    const max = Math.max(min, options.max);
    const given = options.candidates?.filter((c) => Number.isInteger(c) && c >= min && c <= max) ?? [];
    const list = given.length ? [...new Set(given)] : Array.from({ length: max - min + 1 }, (_, i) => min + i);
    if (!list.includes(options.start)) list.push(Math.max(1, options.start));
    this.list = list.sort((a, b) => a - b);
    this.index = this.list.indexOf(Math.max(1, options.start));
    this.hysteresis = options.hysteresis ?? 0.08;
    this.window = Math.max(1, options.window ?? 2);
    this.known = new Map(Object.entries(options.known ?? {}).map(([k, v]) => [Number(k), v]));
    // Explore towards more workers first unless there is no room that way.
    this.direction = this.index < this.list.length - 1 ? 1 : -1;
  }

  get workers(): number {
    return this.list[this.index];
  }

  /** Whether the climber may still move (not settled, and a neighbour exists). */
  get exploring(): boolean {
    return !this.settled && this.list.length > 1;
  }

  /** Samples still needed before the climber decides its next move (0 when it no longer moves). */
  get pendingSamples(): number {
    return this.exploring ? this.window - this.samples.length : 0;
  }

  /** Whether the next decision could change the count (`mayExplore` as for `observe`). */
  canMove(mayExplore: boolean): boolean {
    if (!this.exploring) return false;
    return mayExplore || this.measured.has(this.list[this.index - this.direction]);
  }

  /** Best count measured in this job (what to remember for the next one). */
  best(): { workers: number; throughput: number } | undefined {
    let best: { workers: number; throughput: number } | undefined;
    for (const [workers, throughput] of this.measured) if (!best || throughput > best.throughput) best = { workers, throughput };
    return best;
  }

  /** Every count measured in this job with its mean throughput. */
  measurements(): Record<number, number> {
    return Object.fromEntries(this.measured);
  }

  /**
   * The job is over: samples short of a full window still measure the count they ran at, if this
   * job measured it no other way (a one-chunk job teaches the next job its layout too).
   */
  finish(): void {
    if (this.samples.length && !this.measured.has(this.workers)) this.measured.set(this.workers, this.sampleMean());
    this.samples = [];
  }

  /**
   * Records one finished chunk's throughput at the current count. With `mayExplore` false (too few
   * chunks left to measure another count) it does not step to an unmeasured count, but it still
   * steps back from a count that proved worse than the one before.
   */
  observe(throughput: number, mayExplore = true): ClimbDecision {
    if (!(throughput > 0) || !Number.isFinite(throughput)) return this.stay("ignored sample");
    this.samples.push(throughput);
    if (this.samples.length < this.window) return this.stay("measuring");
    const mean = this.sampleMean();
    this.samples = [];
    const here = this.workers;
    this.measured.set(here, mean);
    if (this.settled) return this.stay("settled");
    const previousIndex = this.index - this.direction;
    const previous = this.measured.get(this.list[previousIndex]);
    if (previous !== undefined && mean < previous * (1 + this.hysteresis)) {
      // The last step did not pay off: go back and stay.
      this.settled = true;
      const back = this.list[previousIndex];
      return this.move(previousIndex, `${here} workers gave ${mean.toFixed(2)}x vs ${previous.toFixed(2)}x at ${back}: back to ${back}`);
    }
    if (!mayExplore) return this.stay(`${mean.toFixed(2)}x at ${here}; too few chunks left to measure another count`);
    let next = this.index + this.direction;
    if (next < 0 || next >= this.list.length || this.worseKnown(next, mean)) {
      if (this.direction === 1 && this.index - 1 >= 0 && !this.measured.has(this.list[this.index - 1]) && !this.worseKnown(this.index - 1, mean)) {
        this.direction = -1;
        next = this.index - 1;
        return this.move(next, `${mean.toFixed(2)}x at ${here}, no better count above; trying ${this.list[next]}`);
      }
      this.settled = true;
      return this.stay(`${mean.toFixed(2)}x at ${here}: best known`);
    }
    return this.move(next, `${mean.toFixed(2)}x at ${here}; trying ${this.list[next]}`);
  }

  /** Memory is short: shrink now, and do not climb back past this. */
  pressure(): ClimbDecision {
    this.settled = true;
    return this.move(Math.max(0, this.index - 1), "memory pressure");
  }

  /** Repeated failures with several workers: the plan's single-worker fallback. */
  single(): ClimbDecision {
    this.settled = true;
    return this.move(0, "repeated failures with several workers");
  }

  /** A neighbour an earlier job measured clearly below what this count gives now. */
  private worseKnown(index: number, mean: number): boolean {
    const known = this.known.get(this.list[index]);
    const knownHere = this.known.get(this.workers);
    return known !== undefined && knownHere !== undefined && known * (1 + this.hysteresis) < knownHere && mean > 0;
  }

  private sampleMean(): number {
    return this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
  }

  private stay(reason: string): ClimbDecision {
    return { workers: this.workers, changed: false, reason };
  }

  private move(index: number, reason: string): ClimbDecision {
    const changed = index !== this.index;
    this.index = index;
    this.samples = [];
    return { workers: this.workers, changed, reason };
  }
}
