/**
 * Transcription history: one JSON file per job with a schema version, written atomically. A job
 * still marked running whose heartbeat stopped (Raycast unloaded the command, the machine slept)
 * reads back as interrupted; re-running it resumes from the chunk cache. Another process (the
 * menu bar) asks the process running a job to stop by leaving a `<id>.cancel` file beside it.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

import type { SerializedError } from "../errors";
import { writeJsonAtomic } from "../storage/jsonFile";
import type { Transcript } from "../types";

export const HISTORY_SCHEMA = 1;
const STALE_MS = 30_000;

export type JobStatus = "running" | "done" | "failed" | "cancelled" | "interrupted";

export interface HistoryEntry {
  schema: typeof HISTORY_SCHEMA;
  id: string;
  file: string;
  status: JobStatus;
  startedAt: string;
  finishedAt?: string;
  heartbeatAt?: string;
  /** The per-run choices, so an interrupted job can be resumed as it was started. */
  overrides: Record<string, unknown>;
  progress?: string;
  transcript?: Transcript;
  error?: SerializedError;
}

export class HistoryStore {
  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  private path(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  async save(entry: HistoryEntry): Promise<void> {
    await writeJsonAtomic(this.path(entry.id), entry);
  }

  async start(file: string, overrides: Record<string, unknown>): Promise<HistoryEntry> {
    const at = new Date(this.now()).toISOString();
    const entry: HistoryEntry = { schema: HISTORY_SCHEMA, id: randomUUID(), file, status: "running", startedAt: at, heartbeatAt: at, overrides };
    await this.save(entry);
    return entry;
  }

  async heartbeat(entry: HistoryEntry, progress?: string): Promise<void> {
    entry.heartbeatAt = new Date(this.now()).toISOString();
    if (progress) entry.progress = progress;
    await this.save(entry);
  }

  async finish(entry: HistoryEntry, outcome: { transcript?: Transcript; error?: HistoryEntry["error"]; cancelled?: boolean }): Promise<void> {
    entry.finishedAt = new Date(this.now()).toISOString();
    entry.status = outcome.transcript ? "done" : outcome.cancelled ? "cancelled" : "failed";
    entry.transcript = outcome.transcript;
    entry.error = outcome.error;
    await this.save(entry);
  }

  async list(): Promise<HistoryEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const entries: HistoryEntry[] = [];
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      try {
        const e = JSON.parse(await readFile(join(this.dir, name), "utf8")) as HistoryEntry;
        if (e.schema !== HISTORY_SCHEMA || !e.id) continue;
        if (e.status === "running" && this.now() - Date.parse(e.heartbeatAt ?? e.startedAt) > STALE_MS) e.status = "interrupted";
        entries.push(e);
      } catch {
        // unreadable entry: skip it
      }
    }
    return entries.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  async remove(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
    await rm(this.cancelPath(id), { force: true });
  }

  private cancelPath(id: string): string {
    return join(this.dir, `${id}.cancel`);
  }

  /** Asks whichever process runs job `id` to stop it (it looks at each heartbeat). */
  async requestCancel(id: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(this.cancelPath(id), new Date(this.now()).toISOString());
  }

  cancelRequested(id: string): boolean {
    return existsSync(this.cancelPath(id));
  }

  async clearCancel(id: string): Promise<void> {
    await rm(this.cancelPath(id), { force: true });
  }
}
