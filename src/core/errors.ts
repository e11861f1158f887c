/**
 * Typed, coded, actionable errors: every failure the user can meet has a stable `code`, a sentence
 * that names the file or setting involved, and a hint saying what to do next. Front ends map codes
 * to their own actions (open preferences, download a model, switch engine); nobody parses messages.
 */
export const ERROR_CODES = [
  // native engine
  "MODEL_NOT_FOUND",
  "MODEL_INVALID",
  "MODEL_LOAD_TIMEOUT",
  "MODEL_NOT_LOADED",
  "ENCODE_FAILED",
  "DECODE_FAILED",
  "TRANSCRIBE_FAILED",
  "LANGUAGE_DETECT_FAILED",
  "INVALID_AUDIO",
  "AUDIO_READ_FAILED",
  "OUT_OF_MEMORY",
  "NO_WORKERS",
  "ABORTED",
  "DISPOSED",
  "INVALID_ARGUMENT",
  "INVALID_STATE",
  "ADDON_NOT_FOUND",
  "ADDON_LOAD_FAILED",
  // media
  "FILE_NOT_FOUND",
  "FILE_IS_DIRECTORY",
  "FILE_UNREADABLE",
  "FILE_EMPTY",
  "NOT_MEDIA",
  "NO_AUDIO_STREAM",
  "MEDIA_CORRUPT",
  "FFMPEG_NOT_FOUND",
  "FFMPEG_FAILED",
  // scheduling
  "CHUNK_TIMEOUT",
  "NO_TEXT_FOR_SPEECH",
  "ENGINE_UNAVAILABLE",
  "ENGINE_CRASHED",
  // cloud
  "CLOUD_AUTH",
  "CLOUD_QUOTA",
  "CLOUD_MODEL_NOT_FOUND",
  "CLOUD_REQUEST_TOO_LARGE",
  "CLOUD_RATE_LIMITED",
  "CLOUD_UNAVAILABLE",
  "CLOUD_BAD_RESPONSE",
  "CLOUD_NOT_CONFIGURED",
  // configuration, models, storage
  "CONFIG_INVALID",
  "DOWNLOAD_FAILED",
  "CHECKSUM_MISMATCH",
  "DISK_FULL",
  "PERMISSION_DENIED",
  // runtime components fetched on first use
  "COMPONENT_UNAVAILABLE",
  "COMPONENT_INVALID",
  "UNKNOWN",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FleetErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Whether trying the same work again may succeed (timeouts, rate limits, crashed workers). */
  retryable?: boolean;
  details?: Record<string, unknown>;
}

export class FleetError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: FleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FleetError";
    this.code = code;
    this.hint = options.hint ?? DEFAULT_HINTS[code];
    this.retryable = options.retryable ?? RETRYABLE.has(code);
    this.details = options.details;
  }

  /** One line for terminals and toasts: the sentence, then what to do. */
  describe(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }

  /** What crosses a process boundary (IPC, history files): everything but the stack and cause. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, hint: this.hint, retryable: this.retryable, details: this.details };
  }

  /** The inverse of toJSON; an unknown code (a newer host, an old history entry) becomes UNKNOWN. */
  static fromJSON(o: SerializedError): FleetError {
    return new FleetError(isErrorCode(o.code) ? o.code : "UNKNOWN", o.message, { hint: o.hint, retryable: o.retryable, details: o.details });
  }
}

export interface SerializedError {
  code: string;
  message: string;
  hint?: string;
  retryable?: boolean;
  details?: Record<string, unknown>;
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && (ERROR_CODES as readonly string[]).includes(code);
}

const RETRYABLE = new Set<ErrorCode>([
  "ENCODE_FAILED",
  "DECODE_FAILED",
  "TRANSCRIBE_FAILED",
  "CHUNK_TIMEOUT",
  "CLOUD_RATE_LIMITED",
  "CLOUD_UNAVAILABLE",
  "CLOUD_BAD_RESPONSE",
  "AUDIO_READ_FAILED",
]);

const DEFAULT_HINTS: Partial<Record<ErrorCode, string>> = {
  MODEL_NOT_FOUND: "Download a model with `whisper-fleet models download base` or pick one in Manage Models.",
  MODEL_INVALID: "Delete the file and download the model again.",
  MODEL_LOAD_TIMEOUT: "The disk or the machine is very slow, or the file is damaged: try again, or download the model again.",
  NO_TEXT_FOR_SPEECH: "The engine heard speech but returned no words for it; try another model or engine for this file.",
  OUT_OF_MEMORY: "Use fewer workers (MAX_WORKER) or a smaller model.",
  ADDON_NOT_FOUND: "Run `npm run build:native`, or use the cloud engine.",
  FFMPEG_NOT_FOUND: "Install ffmpeg (`brew install ffmpeg`) or set its path in preferences / FFMPEG_PATH.",
  NOT_MEDIA: "Choose an audio or video file.",
  NO_AUDIO_STREAM: "The file has no audio track to transcribe.",
  CLOUD_AUTH: "Check the OpenAI API key in preferences / OPENAI_API_KEY.",
  CLOUD_QUOTA: "Add credit to the OpenAI account or switch to the local engine.",
  CLOUD_NOT_CONFIGURED: "Set an OpenAI API key or a compatible base URL to use the cloud engine.",
  CLOUD_MODEL_NOT_FOUND: "Choose a model this server serves (Cloud Model preference / WHISPER_FLEET_CLOUD_MODEL).",
  CLOUD_REQUEST_TOO_LARGE: "Use shorter chunks (Chunk Length preference / CHUNK_SECONDS).",
  COMPONENT_UNAVAILABLE: "Use the cloud engine, or build from source (`npm ci && npm run build`).",
  DOWNLOAD_FAILED: "Check the network connection and try again; a download resumes where it stopped.",
  CHECKSUM_MISMATCH: "Try again; if it keeps failing, the server is sending a different file than the one pinned.",
  CONFIG_INVALID: "Fix the setting named above.",
  ENGINE_CRASHED: "Try again; if it keeps happening, use fewer workers or a smaller model.",
  DISK_FULL: "Free some disk space and try again.",
};

/** Converts anything thrown (native errors carry a `code`) into a FleetError. */
export function toFleetError(error: unknown, fallback: ErrorCode = "UNKNOWN"): FleetError {
  if (error instanceof FleetError) return error;
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    const known = isErrorCode(code);
    if (error.name === "AbortError") return abortError(error);
    const details: Record<string, unknown> = {};
    const chunkIndex = (error as Error & { chunkIndex?: unknown }).chunkIndex;
    if (typeof chunkIndex === "number") details.chunkIndex = chunkIndex;
    return new FleetError(known ? code : fallback, error.message, {
      cause: error,
      details: Object.keys(details).length ? details : undefined,
    });
  }
  return new FleetError(fallback, String(error));
}

export function abortError(cause?: unknown): FleetError {
  return new FleetError("ABORTED", "Transcription was cancelled.", cause === undefined ? {} : { cause });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError();
}

/** Waits `ms`, rejecting with ABORTED as soon as `signal` fires. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Validation in the house shape: "Expected <what> for <name> but received <value> of type <type>". */
export function invalidArgument(what: string, name: string, value: unknown): FleetError {
  const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  let shown: string;
  try {
    shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  } catch {
    shown = "a value";
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return new FleetError("INVALID_ARGUMENT", `Expected ${what} for ${name} but received ${shown} of type ${type}`);
}
