/**
 * Which ffmpeg to run: an explicit path (preference, CLI flag), then FFMPEG_PATH, then a user's
 * Homebrew or system ffmpeg, then anything on PATH, then the binary shipped inside the
 * @ffmpeg-installer npm package (the CLI's node_modules), then the same package fetched on first
 * use into the data folder (core/runtime: Raycast builds carry no node_modules). Raycast strips
 * PATH, which is why the Homebrew folders are probed by name.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";

import { abortError, FleetError } from "../errors";
import { moduleDir } from "../paths";
import { installedComponent } from "../runtime/components";

export type FfmpegSource = "explicit" | "env" | "homebrew" | "system" | "path" | "bundled" | "downloaded";

export interface FfmpegInfo {
  path: string;
  source: FfmpegSource;
}

export interface ResolveFfmpegOptions {
  explicitPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Injected for tests. */
  isExecutable?: (path: string) => boolean;
  bundledPath?: () => string | undefined;
  downloadedPath?: () => string | undefined;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function bundledFfmpegPath(): string | undefined {
  try {
    const require = createRequire(join(moduleDir(), "resolver.js"));
    const installer = require("@ffmpeg-installer/ffmpeg") as { path?: string };
    return installer.path && existsSync(installer.path) ? installer.path : undefined;
  } catch {
    return undefined;
  }
}

export function resolveFfmpeg(options: ResolveFfmpegOptions = {}): FfmpegInfo {
  const env = options.env ?? process.env;
  const isExec = options.isExecutable ?? executable;
  const tried: string[] = [];
  const attempt = (path: string | undefined, source: FfmpegSource): FfmpegInfo | undefined => {
    if (!path) return undefined;
    tried.push(`${path} (${source})`);
    return isExec(path) ? { path, source } : undefined;
  };
  if (options.explicitPath) {
    const found = attempt(options.explicitPath, "explicit");
    if (found) return found;
    throw new FleetError("FFMPEG_NOT_FOUND", `The ffmpeg path ${options.explicitPath} set in preferences or --ffmpeg is not an executable file.`, {
      hint: "Fix the path (e.g. /opt/homebrew/bin/ffmpeg) or clear it to use the built-in ffmpeg.",
    });
  }
  const fromEnv = attempt(env.FFMPEG_PATH, "env");
  if (fromEnv) return fromEnv;
  for (const dir of ["/opt/homebrew/bin", "/usr/local/bin"]) {
    const found = attempt(join(dir, "ffmpeg"), dir === "/opt/homebrew/bin" ? "homebrew" : "system");
    if (found) return found;
  }
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const found = attempt(join(dir, "ffmpeg"), "path");
    if (found) return found;
  }
  const bundled = attempt((options.bundledPath ?? bundledFfmpegPath)(), "bundled");
  if (bundled) return bundled;
  const downloaded = attempt((options.downloadedPath ?? (() => installedComponent("ffmpeg")))(), "downloaded");
  if (downloaded) return downloaded;
  throw new FleetError("FFMPEG_NOT_FOUND", "No ffmpeg was found.", {
    hint: `Install ffmpeg (\`brew install ffmpeg\`) or set its path in preferences / FFMPEG_PATH. Tried: ${tried.join(", ") || "nothing"}.`,
  });
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs ffmpeg to completion with bounded output capture; kills it when `signal` aborts. */
export function runFfmpeg(ffmpeg: string, args: string[], signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ["ignore", "pipe", "pipe"], signal });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      if (outBytes < 64 * 1024 * 1024) out.push(d);
      outBytes += d.length;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString("utf8")).slice(-64 * 1024);
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.name === "AbortError") reject(abortError(error));
      else reject(new FleetError("FFMPEG_NOT_FOUND", `ffmpeg at ${ffmpeg} could not be started: ${error.message}`, { cause: error }));
    });
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

/** The last few meaningful lines of ffmpeg's stderr, for error messages. */
export function stderrTail(stderr: string, lines = 4): string {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(" | ");
}
