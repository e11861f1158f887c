/**
 * One file through Whisper Fleet's whole pipeline (decode → plan → schedule → stitch) with the cloud
 * engine pointed at PocketSphinx servers, scored against a reference transcript. The CI quality
 * test and `npm run bench:quality` share it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { loadConfig } from "../../src/core/config";
import { FleetSession } from "../../src/core/FleetSession";
import type { Transcript } from "../../src/core/types";
import type { SphinxServer } from "./sphinxServer";
import { errorsNearCuts, normalizeText, normalizeTimed, repeatsNearCuts, wordErrors, type TimedWord, type WerReport } from "./wer";

export interface QualityRun {
  transcript: Transcript;
  words: TimedWord[];
  /** Where the plan cut the file (the middle of each overlap). */
  cuts: number[];
  chunks: number;
  /** Seconds of audio sent, overlap included (skipped silences are not sent). */
  sentSeconds: number;
  wallMs: number;
}

export interface QualityScore extends WerReport {
  nearCuts: number;
  elsewhere: number;
  repeatsAtCuts: number;
}

/** Settings as the CLI and Raycast pass them (CHUNK_SECONDS, CHUNK_OVERLAP, WHISPER_FLEET_CUT_SEARCH...). */
export async function transcribeThroughFleet(file: string, servers: SphinxServer[], settings: Record<string, string>): Promise<QualityRun> {
  const home = mkdtempSync(join(tmpdir(), "wf-quality-"));
  const session = new FleetSession(
    loadConfig({
      WHISPER_FLEET_ENGINE: "cloud",
      WHISPER_FLEET_CLOUD_ENDPOINTS: servers.map((s) => `${s.url}|1`).join(","),
      WHISPER_FLEET_CACHE: "false",
      WHISPER_FLEET_STATS: join(home, "stats.json"),
      WHISPER_FLEET_TMPDIR: home,
      WHISPER_FLEET_RPM: "100000",
      WHISPER_FLEET_TPM: "100000000",
      WORKER_TIMEOUT: "1800",
      ...settings,
    }),
  );
  try {
    const started = Date.now();
    const transcript = await session.transcribeFile(file);
    const chunks = [...(transcript.metrics?.chunks ?? [])].sort((a, b) => a.index - b.index);
    const cuts = chunks.slice(1).map((c, i) => (chunks[i].end + c.start) / 2);
    const words = normalizeTimed(transcript.segments.flatMap((s) => (s.words?.length ? s.words : [{ text: s.text, start: s.start, end: s.end }])));
    return {
      transcript,
      words,
      cuts,
      chunks: chunks.length,
      sentSeconds: chunks.reduce((n, c) => n + (c.end - c.start), 0),
      wallMs: Date.now() - started,
    };
  } finally {
    await session.dispose();
    rmSync(home, { recursive: true, force: true });
  }
}

export function referenceWords(path: string): string[] {
  return normalizeText(readFileSync(path, "utf8"));
}

/** WER of a run, its errors near `cuts` (default: its own) and the word runs repeated at them. */
export function score(reference: string[], run: QualityRun, cuts = run.cuts): QualityScore {
  const report = wordErrors(reference, run.words);
  return { ...report, ...errorsNearCuts(report, cuts), repeatsAtCuts: repeatsNearCuts(run.words, cuts) };
}
