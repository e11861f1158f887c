/**
 * Decodes the first audio stream of any file ffmpeg reads to 16 kHz mono float32 in a temporary
 * raw file, streaming: memory stays bounded whatever the length. A WAV that already holds 16 kHz
 * mono PCM is read as it is, to the same bytes, without ffmpeg (wav.ts). While the samples stream
 * past, an energy map (RMS per 20 ms frame) is computed for the chunk planner, so the audio is
 * read once.
 */
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { endianness, tmpdir } from "node:os";
import { join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";

import type { DecodedAudio } from "../engines/engine";
import { abortError, FleetError } from "../errors";
import { stderrTail } from "./ffmpeg";
import { probeMedia, type ProbeResult } from "./probe";
import { Pcm16ToFloat, readPcmWav } from "./wav";

export const SAMPLE_RATE = 16000;
export const ENERGY_FRAME_SAMPLES = 320; // 20 ms
/** ffmpeg writes little-endian floats; a typed array reads them in the machine's own order. */
const LITTLE_ENDIAN = endianness() === "LE";

export interface EnergyMap {
  frameSeconds: number;
  /** Root-mean-square amplitude of each frame. */
  rms: Float32Array;
}

export interface DecodeMediaOptions {
  ffmpeg: string;
  tempDir?: string;
  signal?: AbortSignal;
  onProgress?: (decodedSeconds: number, totalSeconds: number | undefined) => void;
  /** What the container says of the file, as soon as it is probed (before the decode starts). */
  onProbe?: (probe: ProbeResult) => void;
}

export interface DecodedMedia extends DecodedAudio {
  probe: ProbeResult;
  energy: EnergyMap;
  warnings: string[];
  /** Removes the temporary folder; idempotent. */
  dispose(): Promise<void>;
}

/** Accumulates RMS per frame from a little-endian float32 byte stream of any chunking. */
export class EnergyMeter extends Transform {
  constructor(private readonly onSamples?: (samples: number) => void) {
    super();
  }
  private carry = Buffer.alloc(0);
  private sumSq = 0;
  private inFrame = 0;
  private frames: number[] = [];
  samples = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const usable = data.length - (data.length % 4);
    // Read as floats in place (a copy when the bytes are not 4-aligned): a tenth of the time that
    // readFloatLE per sample took, which was 0.4 s of main-thread work for 20 minutes of audio.
    const samples = LITTLE_ENDIAN
      ? data.byteOffset % 4 === 0
        ? new Float32Array(data.buffer, data.byteOffset, usable / 4)
        : new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + usable))
      : Float32Array.from({ length: usable / 4 }, (_, i) => data.readFloatLE(4 * i));
    let sumSq = this.sumSq;
    let inFrame = this.inFrame;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i];
      sumSq += v * v;
      if (++inFrame === ENERGY_FRAME_SAMPLES) {
        this.frames.push(Math.sqrt(sumSq / ENERGY_FRAME_SAMPLES));
        sumSq = 0;
        inFrame = 0;
      }
    }
    this.sumSq = sumSq;
    this.inFrame = inFrame;
    this.samples += usable / 4;
    this.carry = Buffer.from(data.subarray(usable));
    this.onSamples?.(this.samples);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.inFrame > 0) this.flushFrame();
    done();
  }

  private flushFrame(): void {
    this.frames.push(Math.sqrt(this.sumSq / Math.max(1, this.inFrame)));
    this.sumSq = 0;
    this.inFrame = 0;
  }

  energy(): EnergyMap {
    return { frameSeconds: ENERGY_FRAME_SAMPLES / SAMPLE_RATE, rms: Float32Array.from(this.frames) };
  }
}

/** Bytes the decoded audio takes: 16 kHz × 4-byte floats, about 230 MB per hour. */
const BYTES_PER_SECOND = SAMPLE_RATE * 4;

