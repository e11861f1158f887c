/** Test audio: decoded with the same ffmpeg the product resolves, cached under .cache/. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { basename, join } from "node:path";

import { resolveFfmpeg } from "../../src/core/media/ffmpeg";
import { repoRoot } from "./paths";

export const cacheDir = join(repoRoot, ".cache", "test-audio");
export const ffmpeg = () => resolveFfmpeg().path;

/** Decodes `input` (first `seconds` if given) to raw 16 kHz mono float32; returns the file path. */
export function rawPcmFile(input: string, seconds?: number): string {
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, `${basename(input)}${seconds ? `.${seconds}s` : ""}.f32`);
  if (!existsSync(out)) {
    const args = [
      "-hide_banner",
      "-nostdin",
      "-v",
      "error",
      "-i",
      input,
      ...(seconds ? ["-t", String(seconds)] : []),
      "-ac",
      "1",
      "-ar",
      "16000",
      "-f",
      "f32le",
      "-y",
      `${out}.tmp`,
    ];
    execFileSync(ffmpeg(), args);
    renameSync(`${out}.tmp`, out);
  }
  return out;
}

export function pcm(input: string, seconds?: number): Float32Array {
  const buf = readFileSync(rawPcmFile(input, seconds));
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
}

/** Generates a media file with ffmpeg (lavfi or from another file) into the cache. */
export function makeMedia(name: string, args: string[]): string {
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, name);
  if (!existsSync(out)) {
    execFileSync(ffmpeg(), ["-hide_banner", "-nostdin", "-v", "error", ...args, "-y", `${out}.tmp${name.slice(name.lastIndexOf("."))}`]);
    renameSync(`${out}.tmp${name.slice(name.lastIndexOf("."))}`, out);
  }
  return out;
}
