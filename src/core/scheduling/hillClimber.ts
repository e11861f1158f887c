/**
 * Dynamic worker adjustment (pure): a hill-climb on measured throughput (audio seconds per wall
 * second). It holds each worker count for a window of finished chunks, tries one step up, keeps it
 * only when throughput improves by more than the hysteresis, otherwise steps back and settles.
 * Memory pressure shrinks at once. Never below 1 or above the limit.
 */

export interface ClimbOptions {
  min: number;
  max: number;
  start: number;
  /** Relative improvement needed to keep a change (0.08 = 8%). */
  hysteresis?: number;
  /** Finished chunks measured per setting before deciding. */
  window?: number;
}

export interface ClimbDecision {
  workers: number;
  changed: boolean;
  reason: string;
}

export class HillClimber {
  private readonly min: number;
  private readonly max: number;
  private readonly hysteresis: number;
  private readonly window: number;
  private current: number;
  private samples: number[] = [];
  private readonly measured = new Map<number, number>();
  private direction: 1 | -1 = 1;
  private settled = false;

  constructor(options: ClimbOptions) {
    this.min = Math.max(1, options.min);
    this.max = Math.max(this.min, options.max);
    this.current = Math.min(this.max, Math.max(this.min, options.start));
    this.hysteresis = options.hysteresis ?? 0.08;
    this.window = Math.max(1, options.window ?? 2);
  }

  get workers(): number {
    return this.current;
  }

  /** Best count measured so far (what to remember for the next job). */
  best(): { workers: number; throughput: number } | undefined {
    let best: { workers: number; throughput: number } | undefined;
    for (const [workers, throughput] of this.measured) if (!best || throughput > best.throughput) best = { workers, throughput };
    return best;
  }

  /** Records one finished chunk's throughput at the current count. */
  observe(throughput: number): ClimbDecision {
    if (!(throughput > 0) || !Number.isFinite(throughput)) return { workers: this.current, changed: false, reason: "ignored sample" };
    this.samples.push(throughput);
    if (this.samples.length < this.window) return { workers: this.current, changed: false, reason: "measuring" };
    const mean = this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
    this.samples = [];
    this.measured.set(this.current, mean);
    if (this.settled) return { workers: this.current, changed: false, reason: "settled" };
    const previous = this.measured.get(this.current - this.direction);
    if (previous !== undefined && mean < previous * (1 + this.hysteresis)) {
      // The last step did not pay off: go back and stay.
      const back = this.current - this.direction;
      this.settled = true;
      return this.move(back, `${this.current} workers gave ${mean.toFixed(2)}x vs ${previous.toFixed(2)}x at ${back}: back to ${back}`);
    }
    const next = this.current + this.direction;
    if (next > this.max || next < this.min) {
      if (this.direction === 1 && this.current - 1 >= this.min && !this.measured.has(this.current - 1)) {
        this.direction = -1;
        return this.move(this.current - 1, `at the limit; trying ${this.current - 1}`);
      }
      this.settled = true;
      return { workers: this.current, changed: false, reason: "at the limit" };
    }
    return this.move(next, `${mean.toFixed(2)}x at ${this.current}; trying ${next}`);
  }

  /** Memory is short: shrink now, and do not climb back past this. */
  pressure(): ClimbDecision {
    const next = Math.max(1, this.current - 1);
    this.settled = true;
    return this.move(next, "memory pressure");
  }

  /** Repeated failures with several workers: the plan's single-worker fallback. */
  single(): ClimbDecision {
    this.settled = true;
    return this.move(1, "repeated failures with several workers");
  }

  private move(to: number, reason: string): ClimbDecision {
    const changed = to !== this.current;
    this.current = to;
    this.samples = [];
    return { workers: to, changed, reason };
  }
}
