/**
 * Configuration: environment variables (and a .env file for the CLI), Raycast preferences and
 * per-run overrides all become one validated FleetConfig. Bad values fail with CONFIG_INVALID
 * naming the variable or preference.
 */
import { FleetError } from "./errors";
import { isOutputFormat, type OutputFormat } from "./output/formats";
import { dataPaths } from "./paths";

export type EngineChoice = "auto" | "local" | "cloud";

export interface CloudEndpoint {
  baseURL?: string;
  apiKey?: string;
  concurrency: number;
}

export interface FleetConfig {
  engine: EngineChoice;
  /** A model file path or a catalog name ("base.en"); undefined = first installed model. */
  model?: string;
  modelsDir: string;
  language: string;
  translate: boolean;
  prompt?: string;
  /** Tokens of earlier windows' text carried into the next 30-second window (local engines). */
  textContext: number;
  format: OutputFormat;
  timestamps: boolean;
  minWorkers: number;
  maxWorkers: number;
  /** Forces the worker count (CLI --workers); disables sizing and auto-adjust. */
  workers?: number;
  /** Target chunk length; default 300 s local, 600 s cloud. */
  chunkSeconds?: number;
  overlapSeconds: number;
  /** How far a cut may move from its target to find a pause (WHISPER_FLEET_CUT_SEARCH; 0: fixed cuts; default: the planner's). */
  cutSearchSeconds?: number;
  timeoutSeconds: number;
  /** Attempts per chunk, on any engine (WHISPER_FLEET_ATTEMPTS); the scheduler owns every retry. */
  attempts: number;
  autoAdjust: boolean;
  /**
   * Local engines: a worker with no chunk left to start takes the rest of the running chunk that
   * would end last (WHISPER_FLEET_SPLIT_TAIL; scheduling/tailSplit.ts).
   */
  splitTail: boolean;
  cache: boolean;
  cacheDir: string;
  statsPath: string;
  ffmpegPath?: string;
  vadModelPath?: string;
  skipSilenceSeconds: number;
  /**
   * Local engines: how much faster than recorded a chunk may be played so a cut at a pause does
   * not cost a whole extra 30-second window (WHISPER_FLEET_MAX_SPEEDUP; 1 = never).
   */
  maxSpeedUp: number;
  useGpu: boolean;
  /** Linux: the model's weights and compute buffers on transparent huge pages. */
  hugePages: boolean;
  tempDir?: string;
  cloud: {
    model: string;
    endpoints: CloudEndpoint[];
    requestsPerMinute: number;
    /** Tokens-per-minute budget of the cloud account (WHISPER_FLEET_TPM). */
    tokensPerMinute: number;
  };
}

export type ConfigSource = Record<string, string | boolean | number | undefined>;

/**
 * A chunk may be played up to 3% faster to fit its windows (planning/windowPlan.ts): on whole-minute
 * files every cut at a pause otherwise costs a whole extra window. See README, "Speed-up to fit".
 */
export const DEFAULT_MAX_SPEEDUP = 1.03;

function fail(name: string, value: unknown, what: string): never {
  throw new FleetError("CONFIG_INVALID", `${name} must be ${what}, but it is ${JSON.stringify(value)}.`, {
    hint: `Fix ${name} in the environment, the .env file or the extension preferences.`,
  });
}

function int(src: ConfigSource, name: string, fallback: number, min: number, max: number): number {
  const raw = src[name];
  if (raw === undefined || raw === "") return fallback;
  const n = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isInteger(n) || n < min || n > max) fail(name, raw, `an integer from ${min} to ${max}`);
  return n;
}

function num(src: ConfigSource, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = src[name];
  if (raw === undefined || raw === "") return fallback;
  const n = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isFinite(n) || n < min || n > max) fail(name, raw, `a number from ${min} to ${max}`);
  return n;
}

function bool(src: ConfigSource, name: string, fallback: boolean): boolean {
  const raw = src[name];
  if (raw === undefined || raw === "") return fallback;
  if (typeof raw === "boolean") return raw;
  const s = String(raw).trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(s)) return true;
  if (["0", "false", "no", "off"].includes(s)) return false;
  return fail(name, raw, "true or false");
}

function str(src: ConfigSource, name: string): string | undefined {
  const raw = src[name];
  if (raw === undefined || raw === "") return undefined;
  return String(raw).trim() || undefined;
}

/**
 * Endpoints: OPENAI_BASE_URL (+ OPENAI_API_KEY) or WHISPER_FLEET_CLOUD_ENDPOINTS, a comma list of
 * `url` or `url|concurrency` for several OpenAI-compatible servers.
 */
