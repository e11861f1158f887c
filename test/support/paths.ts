/** Where the shared fixtures live: ../shared beside the checkout (or WHISPER_FLEET_SHARED). */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const repoRoot = resolve(__dirname, "..", "..");
export const sharedDir = process.env.WHISPER_FLEET_SHARED ?? resolve(repoRoot, "..", "shared");
export const modelsDir = join(repoRoot, ".models");
export const speech = (...parts: string[]) => join(sharedDir, "speech", ...parts);
export const model = (name: "tiny.en" | "base.en" | "tiny-ko" | "base-ko") => join(modelsDir, `synthetic-${name}.bin`);
export const jfkWav = speech("jfk", "jfk.wav");
export const jfkMp3 = speech("jfk", "jfk.mp3");
export const lj001 = speech("ljspeech", "longform", "LJ001_16k.flac");
export const koWav = speech("picovoice", "test_ko.wav");

export function requireShared(): void {
  if (!existsSync(join(sharedDir, "models"))) throw new Error(`The shared fixtures are missing: expected ${sharedDir} (set WHISPER_FLEET_SHARED).`);
}
