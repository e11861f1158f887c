/**
 * Real media through real ffmpeg and the real addon: every kind of input gets a transcript or its
 * coded error, and no temporary file is left behind.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { loadConfig } from "../../src/core/config";
import { FleetSession } from "../../src/core/FleetSession";
import { decodeMedia } from "../../src/core/media/decode";
import { resolveFfmpeg } from "../../src/core/media/ffmpeg";
import { planChunks } from "../../src/core/planning/chunkPlan";
import { cacheDir, makeMedia } from "../support/audio";
import { jfkMp3, jfkWav, koWav, lj001, model } from "../support/paths";

const tempRoot = mkdtempSync(join(tmpdir(), "wf-media-"));
const leftovers = () => readdirSync(tempRoot).filter((n) => n.startsWith("whisper-fleet-"));

function session(modelName: Parameters<typeof model>[0] = "tiny.en", extra: Record<string, string> = {}) {
  return new FleetSession(
    loadConfig({
      WHISPER_FLEET_MODEL: model(modelName),
      WHISPER_FLEET_CACHE: "false",
      WHISPER_FLEET_TMPDIR: tempRoot,
      WHISPER_FLEET_STATS: join(tempRoot, "stats.json"),
      WHISPER_FLEET_ENGINE: "local",
      ...extra,
    }),
  );
}

describe("ffmpeg resolution", () => {
  it("follows explicit → FFMPEG_PATH → Homebrew/system → PATH → bundled, and reports the source", () => {
    const exec = (set: string[]) => (p: string) => set.includes(p);
    const bundled = () => "/pkg/ffmpeg";
    expect(resolveFfmpeg({ explicitPath: "/x/ffmpeg", env: {}, isExecutable: exec(["/x/ffmpeg"]), bundledPath: bundled })).toEqual({
      path: "/x/ffmpeg",
      source: "explicit",
    });
    expect(
      resolveFfmpeg({ env: { FFMPEG_PATH: "/e/ffmpeg" }, isExecutable: exec(["/e/ffmpeg", "/opt/homebrew/bin/ffmpeg"]), bundledPath: bundled }).source,
    ).toBe("env");
    expect(resolveFfmpeg({ env: {}, isExecutable: exec(["/opt/homebrew/bin/ffmpeg", "/usr/local/bin/ffmpeg"]), bundledPath: bundled }).source).toBe("homebrew");
    expect(resolveFfmpeg({ env: {}, isExecutable: exec(["/usr/local/bin/ffmpeg"]), bundledPath: bundled }).source).toBe("system");
    expect(resolveFfmpeg({ env: { PATH: "/a:/b" }, isExecutable: exec(["/b/ffmpeg"]), bundledPath: bundled })).toEqual({ path: "/b/ffmpeg", source: "path" });
    expect(resolveFfmpeg({ env: {}, isExecutable: exec(["/pkg/ffmpeg"]), bundledPath: bundled }).source).toBe("bundled");
    expect(() => resolveFfmpeg({ env: {}, isExecutable: () => false, bundledPath: () => undefined })).toThrow(
      expect.objectContaining({ code: "FFMPEG_NOT_FOUND" }),
    );
    expect(() => resolveFfmpeg({ explicitPath: "/nope", env: {}, isExecutable: () => false, bundledPath: bundled })).toThrow(/not an executable/);
  });

  it("finds a working ffmpeg on a fresh machine (the bundled one here)", () => {
    const found = resolveFfmpeg();
    expect(spawnSync(found.path, ["-version"], { encoding: "utf8" }).stdout).toMatch(/^ffmpeg version/);
  });
});

describe("decoding", () => {
  it("streams an hour-scale file to raw PCM with an energy map, bounded heap, progress, and cleanup", async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const progress: number[] = [];
    const media = await decodeMedia(lj001, { ffmpeg: resolveFfmpeg().path, tempDir: tempRoot, onProgress: (d) => progress.push(d) });
    try {
      expect(media.duration).toBeGreaterThan(1190);
      expect(media.duration).toBeLessThan(1200);
      expect(media.samples).toBe(Math.round(media.duration * 16000));
      expect(media.energy.rms.length).toBe(Math.ceil(media.samples / 320));
      expect(progress.length).toBeGreaterThan(1);
      for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);
      expect(progress.at(-1)).toBeCloseTo(media.duration, 3);
      // 20 minutes of float PCM is 77 MB; the decoder must not have held it in the JS heap.
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(40e6);
      // The plan covers every second of the real file exactly once.
      const plan = planChunks(media.duration, media.energy, { chunkSeconds: 300, overlapSeconds: 5 });
      let at = 0;
      for (const c of plan.chunks) {
        expect(c.ownStart).toBeCloseTo(at, 9);
        at = c.ownEnd;
      }
      expect(at).toBeCloseTo(media.duration, 9);
    } finally {
      await media.dispose();
    }
    expect(leftovers()).toEqual([]);
  });

  it("cancels decoding and removes its temporary files", async () => {
    const controller = new AbortController();
    const decoding = decodeMedia(lj001, { ffmpeg: resolveFfmpeg().path, tempDir: tempRoot, signal: controller.signal });
    setTimeout(() => controller.abort(), 150);
    await expect(decoding).rejects.toMatchObject({ code: "ABORTED" });
    expect(leftovers()).toEqual([]);
  });

  describe("a WAV of 16 kHz mono PCM, read without ffmpeg", () => {
    // Twins of one recording: what ffmpeg decodes them to is what the WAV reader must give.
    const clip = () => makeMedia("lj001-45s.flac", ["-i", lj001, "-t", "45"]);
    // ffmpeg writes mono 16-bit as plain PCM; this header names the format in a sub-format GUID.
    const extensibleWav = () => {
      const plain = readFileSync(makeMedia("lj001-45s-s16.wav", ["-i", clip(), "-c:a", "pcm_s16le"]));
      const samples = plain.subarray(plain.indexOf("data") + 8);
      const fmt = Buffer.alloc(48);
      fmt.write("fmt ", 0, "latin1");
      fmt.writeUInt32LE(40, 4);
      fmt.writeUInt16LE(0xfffe, 8); // WAVE_FORMAT_EXTENSIBLE
      fmt.writeUInt16LE(1, 10); // mono
      fmt.writeUInt32LE(16000, 12);
      fmt.writeUInt32LE(32000, 16); // bytes per second
      fmt.writeUInt16LE(2, 20); // block align
      fmt.writeUInt16LE(16, 22); // bits
      fmt.writeUInt16LE(22, 24); // extension size
      fmt.writeUInt16LE(16, 26); // valid bits
      fmt.writeUInt32LE(4, 28); // front centre
      Buffer.from("0100000000001000800000aa00389b71", "hex").copy(fmt, 32); // KSDATAFORMAT_SUBTYPE_PCM
      const data = Buffer.alloc(8);
      data.write("data", 0, "latin1");
      data.writeUInt32LE(samples.length, 4);
      const head = Buffer.alloc(12);
      head.write("RIFF", 0, "latin1");
      head.writeUInt32LE(4 + fmt.length + data.length + samples.length, 4);
      head.write("WAVE", 8, "latin1");
      const path = join(tempRoot, "extensible.wav");
      writeFileSync(path, Buffer.concat([head, fmt, data, samples]));
      return path;
    };
    const decodeBoth = async (wav: string, ffmpegInput: string) => {
      // No ffmpeg at all: the WAV path must not need one.
      const fast = await decodeMedia(wav, { ffmpeg: join(tempRoot, "no-ffmpeg-here"), tempDir: tempRoot });
      const slow = await decodeMedia(ffmpegInput, { ffmpeg: resolveFfmpeg().path, tempDir: tempRoot });
      return { fast, slow, dispose: () => Promise.all([fast.dispose(), slow.dispose()]) };
    };

    it.each([
      ["16-bit", "lj001-45s-s16.wav", ["-c:a", "pcm_s16le"]],
      ["float", "lj001-45s-f32.wav", ["-c:a", "pcm_f32le"]],
      ["16-bit with a LIST chunk before the samples", "lj001-45s-tagged.wav", ["-c:a", "pcm_s16le", "-metadata", "title=A lecture"]],
      ["16-bit with a broadcast (bext) chunk", "lj001-45s-bext.wav", ["-c:a", "pcm_s16le", "-write_bext", "1"]],
      ["16-bit as WAVE_FORMAT_EXTENSIBLE", "", []],
    ])("%s: the same samples and energy map as ffmpeg's decode", async (_kind, name, args) => {
      const wav = name ? makeMedia(name as string, ["-i", clip(), ...(args as string[])]) : extensibleWav();
      const { fast, slow, dispose } = await decodeBoth(wav, clip());
      try {
        expect(fast.samples).toBe(slow.samples);
        expect(readFileSync(fast.path).equals(readFileSync(slow.path))).toBe(true);
        expect(Buffer.from(fast.energy.rms.buffer).equals(Buffer.from(slow.energy.rms.buffer))).toBe(true);
        expect(fast.probe).toMatchObject({ format: "wav", duration: 45, audio: { sampleRate: 16000, channels: "mono" } });
        expect(fast.warnings).toEqual([]);
      } finally {
        await dispose();
      }
    });

    it("a cut-off WAV gives what it holds and says how much of its header's length that is", async () => {
      const whole = readFileSync(makeMedia("lj001-45s-s16.wav", ["-i", clip(), "-c:a", "pcm_s16le"]));
      const cut = join(tempRoot, "cut.wav");
      writeFileSync(cut, whole.subarray(0, whole.indexOf("data") + 8 + 16000 * 2 * 20 + 1)); // 20 s and half a sample
      const media = await decodeMedia(cut, { ffmpeg: join(tempRoot, "no-ffmpeg-here"), tempDir: tempRoot });
      try {
        expect(media.samples).toBe(16000 * 20);
        expect(media.warnings).toEqual([`Only 20.0 s of the 45.0 s in ${cut} could be decoded; the rest is missing or damaged.`]);
      } finally {
        await media.dispose();
      }
    });

    it("a WAV whisper cannot hear as it is (48 kHz stereo, 8-bit) goes to ffmpeg", async () => {
      for (const [name, args] of [
        ["lj001-45s-48k.wav", ["-ar", "48000", "-ac", "2"]],
        ["lj001-45s-u8.wav", ["-c:a", "pcm_u8"]],
      ] as const) {
        const wav = makeMedia(name, ["-i", clip(), ...args]);
        await expect(decodeMedia(wav, { ffmpeg: join(tempRoot, "no-ffmpeg-here"), tempDir: tempRoot })).rejects.toMatchObject({ code: "FFMPEG_NOT_FOUND" });
        const media = await decodeMedia(wav, { ffmpeg: resolveFfmpeg().path, tempDir: tempRoot });
        expect(media.duration).toBeCloseTo(45, 2);
        await media.dispose();
      }
      expect(leftovers()).toEqual([]);
    });
  });

  // A real full disk: a 2 MB tmpfs (mounting needs root, as CI runs; elsewhere this is skipped).
  const small = join(tempRoot, "small-disk");
  mkdirSync(small, { recursive: true });
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", small]).status === 0;
  afterAll(() => {
    if (mounted) spawnSync("umount", [small]);
  });
  it.skipIf(!mounted)("a full temporary folder is DISK_FULL naming the folder and the space needed, with the partial file removed", async () => {
    const error = await decodeMedia(lj001, { ffmpeg: resolveFfmpeg().path, tempDir: small }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "DISK_FULL" });
    expect((error as Error).message).toContain(small);
    expect((error as Error).message).toMatch(/needs about 7\d MB/); // 1197 s × 64 kB/s
    expect(readdirSync(small)).toEqual([]);
  });
});

describe("inputs of every kind", () => {
  let s: FleetSession;
  const inputs: Record<string, string> = {};
  beforeAll(async () => {
    mkdirSync(cacheDir, { recursive: true });
    inputs.mp4 = makeMedia("video-with-audio.mp4", [
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=160x120:rate=5",
      "-i",
      jfkWav,
      "-shortest",
      "-c:v",
      "mpeg4",
      "-c:a",
      "aac",
    ]);
    inputs.videoOnly = makeMedia("video-no-audio.mp4", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=5", "-t", "3", "-c:v", "mpeg4"]);
    inputs.m4a = makeMedia("jfk.m4a", ["-i", jfkWav, "-c:a", "aac"]);
    inputs.opus = makeMedia("jfk.opus", ["-i", jfkWav, "-c:a", "libopus"]);
    inputs.stereo48k = makeMedia("jfk-48k-stereo.wav", ["-i", jfkWav, "-ar", "48000", "-ac", "2"]);
    inputs.wav8bit = makeMedia("jfk-u8.wav", ["-i", jfkWav, "-c:a", "pcm_u8"]);
    inputs.silence = makeMedia("silence.wav", ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "20"]);
    const mp3 = readFileSync(jfkMp3);
    writeFileSync((inputs.truncatedMp3 = join(cacheDir, "truncated.mp3")), mp3.subarray(0, Math.floor(mp3.length * 0.4)));
    writeFileSync((inputs.textAsMp3 = join(cacheDir, "notes.mp3")), "These are my notes, not audio.\n".repeat(50));
    writeFileSync((inputs.empty = join(cacheDir, "empty.m4a")), "");
    s = session();
  });
  afterAll(async () => {
    await s?.dispose();
  });

  it.each(["mp4", "m4a", "opus", "stereo48k", "wav8bit", "mp3"])("transcribes %s on the file's timeline", async (kind) => {
    const path = kind === "mp3" ? jfkMp3 : inputs[kind];
    const t = await s.transcribeFile(path);
    expect(t.source.duration).toBeGreaterThan(10.5);
    expect(t.source.duration).toBeLessThan(11.5);
    expect(t.segments.length).toBeGreaterThan(0);
    expect(t.segments[0].start).toBeGreaterThanOrEqual(0);
    expect(t.segments.at(-1)!.end).toBeLessThanOrEqual(t.source.duration + 1e-6);
    expect(t.gaps).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it("transcribes silence without error (the synthetic model still talks: no quality claim)", async () => {
    const t = await s.transcribeFile(inputs.silence);
    expect(t.source.duration).toBeCloseTo(20, 1);
    expect(t.gaps).toEqual([]);
  });

  it("salvages a truncated MP3 and reports how much it decoded", async () => {
    const t = await s.transcribeFile(inputs.truncatedMp3);
    expect(t.source.duration).toBeGreaterThan(3);
    expect(t.source.duration).toBeLessThan(6);
    // The report: how much of what the header promised (11.1 s) was decoded, and ffmpeg's complaint.
    expect(t.warnings?.[0]).toBe(
      `Only ${t.source.duration.toFixed(1)} s of the 11.1 s in ${inputs.truncatedMp3} could be decoded; the rest is missing or damaged.`,
    );
    expect(t.warnings?.[1]).toMatch(/^ffmpeg reported problems while decoding .*truncated\.mp3: /);
    expect(t.metrics!.audioSeconds).toBeCloseTo(t.source.duration, 3);
  });

  it.each([
    ["videoOnly", "NO_AUDIO_STREAM"],
    ["textAsMp3", "NOT_MEDIA"],
    ["empty", "FILE_EMPTY"],
    ["missing", "FILE_NOT_FOUND"],
    ["directory", "FILE_IS_DIRECTORY"],
  ])("%s fails with %s naming the file", async (kind, code) => {
    const path = kind === "missing" ? join(cacheDir, "gone.wav") : kind === "directory" ? cacheDir : inputs[kind];
    const error = await s.transcribeFile(path).catch((e: unknown) => e);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toContain(path);
    expect(leftovers()).toEqual([]);
  });

  it("reports a Korean clip as Korean with the multilingual model", async () => {
    const ko = session("tiny-ko", { WHISPER_FLEET_LANGUAGE: "auto" });
    try {
      const t = await ko.transcribeFile(koWav);
      expect(t.language).toBe("ko");
      expect(t.segments[0].text).toMatch(/[가-힣]/);
    } finally {
      await ko.dispose();
    }
  });
});
