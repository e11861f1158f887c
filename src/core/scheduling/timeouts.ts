/**
 * Per-attempt deadlines from the work itself (pure). WORKER_TIMEOUT is the floor the user controls;
 * above it, an attempt gets `margin` times what this model needs for the chunk on this machine at
 * the measured speed. Before any speed is known it allows the slowest plausible one (a tenth of
 * realtime), so a model slower than realtime (large-v3 on a CPU) is not stopped and retried on
 * every chunk; the scheduler re-checks a running attempt's deadline as speeds get measured.
 */

/** Audio seconds per wall second one worker is assumed to manage before anything was measured. */
export const UNMEASURED_SPEED = 0.1;

export interface DeadlineInput {
  /** Seconds of audio the attempt sends (overlap included). */
  audioSeconds: number;
  /** Measured audio seconds per wall second for one worker at the attempt's thread count. */
  speed?: number;
  /** WORKER_TIMEOUT in ms. */
  floorMs: number;
  /** Headroom over the expected time (default 3x). */
  margin?: number;
}

export function attemptDeadlineMs(input: DeadlineInput): number {
  const measured = input.speed !== undefined && input.speed > 0 && Number.isFinite(input.speed);
  const expectedMs = (input.audioSeconds / (measured ? input.speed! : UNMEASURED_SPEED)) * 1000;
  return Math.max(input.floorMs, Math.ceil(expectedMs * (measured ? (input.margin ?? 3) : 1)));
}

/**
 * A running estimate of one worker's speed per thread count: the median of the chunks seen, so one
 * slow or cached outlier does not move it. Seeded with a remembered figure.
 */
export class SpeedEstimate {
  private readonly samples = new Map<number, number[]>();

  constructor(private readonly remembered?: { threads: number; speed: number }) {}

  record(threads: number, audioSeconds: number, wallMs: number): void {
    if (!(audioSeconds > 0) || !(wallMs > 0)) return;
    const list = this.samples.get(threads) ?? [];
    list.push(audioSeconds / (wallMs / 1000));
    this.samples.set(threads, list);
  }

  /** Speed at `threads`: measured, else scaled from the nearest measured or remembered figure. */
  at(threads: number): number | undefined {
    const own = this.samples.get(threads);
    if (own?.length) return median(own);
    for (const [t, list] of this.samples) if (list.length) return (median(list) * Math.min(threads, t)) / t;
    if (this.remembered) return (this.remembered.speed * Math.min(threads, this.remembered.threads)) / this.remembered.threads;
    return undefined;
  }

  /** The speed measured most often (what to remember for the next job). */
  summary(): { threads: number; speed: number } | undefined {
    let best: { threads: number; speed: number; n: number } | undefined;
    for (const [threads, list] of this.samples) if (!best || list.length > best.n) best = { threads, speed: median(list), n: list.length };
    return best && { threads: best.threads, speed: best.speed };
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
