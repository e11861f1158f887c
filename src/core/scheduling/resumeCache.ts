/**
 * Resume cache: finished chunk transcripts persisted as they arrive, keyed by the file's content,
 * the chunk's range, the engine, the model and the options that change the text. Re-running after
 * a cancel, crash or quit skips finished chunks. One file per entry, written to a temporary name
 * and renamed, so concurrent jobs never see half an entry; unreadable entries are ignored and
 * removed; the total size is bounded by evicting the least recently used entries.
 */
import { createHash } from "node:crypto";
import { open, readdir, readFile, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";

import { writeJsonAtomic } from "../storage/jsonFile";
import type { ChunkTranscript, PlannedChunk } from "../types";

const SCHEMA = 1;

/** A content identity that does not read hour-long files whole: size plus three 1 MiB samples. */
export async function fileIdentity(path: string): Promise<string> {
  const info = await stat(path);
  const hash = createHash("sha256").update(`size:${info.size}`);
  const handle = await open(path, "r");
  try {
    const span = 1 << 20;
    for (const at of [0, Math.max(0, Math.floor(info.size / 2) - span / 2), Math.max(0, info.size - span)]) {
      const buffer = Buffer.alloc(Math.min(span, info.size));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

export interface CacheKeyParts {
  file: string; // fileIdentity
  chunk: Pick<PlannedChunk, "start" | "end">;
  engine: string;
  model: string;
  options: Record<string, unknown>;
}

function stable(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stable).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    // Code-unit order, not localeCompare: a key must not depend on the process's locale (and the
    // first localeCompare of a process builds an ICU collator: ~6 ms at the start of every job).
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(",")}}`;
}

/** Deterministic: same inputs, same key, whatever the property order. */
export function cacheKey(parts: CacheKeyParts): string {
  const text = stable({
    v: SCHEMA,
    file: parts.file,
    start: Math.round(parts.chunk.start * 1000),
    end: Math.round(parts.chunk.end * 1000),
    engine: parts.engine,
    model: parts.model,
    options: parts.options,
  });
  return createHash("sha256").update(text).digest("hex");
}

export interface ResumeCacheOptions {
  dir: string;
  maxBytes?: number;
}

export class ResumeCache {
  readonly dir: string;
  private readonly maxBytes: number;
  private writes = 0;

  constructor(options: ResumeCacheOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  }

  private file(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  async get(key: string): Promise<ChunkTranscript | undefined> {
    const path = this.file(key);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as { schema: number; key: string; value: ChunkTranscript };
      if (entry.schema !== SCHEMA || entry.key !== key || !Array.isArray(entry.value?.segments)) throw new Error("bad entry");
      const now = new Date();
      await utimes(path, now, now).catch(() => undefined); // recency for eviction
      return entry.value;
    } catch {
      await rm(path, { force: true });
      return undefined;
    }
  }

  async put(key: string, value: ChunkTranscript): Promise<void> {
    await writeJsonAtomic(this.file(key), { schema: SCHEMA, key, value });
    if (++this.writes % 16 === 1) await this.prune();
  }

  /**
   * The plan a job used, so a resumed job cuts the file the same way (the plan depends on the
   * worker layout, which can differ the next time) and finds its finished chunks.
   */
  async getPlan(key: string): Promise<PlannedChunk[] | undefined> {
    try {
      const entry = JSON.parse(await readFile(this.file(`${key}.plan`), "utf8")) as { schema: number; key: string; chunks: PlannedChunk[] };
      if (entry.schema !== SCHEMA || entry.key !== key || !Array.isArray(entry.chunks) || entry.chunks.length === 0) return undefined;
      return entry.chunks;
    } catch {
      return undefined;
    }
  }

  async putPlan(key: string, chunks: PlannedChunk[]): Promise<void> {
    await writeJsonAtomic(this.file(`${key}.plan`), { schema: SCHEMA, key, chunks });
  }

  /** Evicts least recently used entries until the cache fits in maxBytes. */
  async prune(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    const entries: { path: string; size: number; mtime: number }[] = [];
    for (const name of names) {
      if (!name.endsWith(".json")) continue;
      try {
        const s = await stat(join(this.dir, name));
        entries.push({ path: join(this.dir, name), size: s.size, mtime: s.mtimeMs });
      } catch {
        // removed by a concurrent prune
      }
    }
    let total = entries.reduce((n, e) => n + e.size, 0);
    entries.sort((a, b) => a.mtime - b.mtime);
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      await rm(e.path, { force: true });
      total -= e.size;
    }
  }

  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
