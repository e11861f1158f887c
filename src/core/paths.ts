/** Where things live on disk: the running code and the user's data folders. */
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The directory of the running code, whether bundled to CommonJS or run as ESM (tests). */
export function moduleDir(): string {
  if (typeof __dirname !== "undefined") return __dirname;
  return dirname(fileURLToPath(import.meta.url));
}

/**
 * Per-user data: models, the resume cache, stats, history. WHISPER_FLEET_HOME overrides it;
 * Raycast passes its support path through the same variable.
 */
export function dataHome(): string {
  if (process.env.WHISPER_FLEET_HOME) return process.env.WHISPER_FLEET_HOME;
  if (process.platform === "darwin") return join(homedir(), "Library", "Application Support", "whisper-fleet");
  return join(process.env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "whisper-fleet");
}

export const dataPaths = {
  models: () => join(dataHome(), "models"),
  cache: () => join(dataHome(), "cache"),
  stats: () => join(dataHome(), "stats.json"),
  history: () => join(dataHome(), "history"),
  /** Components fetched on first use: the native engine, ffmpeg (see core/runtime). */
  runtime: () => join(dataHome(), "runtime"),
};
