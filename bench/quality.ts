/**
 * npm run bench:quality [-- --minutes N] [--file F --reference R] [--quick]
 * npm run bench:quality -- --pauses     silence skipping on a recording with real pauses
 * npm run bench:quality -- --only TEXT  only the settings whose label contains TEXT
 *
 * What chunking costs in words, measured with a real recognizer (PocketSphinx behind the OpenAI
 * API, test/support/sphinxServer.ts): the same audio recognized whole and through Whisper Fleet's
 * pipeline over chunk length × overlap × cut placement (fixed vs at a quiet point), then silence
 * skipping and engines that give no word times. Prints one row per setting: WER and its parts, the
 * errors within 3 s of a cut (per cut, and the whole-file run's at the same places) vs elsewhere
 * (per minute), word runs doubled across cuts,
 * requests and seconds of audio sent. Needs Debian's pocketsphinx + pocketsphinx-en-us.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { resolveFfmpeg } from "../src/core/media/ffmpeg";
import { lj001, speech } from "../test/support/paths";
import { referenceWords, score, transcribeThroughFleet, type QualityRun } from "../test/support/quality";
import { SPHINX_PACKAGES, sphinxAvailable, startSphinxServer, type SphinxServer } from "../test/support/sphinxServer";
import { normalizeText } from "../test/support/wer";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Setting {
  label: string;
  env: Record<string, string>;
  wordTimes?: boolean;
}

function settings(quick: boolean): Setting[] {
  const out: Setting[] = [];
  const lengths = quick ? [30, 120] : [20, 30, 60, 120, 300];
  for (const chunk of lengths)
    for (const overlap of [0, 2, 5, 10]) {
      if (overlap > chunk / 4) continue;
      for (const cut of ["fixed", "quiet"] as const)
        out.push({
          label: `${chunk}s ov ${overlap}s ${cut}`,
          env: { CHUNK_SECONDS: String(chunk), CHUNK_OVERLAP: String(overlap), ...(cut === "fixed" ? { WHISPER_FLEET_CUT_SEARCH: "0" } : {}) },
        });
    }
  // The quiet-point search window, at the default overlap.
  for (const chunk of lengths)
    for (const search of [2, 5])
      out.push({
        label: `${chunk}s ov 5s quiet±${search}s`,
        env: { CHUNK_SECONDS: String(chunk), CHUNK_OVERLAP: "5", WHISPER_FLEET_CUT_SEARCH: String(search) },
      });
  // Silence skipping at the cloud defaults (600-second chunks, 5 s overlap); LJ001 itself has few
  // pauses over 0.5 s: --pauses measures it on a recording that has them.
  for (const skip of [0.5, 1, 2]) out.push({ label: `default, skip silence ≥${skip}s`, env: { WHISPER_FLEET_SKIP_SILENCE: String(skip) } });
  // Engines without word times: segments only (word times off in the server), then text only.
  out.push({ label: "30s ov 5s quiet, segment times only", env: { CHUNK_SECONDS: "30", CHUNK_OVERLAP: "5" }, wordTimes: false });
  out.push({ label: "120s ov 5s quiet, segment times only", env: { CHUNK_SECONDS: "120", CHUNK_OVERLAP: "5" }, wordTimes: false });
  // Text-only models are planned without overlap (nothing to align it by), whatever CHUNK_OVERLAP says.
  for (const chunk of [30, 120])
    out.push({ label: `${chunk}s quiet, text only (gpt-4o)`, env: { CHUNK_SECONDS: String(chunk), WHISPER_FLEET_CLOUD_MODEL: "gpt-4o-transcribe" } });
  return out;
}

/**
 * A recording with pauses, as meetings and lectures have them: the LJ Speech clips in order with
 * 0.3–4 s of silence between them (fixed pseudo-random lengths), and their reference text.
 */
