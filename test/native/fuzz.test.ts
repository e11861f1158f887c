/**
 * Fuzzing the two doors untrusted bytes come in by: model files and media files. Every mutation
 * (deterministic seeds) ends in a transcript or a coded error within 10 s; the process survives
 * (a whisper.cpp abort would take the test runner down with it) and no temporary file is left.
 */
import { closeSync, copyFileSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { loadConfig } from "../../src/core/config";
import { LocalWhisperEngine } from "../../src/core/engines/LocalWhisperEngine";
import { ERROR_CODES, FleetError } from "../../src/core/errors";
import { FleetSession } from "../../src/core/FleetSession";
import { checkModelFile, expectedTensorCount } from "../../src/core/models/modelFile";
import { jfkMp3, jfkWav, model } from "../support/paths";

const dir = mkdtempSync(join(tmpdir(), "wf-fuzz-"));
const source = model("tiny.en");
const size = statSync(source).size;

/** A small deterministic generator (Park–Miller), so every run mutates the same bytes. */
function rng(seed: number) {
  let x = seed % 2147483647 || 1;
  return () => (x = (x * 16807) % 2147483647) / 2147483647;
}

/** What `work` throws (undefined when it returns). */
function thrownBy(work: () => unknown): unknown {
  try {
    work();
    return undefined;
  } catch (error) {
    return error;
  }
}

async function within<T>(ms: number, work: Promise<T>, what = ""): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms${what ? ` for ${what}` : ""}`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function expectCoded(error: unknown, codes?: string[]) {
  expect(error).toBeInstanceOf(FleetError);
  const code = (error as FleetError).code;
  expect(ERROR_CODES).toContain(code);
  if (codes) expect(codes).toContain(code);
}

/** Where the header, the vocabulary and the tensor table lie in the real file. */
function layout() {
  const b = readFileSync(source).subarray(0, 2 << 20);
  let at = 48;
  const nMel = b.readInt32LE(at);
  const nFft = b.readInt32LE(at + 4);
  at += 8 + 4 * nMel * nFft;
  const vocabAt = at;
  const nVocab = b.readInt32LE(at);
  at += 4;
  for (let i = 0; i < nVocab; i++) at += 4 + b.readInt32LE(at);
  return { filtersAt: 48, vocabAt, tensorsAt: at };
}

describe("model files: truncated, flipped, absurd", () => {
  const { vocabAt, tensorsAt } = layout();
  const engines: LocalWhisperEngine[] = [];
  afterAll(async () => {
    for (const e of engines) await e.dispose();
  });

  it("the checker accepts the real model and knows its tensor table", async () => {
    const check = checkModelFile(source);
    expect(check.tensors).toBe(expectedTensorCount(check.header));
    expect(check.tensors).toBe(167);
  });

  it("refuses 70 truncations (header, filters, vocabulary, tensor table, weights) with MODEL_INVALID, naming where it ends", () => {
    const offsets = [0, 3, 4, 10, 47, 48, 52, 100, 1000, 5000, 50_000, vocabAt - 1, vocabAt + 2, 500_000];
    const r = rng(7);
    while (offsets.length < 60) offsets.push(Math.floor(vocabAt + r() * (tensorsAt + 4000 - vocabAt)));
    for (const mb of [5, 10, 20, 40, 60, 70, 75]) offsets.push(mb * 1e6);
    offsets.push(size - 100, size - 1, tensorsAt, tensorsAt + 12);
    const bytes = readFileSync(source);
    let named = 0;
    for (const [i, n] of offsets.entries()) {
      const path = join(dir, `trunc-${i}.bin`);
      writeFileSync(path, bytes.subarray(0, n));
      const error = thrownBy(() => checkModelFile(path));
      expectCoded(error, ["MODEL_INVALID"]);
      if (/ends at byte [\d,]+ but the file has [\d,]+ bytes/.test((error as Error).message)) named++;
    }
    expect(offsets.length).toBeGreaterThanOrEqual(70);
    expect(named).toBeGreaterThan(offsets.length / 2);
  });

  it("refuses absurd hyperparameters and tensor headers", () => {
    const path = join(dir, "absurd.bin");
    copyFileSync(source, path);
    const patch = (at: number, value: number) => {
      const fd = openSync(path, "r+");
      const b = Buffer.alloc(4);
      b.writeInt32LE(value);
      writeSync(fd, b, 0, 4, at);
      closeSync(fd);
    };
    const original = readFileSync(source);
    const cases: [number, number][] = [
      [4, 0], // n_vocab
      [4, 1 << 30],
      [12, 100_000], // n_audio_state
      [16, 7], // n_audio_head that does not divide the width
      [20, 1000], // n_audio_layer
      [44, 77], // ftype
      [48, -1], // mel filter count
      [vocabAt, 1 << 30], // vocabulary size
      [vocabAt + 4, 1 << 20], // first token's length
      [tensorsAt, 9], // first tensor's dimension count
      [tensorsAt + 4, 100_000], // first tensor's name length
      [tensorsAt + 8, 99], // first tensor's type
    ];
    for (const [at, value] of cases) {
      patch(at, value);
      const error = thrownBy(() => checkModelFile(path));
      expectCoded(error, ["MODEL_INVALID"]);
      patch(at, original.readInt32LE(at));
    }
    expect(checkModelFile(path).tensors).toBe(167);
  });

  it("20 files with random bytes overwritten (2,000 at a time, as a bad disk would): loaded and run, or refused — never a crash or a hang", async () => {
    const path = join(dir, "flipped.bin");
    copyFileSync(source, path);
    const original = readFileSync(source);
    const outcomes: string[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed * 7919);
      // Half the seeds hit anywhere in the file, half the header, vocabulary and tensor table.
      const span = seed % 2 ? size : tensorsAt + 200_000;
      const spots = Array.from({ length: seed % 2 ? 2000 : 40 }, () => Math.floor(r() * span));
      const fd = openSync(path, "r+");
      for (const at of spots) writeSync(fd, Buffer.from([Math.floor(r() * 256)]), 0, 1, at);
      closeSync(fd);
      const outcome = await within(
        10_000,
        (async () => {
          const engine = await LocalWhisperEngine.load({ modelPath: path, workers: 1, loadTimeoutMs: 8000 });
          engines.push(engine);
          const pcm = new Float32Array(16000 * 3);
          await engine.transcribe([{ index: 0, offsetMs: 0, pcm }], { language: "en", maxTokensPerSegment: 8 }, { threads: 2 });
          await engine.dispose();
          return "ran";
        })(),
      ).catch((e: unknown) => {
        expectCoded(e);
        return (e as FleetError).code;
      });
      outcomes.push(outcome);
      const restore = openSync(path, "r+");
      for (const at of spots) writeSync(restore, original, at, 1, at);
      closeSync(restore);
    }
    expect(outcomes).toHaveLength(20);
    expect(outcomes.filter((o) => o === "MODEL_INVALID").length).toBeGreaterThan(0);
  });

  it("a file cut inside the vocabulary no longer loads as an 'empty model' that transcribes nothing", async () => {
    const path = join(dir, "half-vocab.bin");
    writeFileSync(path, readFileSync(source).subarray(0, 500_000));
    await expect(LocalWhisperEngine.load({ modelPath: path })).rejects.toMatchObject({ code: "MODEL_INVALID" });
  });
});

describe("media files: truncated, flipped, wrong container", () => {
  const temp = mkdtempSync(join(tmpdir(), "wf-fuzz-media-"));
  const session = new FleetSession(
    loadConfig({
      WHISPER_FLEET_MODEL: model("tiny.en"),
      WHISPER_FLEET_ENGINE: "local",
      WHISPER_FLEET_CACHE: "false",
      WHISPER_FLEET_TMPDIR: temp,
      WHISPER_FLEET_STATS: join(temp, "stats.json"),
    }),
  );
  afterAll(async () => {
    await session.dispose();
  });

  it("30 mutated media files: each a transcript or a coded error within 10 s, nothing left in the temp folder", async () => {
    const wav = readFileSync(jfkWav);
    const mp3 = readFileSync(jfkMp3);
    const files: [string, Buffer][] = [];
    for (const [k, frac] of [0.001, 0.01, 0.05, 0.3, 0.7].entries()) {
      files.push([`cut-${k}.wav`, wav.subarray(0, Math.floor(wav.length * frac))]);
      files.push([`cut-${k}.mp3`, mp3.subarray(0, Math.floor(mp3.length * frac))]);
    }
    for (let seed = 1; seed <= 10; seed++) {
      const r = rng(seed * 104729);
      const base = Buffer.from(seed % 2 ? wav : mp3);
      for (let i = 0; i < 50; i++) base[Math.floor(r() * Math.min(base.length, 4096))] = Math.floor(r() * 256);
      files.push([`flip-${seed}.${seed % 2 ? "wav" : "mp3"}`, base]);
    }
    files.push(["wav-as.mp3", wav], ["mp3-as.wav", mp3], ["text.m4a", Buffer.from("not audio at all\n".repeat(100))]);
    files.push(["zeros.wav", Buffer.alloc(4096)], ["random.mp4", Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 256))]);
    files.push(["empty.flac", Buffer.alloc(0)], ["header-only.wav", wav.subarray(0, 44)], ["tiny.ogg", Buffer.from("OggS")]);
    files.push(["mp3-tail.mp3", mp3.subarray(Math.floor(mp3.length / 2))], ["wav-middle.wav", wav.subarray(1000, 60_000)]);
    expect(files.length).toBeGreaterThanOrEqual(30);
    const outcomes: string[] = [];
    for (const [name, bytes] of files) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const outcome = await within(
        10_000,
        session.transcribeFile(path).then(() => "ok"),
        name,
      ).catch((e: unknown) => {
        expectCoded(e);
        return (e as FleetError).code;
      });
      outcomes.push(`${name}:${outcome}`);
      expect(readdirSync(temp).filter((n) => n.startsWith("whisper-fleet-"))).toEqual([]);
    }
    // Some survive (a flipped byte in the audio is still audio), some are refused; all were answered.
    expect(outcomes.some((o) => o.endsWith(":ok"))).toBe(true);
    expect(outcomes.some((o) => !o.endsWith(":ok"))).toBe(true);
  });
});
