/// <reference types="@raycast/api">

/* 🚧 🚧 🚧
 * This file is auto-generated from the extension's manifest.
 * Do not modify manually. Instead, update the `package.json` file.
 * 🚧 🚧 🚧 */

/* eslint-disable @typescript-eslint/ban-types */

type ExtensionPreferences = {
  /** Engine - Local whisper.cpp, the OpenAI API (or a compatible server), or local with cloud fallback */
  "engine": "auto" | "local" | "cloud",
  /** Default Model - Model name (base.en, large-v3-turbo...) or path to a ggml .bin; empty: first installed */
  "model"?: string,
  /** Language - Spoken language */
  "language": "auto" | "ko" | "en" | "ja" | "zh" | "es" | "de" | "fr",
  /** Translation - Output English whatever the spoken language */
  "translate": boolean,
  /** Output Format - What is copied or pasted */
  "outputFormat": "txt" | "md" | "srt" | "vtt" | "json",
  /** When Done - Copy the transcript to the clipboard or paste it into the front app */
  "onFinish": "copy" | "paste",
  /** Min Workers - MIN_WORKER (default 1) */
  "minWorkers"?: string,
  /** Max Workers - MAX_WORKER (default 10) */
  "maxWorkers"?: string,
  /** Chunk Length (s) - Default 300 local, 600 cloud */
  "chunkSeconds"?: string,
  /** Chunk Overlap (s) - CHUNK_OVERLAP (default 5) */
  "overlapSeconds"?: string,
  /** Worker Timeout (s) - WORKER_TIMEOUT per chunk (default 300) */
  "workerTimeout"?: string,
  /** Workers - AUTO_ADJUST: tune the worker count while a job runs and remember the best */
  "autoAdjust": boolean,
  /** OpenAI API Key - For the cloud engine */
  "openaiApiKey"?: string,
  /** Cloud Model - OpenAI transcription model */
  "cloudModel": "whisper-1" | "gpt-4o-transcribe" | "gpt-4o-mini-transcribe",
  /** Base URL(s) - OpenAI-compatible endpoints, comma-separated, optionally url|concurrency */
  "baseUrls"?: string,
  /** Cloud Costs - Before more than 10 minutes of audio goes to api.openai.com, show the estimated price and ask */
  "confirmCloudCost": boolean,
  /** Requests per Minute - Cloud rate limit shared by all jobs (default 50) */
  "requestsPerMinute"?: string,
  /** ffmpeg Binary - Use this ffmpeg instead of Homebrew's or the one Whisper Fleet downloads on first use */
  "ffmpegPath"?: string,
  /** VAD Model - A Silero VAD ggml model (.bin) to skip non-speech (optional) */
  "vadModelPath"?: string
}

/** Preferences accessible in all the extension's commands */
declare type Preferences = ExtensionPreferences

declare namespace Preferences {
  /** Preferences accessible in the `transcribe-selected-files` command */
  export type TranscribeSelectedFiles = ExtensionPreferences & {}
  /** Preferences accessible in the `transcribe-file` command */
  export type TranscribeFile = ExtensionPreferences & {}
  /** Preferences accessible in the `transcription-history` command */
  export type TranscriptionHistory = ExtensionPreferences & {}
  /** Preferences accessible in the `manage-models` command */
  export type ManageModels = ExtensionPreferences & {}
  /** Preferences accessible in the `running-jobs` command */
  export type RunningJobs = ExtensionPreferences & {}
  /** Preferences accessible in the `engine-host` command */
  export type EngineHost = ExtensionPreferences & {}
}

declare namespace Arguments {
  /** Arguments passed to the `transcribe-selected-files` command */
  export type TranscribeSelectedFiles = {}
  /** Arguments passed to the `transcribe-file` command */
  export type TranscribeFile = {}
  /** Arguments passed to the `transcription-history` command */
  export type TranscriptionHistory = {}
  /** Arguments passed to the `manage-models` command */
  export type ManageModels = {}
  /** Arguments passed to the `running-jobs` command */
  export type RunningJobs = {}
  /** Arguments passed to the `engine-host` command */
  export type EngineHost = {}
}