function pausedRecording(ffmpeg: string, dir: string): { file: string; reference: string[] } {
  const clips = speech("ljspeech", "clips");
  const rows = readFileSync(join(clips, "references.tsv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split("\t"));
  let x = 7;
  const gap = () => 0.3 + 3.7 * ((x = (x * 16807) % 2147483647) / 2147483647);
  const parts: Buffer[] = [];
  for (const [id] of rows) {
    parts.push(
      execFileSync(ffmpeg, ["-hide_banner", "-nostdin", "-v", "error", "-i", join(clips, `${id}.flac`), "-ac", "1", "-ar", "16000", "-f", "s16le", "-"]),
    );
    parts.push(Buffer.alloc(2 * Math.round(16000 * gap())));
  }
  const raw = join(dir, "paused.raw");
  writeFileSync(raw, Buffer.concat(parts));
  const file = join(dir, "paused.flac");
  execFileSync(ffmpeg, ["-hide_banner", "-nostdin", "-v", "error", "-f", "s16le", "-ar", "16000", "-ac", "1", "-i", raw, "-y", file]);
  return { file, reference: normalizeText(rows.map((r) => r[3]).join(" ")) };
}

async function pausesTable(ffmpeg: string): Promise<void> {
  const { file, reference } = pausedRecording(ffmpeg, mkdtempSync(join(tmpdir(), "wf-bench-pauses-")));
  const wholeServer = await startSphinxServer({ ffmpeg, processesPerRequest: 2 });
  const pair = [await startSphinxServer({ ffmpeg }), await startSphinxServer({ ffmpeg })];
  try {
    const whole = await transcribeThroughFleet(file, [wholeServer], { CHUNK_SECONDS: "7200", CHUNK_OVERLAP: "0" });
    const base = score(reference, whole, []);
    console.log(
      `paused recording (LJ001 clips, 0.3-4 s pauses): ${reference.length} reference words, ${(whole.transcript.source.duration / 60).toFixed(1)} min`,
    );
    console.log("setting | reqs | sent s | WER % | ΔWER | S | D | I");
    console.log(
      `whole file | 1 | ${whole.sentSeconds.toFixed(0)} | ${base.wer.toFixed(2)} | 0 | ${base.substitutions} | ${base.deletions} | ${base.insertions}`,
    );
    for (const [label, env] of [
      ["30s chunks", { CHUNK_SECONDS: "30" }],
      ["30s chunks, skip silence ≥0.5s", { CHUNK_SECONDS: "30", WHISPER_FLEET_SKIP_SILENCE: "0.5" }],
      ["30s chunks, skip silence ≥1s", { CHUNK_SECONDS: "30", WHISPER_FLEET_SKIP_SILENCE: "1" }],
      ["30s chunks, skip silence ≥2s", { CHUNK_SECONDS: "30", WHISPER_FLEET_SKIP_SILENCE: "2" }],
      ["default (600s), skip silence ≥1s", { WHISPER_FLEET_SKIP_SILENCE: "1" }],
    ] as const) {
      const run = await transcribeThroughFleet(file, pair, env);
      const r = score(reference, run);
      const d = r.wer - base.wer;
      console.log(
        `${label} | ${run.chunks} | ${run.sentSeconds.toFixed(0)} | ${r.wer.toFixed(2)} | ${d >= 0 ? "+" : ""}${d.toFixed(2)} | ${r.substitutions} | ${r.deletions} | ${r.insertions}`,
      );
    }
  } finally {
    await Promise.all([wholeServer, ...pair].map((s) => s.stop()));
  }
}

async function main(): Promise<void> {
  if (!sphinxAvailable()) {
    console.error(`bench:quality needs PocketSphinx: apt-get install ${SPHINX_PACKAGES}`);
    process.exit(2);
  }
  const ffmpeg = resolveFfmpeg().path;
  if (process.argv.includes("--pauses")) return pausesTable(ffmpeg);
  const minutes = arg("minutes") ? Number(arg("minutes")) : undefined;
  let file = arg("file") ?? lj001;
  const referencePath = arg("reference") ?? speech("ljspeech", "longform", "LJ001_reference.txt");
  let reference = referenceWords(referencePath);
  if (minutes) {
    // An excerpt: the reference is cut where the whole-file recognition of the excerpt ends.
    const dir = mkdtempSync(join(tmpdir(), "wf-bench-quality-"));
    const excerpt = join(dir, "excerpt.flac");
    execFileSync(ffmpeg, ["-hide_banner", "-nostdin", "-v", "error", "-i", file, "-t", String(minutes * 60), "-y", excerpt]);
    file = excerpt;
  }
  const wholeServer = await startSphinxServer({ ffmpeg, processesPerRequest: 2 });
  const pair = [await startSphinxServer({ ffmpeg }), await startSphinxServer({ ffmpeg })];
  const segmentPair = [await startSphinxServer({ ffmpeg, wordTimes: false }), await startSphinxServer({ ffmpeg, wordTimes: false })];
  const all: SphinxServer[] = [wholeServer, ...pair, ...segmentPair];
  try {
    const whole = await transcribeThroughFleet(file, [wholeServer], { CHUNK_SECONDS: "7200", CHUNK_OVERLAP: "0" });
    if (minutes) reference = trimReference(reference, whole);
    const base = score(reference, whole, []);
    console.log(
      `file ${arg("file") ?? "LJ001"}${minutes ? ` (first ${minutes} min)` : ""}: ${reference.length} reference words, ${(whole.transcript.source.duration / 60).toFixed(1)} min`,
    );
    console.log(`machine: ${process.arch}, ${(await import("node:os")).cpus().length} cores, ${new Date().toISOString().slice(0, 10)}`);
    const only = arg("only");
    const header = ["setting", "reqs", "sent s", "WER %", "ΔWER", "S", "D", "I", "err/cut ±3s", "base/cut", "err/min else", "doubled at cut"];
    console.log(header.join(" | "));
    console.log(
      `whole file | 1 | ${whole.sentSeconds.toFixed(0)} | ${base.wer.toFixed(2)} | 0 | ${base.substitutions} | ${base.deletions} | ${base.insertions} | - | - | - | -`,
    );
    for (const s of settings(process.argv.includes("--quick")).filter((x) => !only || x.label.includes(only))) {
      let run: QualityRun;
      try {
        run = await transcribeThroughFleet(file, s.wordTimes === false ? segmentPair : pair, s.env);
      } catch (error) {
        console.log(`${s.label} | failed: ${(error as Error).message}`);
        continue;
      }
      const r = score(reference, run);
      const b = score(reference, whole, run.cuts);
      const cuts = Math.max(1, run.cuts.length);
      const elseMinutes = Math.max(1e-9, (run.transcript.source.duration - run.cuts.length * 6) / 60);
      console.log(
        [
          s.label,
          run.chunks,
          run.sentSeconds.toFixed(0),
          r.wer.toFixed(2),
          (r.wer - base.wer >= 0 ? "+" : "") + (r.wer - base.wer).toFixed(2),
          r.substitutions,
          r.deletions,
          r.insertions,
          (r.nearCuts / cuts).toFixed(2),
          (b.nearCuts / cuts).toFixed(2),
          (r.elsewhere / elseMinutes).toFixed(2),
          r.repeatsAtCuts,
        ].join(" | "),
      );
    }
  } finally {
    await Promise.all(all.map((s) => s.stop()));
  }
}

/**
 * The reference words an excerpt covers: the prefix of the reference that the whole-excerpt
 * recognition aligns to at the lowest cost (one edit-distance table gives every prefix's cost).
 */
function trimReference(reference: string[], whole: QualityRun): string[] {
  const hyp = whole.words.map((w) => w.text);
  // row[j]: cost of reference[0:i] against hyp[0:j]; the last column, per i, is the prefix's cost.
  let row = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  let best = 0;
  let bestCost = row[hyp.length];
  for (let i = 1; i <= reference.length; i++) {
    const next = [i];
    for (let j = 1; j <= hyp.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (reference[i - 1] === hyp[j - 1] ? 0 : 1));
    row = next;
    if (row[hyp.length] < bestCost) {
      bestCost = row[hyp.length];
      best = i;
    }
  }
  return reference.slice(0, best);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
