/**
 * WAV files that already hold what whisper hears — 16 kHz mono, 16-bit integer or 32-bit float
 * PCM — are read without ffmpeg: their samples are converted exactly as ffmpeg converts them
 * (an int16 × 2⁻¹⁵, a float as it is), so the decoded audio is the same bytes, without the two
 * ffmpeg processes (probe and decode) that compete with the model's load on a few cores. Every
 * other file, WAV of another rate, width or channel count included, goes to ffmpeg.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import { Transform, type TransformCallback } from "node:stream";

import type { ProbeResult } from "./probe";

export interface PcmWav {
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Bytes of samples to read: what the header declares, or up to the end of a shorter file. */
  dataBytes: number;
  encoding: "s16" | "f32";
  /** What ffmpeg's probe would say of the file. */
  probe: ProbeResult;
}

const LITTLE_ENDIAN = endianness() === "LE";
const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Chunks read before the samples (fmt, LIST, bext, JUNK...): more means not a file worth sniffing. */
const MAX_CHUNKS = 64;

/**
 * The layout of `path` when it is a RIFF/WAVE file of 16 kHz mono 16-bit or float PCM (a `data`
 * chunk of unstated length — 0 or 0xFFFFFFFF, a recorder that never finished — runs to the end of
 * the file); otherwise, or when it cannot be read, undefined (ffmpeg then probes it and reports).
 */
export function readPcmWav(path: string): PcmWav | undefined {
  // Synchronous: a few small reads of a file the page cache holds, where each awaited one waited
  // its turn behind the model's load for several milliseconds.
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const { size } = fstatSync(fd);
    const read = (bytes: number, at: number): Buffer | undefined => {
      const buffer = Buffer.alloc(bytes);
      return readSync(fd, buffer, 0, bytes, at) === bytes ? buffer : undefined;
    };
    const head = read(12, 0);
    if (!head || head.toString("latin1", 0, 4) !== "RIFF" || head.toString("latin1", 8, 12) !== "WAVE") return undefined;
    let pos = 12;
    let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
    for (let i = 0; i < MAX_CHUNKS && pos + 8 <= size; i++) {
      const chunk = read(8, pos);
      if (!chunk) return undefined;
      const id = chunk.toString("latin1", 0, 4);
      const length = chunk.readUInt32LE(4);
      if (id === "fmt ") {
        const body = length >= 16 ? read(Math.min(length, 40), pos + 8) : undefined;
        if (!body) return undefined;
        let format = body.readUInt16LE(0);
        // WAVE_FORMAT_EXTENSIBLE names the real format in the first two bytes of its sub-format GUID.
        if (format === FORMAT_EXTENSIBLE && body.length >= 26) format = body.readUInt16LE(24);
        fmt = { format, channels: body.readUInt16LE(2), rate: body.readUInt32LE(4), bits: body.readUInt16LE(14) };
      } else if (id === "data") {
        if (!fmt) return undefined;
        const encoding = fmt.format === FORMAT_PCM && fmt.bits === 16 ? "s16" : fmt.format === FORMAT_FLOAT && fmt.bits === 32 ? "f32" : undefined;
        if (!encoding || fmt.channels !== 1 || fmt.rate !== 16000) return undefined;
        const dataOffset = pos + 8;
        const inFile = size - dataOffset;
        const declared = length === 0 || length === 0xffffffff ? undefined : length;
        const duration = (declared ?? inFile) / (fmt.rate * (fmt.bits / 8));
        const audio = { index: 0, type: "audio" as const, codec: encoding === "s16" ? "pcm_s16le" : "pcm_f32le", sampleRate: fmt.rate, channels: "mono" };
        return {
          dataOffset,
          dataBytes: Math.max(0, Math.min(declared ?? inFile, inFile)),
          encoding,
          probe: { path, bytes: size, duration, format: "wav", streams: [audio], audio },
        };
      }
      pos += 8 + length + (length % 2); // chunks are padded to an even length
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Little-endian int16 samples in, little-endian float32 out, × 2⁻¹⁵ as ffmpeg's conversion does. */
export class Pcm16ToFloat extends Transform {
  private carry: Buffer | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const n = data.length >> 1;
    let out: Buffer;
    if (LITTLE_ENDIAN) {
      // Typed arrays over the bytes (copied when not 2-aligned): a tenth of readInt16LE per sample.
      const ints =
        data.byteOffset % 2 === 0
          ? new Int16Array(data.buffer, data.byteOffset, n)
          : new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + 2 * n));
      const floats = new Float32Array(n);
      for (let i = 0; i < n; i++) floats[i] = ints[i] / 32768;
      out = Buffer.from(floats.buffer);
    } else {
      out = Buffer.allocUnsafe(n * 4);
      for (let i = 0; i < n; i++) out.writeFloatLE(data.readInt16LE(2 * i) / 32768, 4 * i);
    }
    this.carry = data.length % 2 ? Buffer.from(data.subarray(data.length - 1)) : undefined;
    done(null, out);
  }
}
