/**
 * Checks a whisper.cpp ggml model file before whisper.cpp sees it. whisper.cpp trusts the file:
 * a truncated one makes it throw from a worker thread (the process aborts), load an "empty model"
 * that transcribes nothing, or read absurd lengths. This reads the header, hyperparameters, mel
 * filters, vocabulary and the whole tensor table (names, dims, types) and checks that every
 * tensor's bytes lie inside the file and that the table is exactly what the hyperparameters need.
 * It reads a few hundred kilobytes, never the weights, synchronously: a few hundred reads of at
 * most 64 KiB, 20-30 ms in all the first time a process runs them (4-8 ms after), that the model's
 * load waits for. As promises they took 37-52 ms in the CLI, each step queued behind whatever else
 * the main thread had to do as the job starts (spawning the decoder, loading the addon).
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";

import { FleetError } from "../errors";

const GGML_MAGIC = 0x67676d6c; // "ggml"

/** ggml type id → [bytes per block, elements per block] for the types whisper.cpp models use. */
const TYPE_SIZES: Record<number, [number, number]> = {
  0: [4, 1], // F32
  1: [2, 1], // F16
  2: [18, 32], // Q4_0
  3: [20, 32], // Q4_1
  6: [22, 32], // Q5_0
  7: [24, 32], // Q5_1
  8: [34, 32], // Q8_0
  10: [84, 256], // Q2_K
  11: [110, 256], // Q3_K
  12: [144, 256], // Q4_K
  13: [176, 256], // Q5_K
  14: [210, 256], // Q6_K
  30: [2, 1], // BF16
};
/** ftype % 1000 values whisper.cpp accepts (all F32/F16/BF16 and the quantizations above). */
const FTYPES = new Set([0, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 24]);

export interface ModelHeader {
  nVocab: number;
  nAudioCtx: number;
  nAudioState: number;
  nAudioHead: number;
  nAudioLayer: number;
  nTextCtx: number;
  nTextState: number;
  nTextHead: number;
  nTextLayer: number;
  nMels: number;
  ftype: number;
}

export interface ModelCheck {
  header: ModelHeader;
  tensors: number;
  bytes: number;
}

/** Tensors whisper.cpp creates for these hyperparameters (and so expects in the file). */
export function expectedTensorCount(h: ModelHeader): number {
  // encoder: conv1, conv2 (w+b), positional embedding, ln_post (w+b); 15 per block
  // decoder: positional + token embedding, ln (w+b); 24 per block (self and cross attention)
  return 7 + 15 * h.nAudioLayer + 4 + 24 * h.nTextLayer;
}

/** The vocabulary is read through in a few 64 KiB spans; each tensor header (which sits before
 * megabytes of weights) costs one 1 KiB read: its counts, dimensions and name fit. */
const READ_SPAN = 64 * 1024;
const HEADER_SPAN = 1024;

class Reader {
  private buffer = Buffer.alloc(0);
  private bufferAt = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly path: string,
  ) {}

  /** `length` bytes at `offset`, or MODEL_INVALID naming what was being read when the file ends. */
  bytes(offset: number, length: number, what: string, readSpan = READ_SPAN): Buffer {
    if (offset + length > this.size) throw invalid(this.path, `${what} ends at byte ${fmt(offset + length)} but the file has ${fmt(this.size)} bytes`);
    if (offset < this.bufferAt || offset + length > this.bufferAt + this.buffer.length) {
      const span = Math.min(Math.max(length, readSpan), this.size - offset);
      const buffer = Buffer.allocUnsafe(span);
      const bytesRead = readSync(this.fd, buffer, 0, span, offset);
      this.buffer = buffer.subarray(0, bytesRead);
      this.bufferAt = offset;
      if (bytesRead < length) throw invalid(this.path, `${what} could not be read at byte ${fmt(offset)}`);
    }
    return this.buffer.subarray(offset - this.bufferAt, offset - this.bufferAt + length);
  }

  /** The int32 at `offset` if it is already read, without a new buffer: the vocabulary walk reads 50,000 of them. */
  bufferedInt32(offset: number): number | undefined {
    const at = offset - this.bufferAt;
    return at >= 0 && at + 4 <= this.buffer.length ? this.buffer.readInt32LE(at) : undefined;
  }

  int32s(offset: number, count: number, what: string, readSpan = READ_SPAN): number[] {
    const b = this.bytes(offset, 4 * count, what, readSpan);
    return Array.from({ length: count }, (_, i) => b.readInt32LE(4 * i));
  }
}

const fmt = (n: number) => n.toLocaleString("en-US");

function invalid(path: string, detail: string): FleetError {
  return new FleetError("MODEL_INVALID", `Model file ${path} is not a usable whisper.cpp model: ${detail}.`, {
    hint: "The file is truncated or corrupt. Delete it and download it again (whisper-fleet models download NAME, or Manage Models).",
  });
}

/** `name` may be a function: the vocabulary walk names each of 50,000 entries only if it fails. */
function within(path: string, name: string | (() => string), value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw invalid(path, `${typeof name === "function" ? name() : name} is ${value}, outside ${min}..${max}`);
}

