/**
 * Remembers, per machine + model + engine, the best worker layout, the throughput measured at each
 * layout tried, and one worker's speed (the plan's "automatic optimization"), so the next job
 * starts at the best layout, does not explore ones known to be worse, and sets deadlines from a
 * real speed. A small JSON file, written atomically.
 */
import { readFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { writeJsonAtomic } from "../storage/jsonFile";

export interface StatsEntry {
  workers: number;
  throughput: number;
  /**
   * Throughput (seconds of work per wall s: windows × 30 s for local chunks) per worker count: each
   * job's figure averaged with what was known (a moving average, so one noisy job cannot flip the
   * layout the next job starts at, and a machine that changes is still followed).
   */
  layouts?: Record<string, number>;
  /** Jobs remembered for this machine + model + engine. */
  jobs?: number;
  /**
   * Per worker count, the job (`jobs` then) that last measured it. A figure no job measured in the
   * last RECHECK_JOBS is stale: the sizing measures it again when a file's plan makes it a close
   * call, and that measurement replaces it instead of being averaged in.
   */
  measuredAt?: Record<string, number>;
  /**
   * Per worker count, how many jobs have measured it. A stale figure that one job alone took may
   * be priced by the thread-scaling prior when the sizing decides whether to measure it again
   * (workerSizing `recheck`): one busy stretch must not condemn a layout for good.
   */
  samples?: Record<string, number>;
  /** One worker's speed (audio s per wall s) at `threads`. */
  speed?: { threads: number; speed: number };
  updatedAt: string;
}

interface StatsFile {
  version: 1;
  entries: Record<string, StatsEntry>;
}

export interface JobStats {
  measured: Record<number, number>;
  speed?: { threads: number; speed: number };
}

/**
 * Jobs after which a layout's figure is stale. A figure only moves when its layout runs, so one
 * job that measured a layout badly (a busy machine: on the AMD 2-vCPU machine a 2-minute job on
 * 2 × 1 once ran 8.1 s where it runs 6.6) would otherwise keep every later job on the layout it
 * made look better: 1 × 2 ran the same file in 7.2–8.0 s, job after job.
 */
export const RECHECK_JOBS = 5;

/** Jobs since `workers` was last measured (Infinity: never, or a figure from before this was kept). */
function layoutAge(entry: StatsEntry, workers: number): number {
  const at = entry.measuredAt?.[workers];
  return at === undefined ? Infinity : (entry.jobs ?? 0) - at;
}

/**
 * Jobs after which a figure that one job alone took is stale: a teaching job's figure is checked
 * by the fourth job, not the seventh (see workerSizing `recheck` for what a doubtful figure is
 * priced by).
 */
export const RECHECK_ONCE_JOBS = 2;

/**
 * Whether the figure for `workers` is stale: not measured in the last RECHECK_JOBS jobs, or in the
 * last RECHECK_ONCE_JOBS where one job alone measured it.
 */
export function isStale(entry: StatsEntry, workers: number): boolean {
  return layoutAge(entry, workers) >= (tookOnce(entry, workers) ? RECHECK_ONCE_JOBS : RECHECK_JOBS);
}

/** Whether one job alone measured `workers` (a figure kept before jobs were counted is one job's). */
function tookOnce(entry: StatsEntry, workers: number): boolean {
  return (entry.samples?.[workers] ?? 1) <= 1;
}

/** The measured layouts whose figures are stale. */
export function staleLayouts(entry: StatsEntry | undefined): number[] {
  if (!entry?.layouts) return [];
  return Object.keys(entry.layouts)
    .map(Number)
    .filter((w) => isStale(entry, w));
}

/** The measured layouts whose figures one job alone took (figures kept before jobs were counted included). */
export function measuredOnce(entry: StatsEntry | undefined): number[] {
  if (!entry?.layouts) return [];
  return Object.keys(entry.layouts)
    .map(Number)
    .filter((w) => tookOnce(entry, w));
}

/** What the sizing (workerSizing `sizeWorkers`) takes from an entry: the best layout and every figure, with which are stale and which one job alone took. */
export function sizingFigures(entry: StatsEntry | undefined): { remembered?: number; known?: Record<number, number>; stale: number[]; once: number[] } {
  return { remembered: entry?.workers, known: entry?.layouts, stale: staleLayouts(entry), once: measuredOnce(entry) };
}

/** The figures no staler than RECHECK_JOBS: what a job may trust without measuring again. */
export function freshLayouts(entry: StatsEntry | undefined): Record<number, number> | undefined {
  if (!entry?.layouts) return undefined;
  const stale = new Set(staleLayouts(entry));
  return Object.fromEntries(Object.entries(entry.layouts).filter(([w]) => !stale.has(Number(w))));
}

export function machineKey(): string {
  const cpu = cpus()[0]?.model ?? "cpu";
  return `${process.platform}-${process.arch}|${cpu}|${cpus().length}c|${Math.round(totalmem() / 1e9)}GB`;
}

export function statsKey(machine: string, model: string, engine: string): string {
  return `${machine}|${engine}|${model}`;
}

export class StatsStore {
  constructor(readonly path: string) {}

  private async read(): Promise<StatsFile> {
    try {
      const data = JSON.parse(await readFile(this.path, "utf8")) as StatsFile;
      if (data.version === 1 && data.entries && typeof data.entries === "object") return data;
    } catch {
      // missing or corrupt: start over
    }
    return { version: 1, entries: {} };
  }

  async get(key: string): Promise<StatsEntry | undefined> {
    const entry = (await this.read()).entries[key];
    return entry && Number.isInteger(entry.workers) && entry.workers >= 1 ? entry : undefined;
  }

  /**
   * Merges a job's measurements: the best layout over everything known is what the next job uses.
   * A fresh figure is averaged with the new one; a stale one is replaced by it.
   */
  async remember(key: string, job: JobStats): Promise<StatsEntry | undefined> {
    const data = await this.read();
    const before = data.entries[key];
    const layouts: Record<string, number> = { ...(before?.layouts ?? {}) };
    const jobs = (before?.jobs ?? 0) + 1;
    const measuredAt: Record<string, number> = { ...(before?.measuredAt ?? {}) };
    const samples: Record<string, number> = { ...(before?.samples ?? {}) };
    for (const [workers, throughput] of Object.entries(job.measured)) {
      if (!(throughput > 0 && Number.isFinite(throughput))) continue;
      const known = layouts[workers];
      const fresh = before !== undefined && !isStale(before, Number(workers));
      layouts[workers] = fresh && known > 0 && Number.isFinite(known) ? (known + throughput) / 2 : throughput;
      measuredAt[workers] = jobs;
      samples[workers] = (samples[workers] ?? (known > 0 ? 1 : 0)) + 1;
    }
    const best = Object.entries(layouts).sort((a, b) => b[1] - a[1])[0];
    if (!best) return undefined;
    const entry: StatsEntry = {
      workers: Number(best[0]),
      throughput: best[1],
      layouts,
      jobs,
      measuredAt,
      samples,
      speed: job.speed ?? data.entries[key]?.speed,
      updatedAt: new Date().toISOString(),
    };
    data.entries[key] = entry;
    await writeJsonAtomic(this.path, data, true);
    return entry;
  }
}
