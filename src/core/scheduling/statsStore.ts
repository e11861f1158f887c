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

  /** Merges a job's measurements: the best layout over everything known is what the next job uses. */
  async remember(key: string, job: JobStats): Promise<StatsEntry | undefined> {
    const data = await this.read();
    const layouts: Record<string, number> = { ...(data.entries[key]?.layouts ?? {}) };
    for (const [workers, throughput] of Object.entries(job.measured)) {
      if (!(throughput > 0 && Number.isFinite(throughput))) continue;
      const known = layouts[workers];
      layouts[workers] = known > 0 && Number.isFinite(known) ? (known + throughput) / 2 : throughput;
    }
    const best = Object.entries(layouts).sort((a, b) => b[1] - a[1])[0];
    if (!best) return undefined;
    const entry: StatsEntry = {
      workers: Number(best[0]),
      throughput: best[1],
      layouts,
      speed: job.speed ?? data.entries[key]?.speed,
      updatedAt: new Date().toISOString(),
    };
    data.entries[key] = entry;
    await writeJsonAtomic(this.path, data, true);
    return entry;
  }
}