export function checkModelFile(path: string): ModelCheck {
  let size: number;
  try {
    const s = statSync(path);
    if (s.isDirectory()) throw new FleetError("MODEL_NOT_FOUND", `Model path ${path} is a directory, not a model file.`);
    size = s.size;
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw new FleetError("MODEL_NOT_FOUND", `Model file ${path} does not exist.`, {
      hint: "Download a model with `whisper-fleet models download base.en` or pick another file.",
    });
  }
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    throw new FleetError("MODEL_NOT_FOUND", `Model file ${path} cannot be read (permission denied?).`);
  }
  try {
    const r = new Reader(fd, size, path);
    const h = readHeader(r, path);
    const tensorsAt = skipFiltersAndVocabulary(r, path);
    const tensors = checkTensorTable(r, path, tensorsAt);
    const expected = expectedTensorCount(h);
    if (tensors !== expected) throw invalid(path, `it holds ${tensors} tensors where these hyperparameters need ${expected}`);
    return { header: h, tensors, bytes: size };
  } finally {
    closeSync(fd);
  }
}

function readHeader(r: Reader, path: string): ModelHeader {
  const [magic] = r.int32s(0, 1, "the magic number");
  if (magic >>> 0 !== GGML_MAGIC) throw invalid(path, "it does not start with the ggml magic number");
  const hp = r.int32s(4, 11, "the hyperparameters");
  const h: ModelHeader = {
    nVocab: hp[0],
    nAudioCtx: hp[1],
    nAudioState: hp[2],
    nAudioHead: hp[3],
    nAudioLayer: hp[4],
    nTextCtx: hp[5],
    nTextState: hp[6],
    nTextHead: hp[7],
    nTextLayer: hp[8],
    nMels: hp[9],
    ftype: hp[10],
  };
  within(path, "n_vocab", h.nVocab, 1000, 100_000);
  within(path, "n_audio_ctx", h.nAudioCtx, 1, 4096);
  within(path, "n_audio_state", h.nAudioState, 64, 8192);
  within(path, "n_audio_head", h.nAudioHead, 1, 128);
  within(path, "n_audio_layer", h.nAudioLayer, 1, 128);
  within(path, "n_text_ctx", h.nTextCtx, 1, 4096);
  within(path, "n_text_state", h.nTextState, 64, 8192);
  within(path, "n_text_head", h.nTextHead, 1, 128);
  within(path, "n_text_layer", h.nTextLayer, 1, 128);
  within(path, "n_mels", h.nMels, 1, 256);
  if (h.nAudioState % h.nAudioHead !== 0 || h.nTextState % h.nTextHead !== 0) throw invalid(path, "the attention heads do not divide the model width");
  if (!FTYPES.has(h.ftype % 1000) || h.ftype < 0) throw invalid(path, `ftype ${h.ftype} is not a type whisper.cpp knows`);
  return h;
}

/** Walks the mel filters and the vocabulary; returns where the tensor table starts. */
function skipFiltersAndVocabulary(r: Reader, path: string): number {
  let at = 48;
  const [nMel, nFft] = r.int32s(at, 2, "the mel filter sizes");
  within(path, "the mel filter count", nMel, 1, 256);
  within(path, "the mel filter length", nFft, 1, 4096);
  at += 8 + 4 * nMel * nFft;
  const [nVocab] = r.int32s(at, 1, "the vocabulary size");
  within(path, "the vocabulary size", nVocab, 1, 200_000);
  at += 4;
  for (let i = 0; i < nVocab; i++) {
    const len = r.bufferedInt32(at) ?? r.int32s(at, 1, `vocabulary entry ${i}`)[0];
    within(path, () => `the length of vocabulary entry ${i}`, len, 0, 1024);
    at += 4 + len;
  }
  if (at > r.size) throw invalid(path, `the vocabulary ends at byte ${fmt(at)} but the file has ${fmt(r.size)} bytes`);
  return at;
}

/** Reads every tensor header and checks its bytes lie inside the file; returns the tensor count. */
function checkTensorTable(r: Reader, path: string, from: number): number {
  const names = new Set<string>();
  let at = from;
  while (at < r.size) {
    const n = names.size + 1;
    const [nDims, nameLength, type] = r.int32s(at, 3, `the header of tensor ${n}`, HEADER_SPAN);
    within(path, `tensor ${n}'s dimension count`, nDims, 1, 4);
    within(path, `tensor ${n}'s name length`, nameLength, 1, 256);
    const sizes = TYPE_SIZES[type];
    if (!sizes) throw invalid(path, `tensor ${n} has unknown type ${type}`);
    const dims = r.int32s(at + 12, nDims, `the dimensions of tensor ${n}`, HEADER_SPAN);
    const name = r.bytes(at + 12 + 4 * nDims, nameLength, `the name of tensor ${n}`, HEADER_SPAN).toString("latin1");
    if (!/^[\x21-\x7e]+$/.test(name)) throw invalid(path, `tensor ${n} has a garbled name`);
    if (names.has(name)) throw invalid(path, `tensor ${name} appears twice`);
    let elements = 1;
    for (const d of dims) {
      within(path, `a dimension of tensor ${name}`, d, 1, 1 << 24);
      elements *= d;
    }
    if (dims[0] % sizes[1] !== 0) throw invalid(path, `tensor ${name} has rows of ${dims[0]} values, not whole blocks of ${sizes[1]}`);
    const end = at + 12 + 4 * nDims + nameLength + (elements / sizes[1]) * sizes[0];
    if (end > r.size) throw invalid(path, `tensor ${name} ends at byte ${fmt(end)} but the file has ${fmt(r.size)} bytes`);
    names.add(name);
    at = end;
  }
  return names.size;
}