/** A full temporary folder becomes DISK_FULL naming the folder and the space the file needs. */
function diskError(error: unknown, folder: string, path: string, duration: number | undefined): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code !== "ENOSPC" && code !== "EDQUOT") return error;
  const needMB = duration ? Math.ceil((duration * BYTES_PER_SECOND) / 1e6) : undefined;
  return new FleetError(
    "DISK_FULL",
    `The temporary folder ${folder} ran out of space while decoding ${path}${needMB ? `, which needs about ${needMB} MB there` : ""}.`,
    {
      hint: "Free some space there, or point WHISPER_FLEET_TMPDIR at a folder on a disk with room.",
      cause: error,
    },
  );
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export async function decodeMedia(path: string, options: DecodeMediaOptions): Promise<DecodedMedia> {
  // A WAV whisper can hear as it is needs no ffmpeg (wav.ts); anything else is probed by it.
  const wav = readPcmWav(path);
  const probe = wav?.probe ?? (await probeMedia(options.ffmpeg, path, options.signal));
  options.onProbe?.(probe);
  const root = options.tempDir ?? tmpdir();
  const dir = await mkdtemp(join(root, "whisper-fleet-")).catch((error: unknown) => {
    throw diskError(error, root, path, probe.duration);
  });
  const dispose = () => rm(dir, { recursive: true, force: true });
  const out = join(dir, "audio.f32");
  let lastReport = 0;
  const meter = new EnergyMeter((samples) => {
    const now = Date.now();
    if (options.onProgress && now - lastReport > 200) {
      lastReport = now;
      options.onProgress(samples / SAMPLE_RATE, probe.duration);
    }
  });
  let stderr = "";
  try {
    try {
      if (wav) {
        const samples = createReadStream(path, { start: wav.dataOffset, end: wav.dataOffset + wav.dataBytes - 1, highWaterMark: 1 << 20 });
        await (wav.encoding === "s16"
          ? pipeline(samples, new Pcm16ToFloat(), meter, createWriteStream(out), { signal: options.signal })
          : pipeline(samples, meter, createWriteStream(out), { signal: options.signal }));
      } else {
        stderr = await decodeWithFfmpeg(path, probe, options, meter, out);
      }
    } catch (error) {
      if (options.signal?.aborted) throw abortError(error);
      throw diskError(error, root, path, probe.duration);
    }
    if (meter.samples === 0) {
      throw new FleetError(
        "MEDIA_CORRUPT",
        `${path} contains no decodable audio (${stderrTail(stderr) || (wav ? "its data chunk is empty" : "ffmpeg produced no samples")}).`,
      );
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  const decoded = meter.samples / SAMPLE_RATE;
  const warnings = stderr.trim() ? [`ffmpeg reported problems while decoding ${path}: ${stderrTail(stderr)}`] : [];
  // A damaged or cut file: say how much of what its header promised could be read.
  if (probe.duration && probe.duration - decoded > Math.max(1, 0.1 * probe.duration))
    warnings.unshift(`Only ${decoded.toFixed(1)} s of the ${probe.duration.toFixed(1)} s in ${path} could be decoded; the rest is missing or damaged.`);
  options.onProgress?.(decoded, probe.duration);
  return {
    path: out,
    sampleRate: SAMPLE_RATE,
    samples: meter.samples,
    duration: decoded,
    probe,
    energy: meter.energy(),
    warnings,
    dispose,
  };
}

/**
 * ffmpeg decodes the file's first audio stream to 16 kHz mono float32 through `meter` into `out`;
 * resolves with what it said on stderr, rejects with a coded error when it failed.
 */
async function decodeWithFfmpeg(path: string, probe: ProbeResult, options: DecodeMediaOptions, meter: EnergyMeter, out: string): Promise<string> {
  let stderr = "";
  const child = spawn(
    options.ffmpeg,
    [
      "-hide_banner",
      "-nostdin",
      "-v",
      "error",
      "-i",
      path,
      "-map",
      "0:a:0",
      "-vn",
      "-sn",
      "-dn",
      "-ac",
      "1",
      "-ar",
      String(SAMPLE_RATE),
      "-c:a",
      "pcm_f32le",
      "-f",
      "f32le",
      "pipe:1",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", (e) => reject(new FleetError("FFMPEG_NOT_FOUND", `ffmpeg at ${options.ffmpeg} could not be started: ${e.message}`, { cause: e })));
    child.on("close", (code) => resolve(code));
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString("utf8")).slice(-32 * 1024);
  });
  const onAbort = () => child.kill("SIGKILL");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await pipeline(child.stdout, meter, createWriteStream(out), { signal: options.signal });
    const code = await exited;
    if (options.signal?.aborted) throw abortError();
    if (code !== 0) {
      if (meter.samples > 0) {
        throw new FleetError(
          "MEDIA_CORRUPT",
          `${path} is damaged: decoding stopped at ${clock(meter.samples / SAMPLE_RATE)}${probe.duration ? ` of ${clock(probe.duration)}` : ""} (${stderrTail(stderr)}).`,
          {
            hint: "Re-export or re-download the file; the part before the damage can be cut out with ffmpeg.",
          },
        );
      }
      throw new FleetError("FFMPEG_FAILED", `ffmpeg could not decode ${path} (exit ${code}): ${stderrTail(stderr)}`);
    }
    return stderr;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}
