/**
 * Remembers the best worker count per machine + model + engine (the plan's "automatic
 * optimization"), so the next job starts there. A small JSON file, written atomically.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname } from "node:path";

export interface StatsEntry {
  workers: number;
  throughput: number;
  updatedAt: string;
}

interface StatsFile {
  version: 1;
  entries: Record<string, StatsEntry>;
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

  async remember(key: string, workers: number, throughput: number): Promise<void> {
    const data = await this.read();
    data.entries[key] = { workers, throughput, updatedAt: new Date().toISOString() };
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(data, null, 2));
    await rename(tmp, this.path);
  }
}
