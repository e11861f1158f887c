/**
 * The adaptation loop: after every finished chunk, memory pressure is checked (shrink at once) and
 * the chunk's throughput is fed to the hill-climber — but only a chunk that started and ended under
 * the current layout counts, and the climber may move only while enough chunks remain to measure
 * the next layout. Each move bumps the setting so older chunks cannot pollute the new measurement.
 */
import type { ClimbDecision, HillClimber } from "./hillClimber";

export interface ChunkDone {
  /** The setting the chunk's attempt started under. */
  setting: number;
  audioSeconds: number;
  wallMs: number;
  /** Chunks not yet started. */
  remaining: number;
}

export class LayoutAdapter {
  private current = 0;
  /** Decisions taken, for metrics and tests. */
  readonly steps: string[] = [];
  pressureChecks = 0;

  constructor(
    private readonly climber: HillClimber,
    private readonly options: { explore: boolean; window?: number; memoryPressure?: () => boolean | Promise<boolean> },
  ) {}

  get setting(): number {
    return this.current;
  }

  get workers(): number {
    return this.climber.workers;
  }

  /** A change made from outside (engine switch, failures): later samples belong to it. */
  bump(): void {
    this.current++;
  }

  async afterChunk(done: ChunkDone, workersNow: number): Promise<ClimbDecision | undefined> {
    if (this.options.memoryPressure) {
      this.pressureChecks++;
      if (await this.options.memoryPressure()) return this.take(this.climber.pressure());
    }
    if (!this.options.explore || done.setting !== this.current) return undefined;
    // Throughput of the whole pool, from this chunk: its own speed times the workers running.
    const throughput = (done.audioSeconds / Math.max(0.001, done.wallMs / 1000)) * workersNow;
    const window = this.options.window ?? 2;
    const room = done.remaining >= window * Math.max(workersNow, 2);
    if (!room && this.climber.exploring) {
      this.climber.observe(throughput); // still measured: it is remembered for the next job
      return undefined;
    }
    return this.take(this.climber.observe(throughput));
  }

  failures(): ClimbDecision {
    return this.take(this.climber.single());
  }

  private take(d: ClimbDecision): ClimbDecision {
    if (d.changed) {
      this.current++;
      this.steps.push(`${d.workers}: ${d.reason}`);
    }
    return d;
  }
}
