/** Extension preferences → the core's configuration source (validated by loadConfig). */
import { getPreferenceValues, LocalStorage } from "@raycast/api";

import type { ConfigSource } from "../core/config";

export interface Preferences {
  engine: "auto" | "local" | "cloud";
  model?: string;
  language: string;
  translate: boolean;
  outputFormat: "txt" | "srt" | "vtt" | "json" | "md";
  onFinish: "copy" | "paste";
  minWorkers?: string;
  maxWorkers?: string;
  chunkSeconds?: string;
  overlapSeconds?: string;
  workerTimeout?: string;
  autoAdjust: boolean;
  openaiApiKey?: string;
  /** Ask before audio goes to a paid API (default on). */
  confirmCloudCost?: boolean;
  cloudModel: string;
  baseUrls?: string;
  requestsPerMinute?: string;
  ffmpegPath?: string;
  vadModelPath?: string;
}

export const DEFAULT_MODEL_KEY = "defaultModel";

export function configSource(p: Preferences, defaultModel?: string): ConfigSource {
  const urls = (p.baseUrls ?? "").split(/[,\s]+/).filter(Boolean);
  return {
    WHISPER_FLEET_ENGINE: p.engine,
    WHISPER_FLEET_MODEL: defaultModel || p.model || undefined,
    WHISPER_FLEET_LANGUAGE: p.language,
    WHISPER_FLEET_TRANSLATE: p.translate,
    WHISPER_FLEET_FORMAT: p.outputFormat,
    MIN_WORKER: p.minWorkers,
    MAX_WORKER: p.maxWorkers,
    CHUNK_SECONDS: p.chunkSeconds,
    CHUNK_OVERLAP: p.overlapSeconds,
    WORKER_TIMEOUT: p.workerTimeout,
    AUTO_ADJUST: p.autoAdjust,
    OPENAI_API_KEY: p.openaiApiKey,
    WHISPER_FLEET_CLOUD_MODEL: p.cloudModel,
    ...(urls.length > 1 ? { WHISPER_FLEET_CLOUD_ENDPOINTS: urls.join(",") } : urls.length === 1 ? { OPENAI_BASE_URL: urls[0] } : {}),
    WHISPER_FLEET_RPM: p.requestsPerMinute,
    FFMPEG_PATH_OVERRIDE: p.ffmpegPath,
    WHISPER_FLEET_VAD_MODEL: p.vadModelPath,
  };
}

/** The default model Manage Models stored (useLocalStorage keeps JSON; a bare path is from older versions). */
export function storedDefaultModel(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "string" ? value : undefined;
  } catch {
    return raw;
  }
}

export async function currentConfigSource(): Promise<ConfigSource> {
  const defaultModel = storedDefaultModel(await LocalStorage.getItem<string>(DEFAULT_MODEL_KEY));
  return configSource(getPreferenceValues<Preferences>(), defaultModel);
}
