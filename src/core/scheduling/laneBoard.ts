/**
 * The scheduler's view of its workers for progress: one lane per worker slot, which chunk each is
 * on and how far, busy time per lane, and how much audio is done (finished chunks plus the running
 * ones' share). Builds the one ProgressSnapshot every front end renders.
 */
import type { PlannedChunk } from "../types";
import { estimateEta, type ProgressSnapshot, type WorkerLane } from "./progress";
import { WakeList } from "./wakeList";

export class LaneBoard {
  readonly lanes: WorkerLane[] = [];
  readonly busyMs: number[] = [];
  /** What runs on each busy lane: a chunk, or a piece of one that a helper took (tailSplit.ts). */
  private readonly running = new Map<number, { chunk: number; percent: number; since: number; seconds?: number }>();
  private readonly finished = new Set<number>();
  private readonly wentIdle = new WakeList();
  private lastHeard?: { start: number; end: number; text: string };

  constructor(
    private readonly plan: PlannedChunk[],
    private readonly now: () => number,
  ) {}

  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Takes a free lane (or opens one) for `chunk`, or for `seconds` of its audio that a helper took
   * from the worker running it.
   */
  acquire(chunk: number, engine: string, retry: boolean, seconds?: number): number {
    let lane = this.lanes.findIndex((l) => l.state === "idle" || l.state === "stopped");
    if (lane < 0) {
      lane = this.lanes.length;
      this.lanes.push({ id: lane, state: "idle", percent: 0 });
      this.busyMs.push(0);
    }
    this.lanes[lane] = { id: lane, state: retry ? "retrying" : "busy", chunk, percent: 0, engine };
    this.running.set(lane, { chunk, percent: 0, since: this.now(), ...(seconds !== undefined && { seconds }) });
    return lane;
  }

  step(lane: number, step: "encoding" | "sent"): void {
    if (this.running.has(lane)) this.lanes[lane].step = step;
  }

  progress(lane: number, percent: number): void {
    const r = this.running.get(lane);
    if (!r) return;
    r.percent = percent;
    this.lanes[lane].percent = percent;
  }

  /** Text a running chunk just produced: the newest is what the snapshot shows. */
  hear(segment: { start: number; end: number; text: string }): void {
    this.lastHeard = { start: segment.start, end: segment.end, text: segment.text };
  }

  /** Frees a lane; lanes beyond the current worker count show as stopped. */
  release(lane: number, workers: number): void {
    const r = this.running.get(lane);
    if (!r) return;
    this.busyMs[lane] += this.now() - r.since;
    this.running.delete(lane);
    this.lanes[lane] = { id: lane, state: lane < workers ? "idle" : "stopped", percent: 0 };
    if (this.running.size === 0) {
      this.wentIdle.wakeAll();
    }
  }

  /** A chunk ended for good (transcribed, cached or failed): its audio counts as done. */
  settle(chunk: number): void {
    this.finished.add(chunk);
  }

  /** Lanes past `workers` that sit idle are shown as stopped. */
  retire(workers: number): void {
    for (let i = workers; i < this.lanes.length; i++) if (this.lanes[i].state === "idle") this.lanes[i].state = "stopped";
  }

  /** Resolves once no chunk is running (a solo chunk waits for this). */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return this.wentIdle.next();
  }

  /** Audio seconds done: finished chunks whole, running ones (and pieces of them) by their progress. */
  audioDone(): number {
    const running = new Map<number, number>();
    for (const r of this.running.values()) {
      const c = this.plan.find((p) => p.index === r.chunk);
      const seconds = r.seconds ?? (c ? c.ownEnd - c.ownStart : 0);
      running.set(r.chunk, (running.get(r.chunk) ?? 0) + (seconds * r.percent) / 100);
    }
    let done = 0;
    for (const c of this.plan) {
      const own = c.ownEnd - c.ownStart;
      done += this.finished.has(c.index) ? own : Math.min(own, running.get(c.index) ?? 0);
    }
    return done;
  }

  snapshot(base: Pick<ProgressSnapshot, "file" | "engine" | "activeWorkers" | "chunks">, started: number): ProgressSnapshot {
    const elapsed = (this.now() - started) / 1000;
    const audioTotal = this.plan.reduce((n, c) => n + (c.ownEnd - c.ownStart), 0);
    const audioDone = this.audioDone();
    const fresh = base.chunks.done - base.chunks.cached;
    return {
      phase: "transcribing",
      ...base,
      workers: this.lanes.map((l) => ({ ...l })),
      chunks: { ...base.chunks, running: this.running.size },
      audio: { done: audioDone, total: audioTotal },
      speed: {
        chunksPerMinute: elapsed > 0 ? (fresh / elapsed) * 60 : 0,
        realtimeFactor: elapsed > 0 ? audioDone / elapsed : 0,
      },
      etaSeconds: estimateEta(audioDone, audioTotal, elapsed),
      elapsedSeconds: elapsed,
      ...(this.lastHeard && { heard: { ...this.lastHeard } }),
    };
  }
}