function endpoints(src: ConfigSource): CloudEndpoint[] {
  const apiKey = str(src, "OPENAI_API_KEY");
  const perEndpoint = int(src, "WHISPER_FLEET_CLOUD_CONCURRENCY", 4, 1, 64);
  const list = str(src, "WHISPER_FLEET_CLOUD_ENDPOINTS");
  if (list) {
    return list
      .split(/[,\n]/)
      .map((item) => item.trim())
      .filter(Boolean)
      .map((item) => {
        const [url, c] = item.split("|");
        try {
          new URL(url);
        } catch {
          fail("WHISPER_FLEET_CLOUD_ENDPOINTS", item, "a comma-separated list of URLs (optionally url|concurrency)");
        }
        const concurrency = c === undefined ? perEndpoint : Number(c);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
          fail("WHISPER_FLEET_CLOUD_ENDPOINTS", item, "url|concurrency with concurrency 1..64");
        return { baseURL: url, apiKey, concurrency };
      });
  }
  const baseURL = str(src, "OPENAI_BASE_URL");
  if (baseURL) {
    try {
      new URL(baseURL);
    } catch {
      fail("OPENAI_BASE_URL", baseURL, "a URL such as https://api.openai.com/v1");
    }
  }
  if (!apiKey && !baseURL) return [];
  return [{ baseURL, apiKey, concurrency: perEndpoint }];
}

/** Builds and validates a config; later sources win over earlier ones. */
export function loadConfig(...sources: ConfigSource[]): FleetConfig {
  const src: ConfigSource = Object.assign({}, ...sources);
  const engine = (str(src, "WHISPER_FLEET_ENGINE") ?? "auto") as EngineChoice;
  if (!["auto", "local", "cloud"].includes(engine)) fail("WHISPER_FLEET_ENGINE", engine, "auto, local or cloud");
  const format = str(src, "WHISPER_FLEET_FORMAT") ?? "txt";
  if (!isOutputFormat(format)) fail("WHISPER_FLEET_FORMAT", format, "txt, srt, vtt, json or md");
  const minWorkers = int(src, "MIN_WORKER", 1, 1, 64);
  const maxWorkers = int(src, "MAX_WORKER", 10, 1, 64);
  if (maxWorkers < minWorkers) fail("MAX_WORKER", maxWorkers, `at least MIN_WORKER (${minWorkers})`);
  const chunkSeconds = num(src, "CHUNK_SECONDS", undefined, 10, 7200);
  const overlapSeconds = num(src, "CHUNK_OVERLAP", 5, 0, 60)!;
  if (chunkSeconds !== undefined && overlapSeconds > chunkSeconds / 4) fail("CHUNK_OVERLAP", overlapSeconds, "at most a quarter of CHUNK_SECONDS");
  const language = (str(src, "WHISPER_FLEET_LANGUAGE") ?? "auto").toLowerCase();
  if (!/^(auto|[a-z]{2,3}|haw|yue)$/.test(language)) fail("WHISPER_FLEET_LANGUAGE", language, "auto or a language code such as en or ko");
  const workers = src.WHISPER_FLEET_WORKERS === undefined || src.WHISPER_FLEET_WORKERS === "" ? undefined : int(src, "WHISPER_FLEET_WORKERS", 1, 1, 64);
  return {
    engine,
    model: str(src, "WHISPER_FLEET_MODEL"),
    modelsDir: str(src, "WHISPER_FLEET_MODELS_DIR") ?? dataPaths.models(),
    language,
    translate: bool(src, "WHISPER_FLEET_TRANSLATE", false),
    prompt: str(src, "WHISPER_FLEET_PROMPT"),
    textContext: int(src, "WHISPER_FLEET_CONTEXT", 0, 0, 224),
    format,
    timestamps: bool(src, "WHISPER_FLEET_TIMESTAMPS", false),
    minWorkers,
    maxWorkers,
    workers,
    chunkSeconds,
    overlapSeconds,
    cutSearchSeconds: num(src, "WHISPER_FLEET_CUT_SEARCH", undefined, 0, 120),
    timeoutSeconds: int(src, "WORKER_TIMEOUT", 300, 1, 86400),
    attempts: int(src, "WHISPER_FLEET_ATTEMPTS", 3, 1, 10),
    autoAdjust: bool(src, "AUTO_ADJUST", true),
    splitTail: bool(src, "WHISPER_FLEET_SPLIT_TAIL", true),
    cache: bool(src, "WHISPER_FLEET_CACHE", true),
    cacheDir: str(src, "WHISPER_FLEET_CACHE_DIR") ?? dataPaths.cache(),
    statsPath: str(src, "WHISPER_FLEET_STATS") ?? dataPaths.stats(),
    ffmpegPath: str(src, "FFMPEG_PATH_OVERRIDE"),
    vadModelPath: str(src, "WHISPER_FLEET_VAD_MODEL"),
    skipSilenceSeconds: num(src, "WHISPER_FLEET_SKIP_SILENCE", 0, 0, 3600)!,
    maxSpeedUp: num(src, "WHISPER_FLEET_MAX_SPEEDUP", DEFAULT_MAX_SPEEDUP, 1, 1.1)!,
    useGpu: bool(src, "WHISPER_FLEET_GPU", true),
    hugePages: bool(src, "WHISPER_FLEET_HUGE_PAGES", true),
    tempDir: str(src, "WHISPER_FLEET_TMPDIR"),
    cloud: {
      model: str(src, "WHISPER_FLEET_CLOUD_MODEL") ?? "whisper-1",
      endpoints: endpoints(src),
      requestsPerMinute: int(src, "WHISPER_FLEET_RPM", 50, 1, 100000),
      tokensPerMinute: int(src, "WHISPER_FLEET_TPM", 40000, 100, 100_000_000),
    },
  };
}
