/**
 * The adaptation loop: after every finished chunk, memory pressure is checked (shrink at once) and
 * the chunk's throughput is fed to the hill-climber — but only a chunk that started and ended under
 * the current layout counts, and the climber may step to a layout not yet measured only while
 * enough chunks remain to measure it (stepping back from one that proved worse is always allowed).
 * Each move bumps the setting so older chunks cannot pollute the new measurement.
 *
 * When every chunk still running under the current layout is needed for the climber's next
 * decision, a new chunk waits for that decision instead of starting: started just before a move to
 * fewer workers, it would keep its small share of the cores to its end while the cores it cannot
 * use stay idle (on 2 cores: one idle core for a whole chunk). With more workers than samples
 * pending nothing waits; the scheduler also lets it start when that wait would be long
 * (Schedule.holdForDecision).
 */
import { WINDOW_SECONDS } from "../planning/windowPlan";
import type { ClimbDecision, HillClimber } from "./hillClimber";

export interface ChunkDone {
  /** The setting the chunk's attempt started under. */
  setting: number;
  audioSeconds: number;
  /** 30-second windows the chunk cost (local engines); its work when known. */
  windows?: number;
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

  /**
   * Whether a chunk about to start should wait for the next decision: `running` chunks of the
   * current layout are in flight, `remaining` chunks have not started.
   */
  holds(running: number, remaining: number, workersNow: number): boolean {
    if (!this.options.explore || running <= 0) return false;
    const pending = this.climber.pendingSamples;
    return pending > 0 && running <= pending && this.climber.canMove(this.hasRoom(remaining, workersNow));
  }

  async afterChunk(done: ChunkDone, workersNow: number): Promise<ClimbDecision | undefined> {
    if (this.options.memoryPressure) {
      this.pressureChecks++;
      if (await this.options.memoryPressure()) return this.take(this.climber.pressure());
    }
    if (!this.options.explore || done.setting !== this.current) return undefined;
    // Throughput of the whole pool, from this chunk: its own speed times the workers running. A
    // chunk's work is its windows where known (a window costs whisper the same, full or padded):
    // in audio seconds a short first chunk or a partial last window would count against its layout.
    const work = done.windows && done.windows > 0 ? done.windows * WINDOW_SECONDS : done.audioSeconds;
    const throughput = (work / Math.max(0.001, done.wallMs / 1000)) * workersNow;
    // Too few chunks left to measure another layout: measured anyway (remembered for the next job),
    // and a layout that proved worse than the previous one is still left.
    return this.take(this.climber.observe(throughput, this.hasRoom(done.remaining, workersNow)));
  }

  /** Enough chunks left to measure the layout a move would lead to. */
  private hasRoom(remaining: number, workersNow: number): boolean {
    return remaining >= (this.options.window ?? 2) * Math.max(workersNow, 2);
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
