/**
 * Writes a JSON file atomically: a uniquely named temporary file beside it, then a rename, so a
 * reader (another process, a crash mid-write) sees the old file or the new one, never half of one.
 * History, the stats store and the resume cache all write through here.
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export async function writeJsonAtomic(path: string, value: unknown, pretty = false): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    await writeFile(tmp, JSON.stringify(value, null, pretty ? 2 : undefined));
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
}
