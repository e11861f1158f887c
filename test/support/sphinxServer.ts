/**
 * A real recognizer behind the OpenAI transcription API, for tests and benchmarks only: Debian's
 * CMU PocketSphinx (`pocketsphinx_batch`, US-English acoustic model) answers
 * `POST /v1/audio/transcriptions` with `verbose_json` (segments and words), `json` or `text`.
 *
 * Its accuracy is far below Whisper's, which does not matter: it is the same recognizer on a whole
 * file and behind Whisper Fleet's chunked pipeline, so the difference measures chunking and
 * stitching. PocketSphinx finds no path through some long utterances, so every upload is first cut
 * at pauses into pieces of at most `maxPieceSeconds` (as a production server would run a VAD); the
 * word times it reports are on the upload's own timeline.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";

export const SPHINX_PACKAGES = "pocketsphinx pocketsphinx-en-us";
const SPHINX_BIN = "pocketsphinx_batch";

/** Whether Debian's PocketSphinx and its US-English model are installed (a Mac: no). */
export function sphinxAvailable(): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${SPHINX_BIN}`], { stdio: "ignore" });
    execFileSync("sh", ["-c", "test -d /usr/share/pocketsphinx/model/en-us/en-us"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export interface SphinxWord {
  word: string;
  start: number;
  end: number;
}

export interface SphinxRequest {
  responseFormat: string;
  language?: string;
  prompt?: string;
  granularities: string[];
  seconds: number;
  words: number;
  /** What the server answered. */
  text: string;
}

export interface SphinxServerOptions {
  ffmpeg: string;
  /** Longest piece handed to the recognizer; cuts go at the quietest point before it (default 15 s). */
  maxPieceSeconds?: number;
  /** Recognizer processes per request (a whole-file baseline can use the machine's cores). */
  processesPerRequest?: number;
  /** false: answer as text-only models do (segments without word times, as gpt-4o-style servers). */
  wordTimes?: boolean;
}

export interface SphinxServer {
  /** Base URL for the OpenAI SDK, ending in /v1. */
  url: string;
  port: number;
  /** What each request asked for, in arrival order. */
  requests: SphinxRequest[];
  stop(): Promise<void>;
}

const RATE = 16000;
const FRAME = 160; // 10 ms, PocketSphinx's frame

/** Mean absolute level of each 10 ms frame of 16-bit PCM. */
function frameLevels(pcm: Int16Array): Float64Array {
  const n = Math.floor(pcm.length / FRAME);
  const out = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    let sum = 0;
    for (let i = f * FRAME; i < (f + 1) * FRAME; i++) sum += Math.abs(pcm[i]);
    out[f] = sum / FRAME;
  }
  return out;
}

/** Cuts [0, frames) into pieces of at most `maxFrames`, each cut at the quietest 100 ms before the limit. */
export function pausePieces(levels: Float64Array, maxFrames: number, minFrames = 300): [number, number][] {
  const pieces: [number, number][] = [];
  let start = 0;
  const radius = 5;
  while (levels.length - start > maxFrames) {
    let best = start + maxFrames;
    let bestLevel = Infinity;
    for (let f = start + Math.min(minFrames, maxFrames >> 1); f < start + maxFrames; f++) {
      let sum = 0;
      for (let k = f - radius; k <= f + radius; k++) sum += levels[Math.max(0, Math.min(levels.length - 1, k))];
      // Later cuts win ties: fewer, longer pieces.
      if (sum <= bestLevel) {
        bestLevel = sum;
        best = f;
      }
    }
    pieces.push([start, best]);
    start = best;
  }
  if (levels.length > start) pieces.push([start, levels.length]);
  return pieces;
}

/** Parses `-hypseg` lines: `uttid S s T t A a L l {startFrame ascr lscr word}* endFrame`. */
export function parseHypseg(text: string): Map<string, { word: string; startFrame: number; endFrame: number }[]> {
  const out = new Map<string, { word: string; startFrame: number; endFrame: number }[]>();
  for (const line of text.split("\n")) {
    const t = line.trim().split(/\s+/);
    if (t.length < 10) continue;
    const id = t[0];
    const rest = t.slice(9);
    const words: { word: string; startFrame: number; endFrame: number }[] = [];
    for (let i = 0; i + 3 < rest.length; i += 4) {
      const startFrame = Number(rest[i]);
      const word = rest[i + 3];
      const next = Number(rest[i + 4]);
      words.push({ word, startFrame, endFrame: Number.isFinite(next) ? next : startFrame });
    }
    out.set(id, words);
  }
  return out;
}

/** A recognizer token that is a spoken word: not silence, noise or sentence marks; "the(2)" → "the". */
function spoken(word: string): string | undefined {
  if (/^(<s>|<\/s>|<sil>|\[.*\]|\+\+.*\+\+)$/.test(word)) return undefined;
  return word.replace(/\(\d+\)$/, "");
}

function run(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${bin} failed: ${String(stderr).slice(-2000)}`));
      else resolve();
    });
  });
}

interface Piece {
  start: number;
  end: number;
  words: SphinxWord[];
}

/** Recognizes 16 kHz mono s16le `raw` (a file in `dir`) piece by piece; times in seconds on its timeline. */
async function recognize(dir: string, pcm: Int16Array, options: Required<Omit<SphinxServerOptions, "ffmpeg" | "wordTimes">>): Promise<Piece[]> {
  const pieces = pausePieces(frameLevels(pcm), Math.round(options.maxPieceSeconds * 100));
  if (!pieces.length) return [];
  const groups = Math.max(1, Math.min(options.processesPerRequest, pieces.length));
  const per = Math.ceil(pieces.length / groups);
  const results = new Map<string, { word: string; startFrame: number; endFrame: number }[]>();
  await Promise.all(
    Array.from({ length: groups }, async (_, g) => {
      const mine = pieces.slice(g * per, (g + 1) * per);
      if (!mine.length) return;
      const ctl = join(dir, `g${g}.ctl`);
      const seg = join(dir, `g${g}.seg`);
      writeFileSync(ctl, mine.map(([a, b], i) => `audio ${a} ${b} p${g * per + i}\n`).join(""));
      await run(SPHINX_BIN, ["-adcin", "yes", "-cepdir", dir, "-cepext", ".raw", "-ctl", ctl, "-hypseg", seg, "-logfn", "/dev/null"]);
      for (const [id, words] of parseHypseg(readFileSync(seg, "utf8"))) results.set(id, words);
    }),
  );
  return pieces.map(([a, b], i) => ({
    start: a / 100,
    end: b / 100,
    words: (results.get(`p${i}`) ?? []).flatMap((w) => {
      const word = spoken(w.word);
      return word ? [{ word, start: (a + w.startFrame) / 100, end: (a + Math.max(w.startFrame + 1, w.endFrame)) / 100 }] : [];
    }),
  }));
}

async function formData(req: IncomingMessage): Promise<FormData> {
  const request = new Request("http://localhost/", {
    method: "POST",
    headers: req.headers as Record<string, string>,
    body: Readable.toWeb(req) as ReadableStream,
    duplex: "half",
  } as RequestInit);
  return request.formData();
}

function decodeUpload(ffmpeg: string, input: string, output: string): Promise<void> {
  return run(ffmpeg, ["-hide_banner", "-nostdin", "-v", "error", "-i", input, "-ac", "1", "-ar", String(RATE), "-f", "s16le", "-y", output]);
}

async function answer(req: IncomingMessage, res: ServerResponse, options: SphinxServerOptions, server: SphinxServer): Promise<void> {
  if (req.method !== "POST" || !req.url?.endsWith("/audio/transcriptions")) {
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
    return;
  }
  const form = await formData(req);
  const file = form.get("file");
  if (!(file instanceof Blob)) {
    res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "file is required", type: "invalid_request_error" } }));
    return;
  }
  const responseFormat = String(form.get("response_format") ?? "json");
  const granularities = form.getAll("timestamp_granularities[]").map(String);
  const dir = mkdtempSync(join(tmpdir(), "wf-sphinx-"));
  try {
    writeFileSync(join(dir, "upload"), Buffer.from(await file.arrayBuffer()));
    await decodeUpload(options.ffmpeg, join(dir, "upload"), join(dir, "audio.raw"));
    const raw = readFileSync(join(dir, "audio.raw"));
    const pcm = new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1);
    const pieces = await recognize(dir, pcm, {
      maxPieceSeconds: options.maxPieceSeconds ?? 15,
      processesPerRequest: options.processesPerRequest ?? 1,
    });
    const words = pieces.flatMap((p) => p.words);
    const text = words.map((w) => w.word).join(" ");
    server.requests.push({
      responseFormat,
      language: form.get("language")?.toString(),
      prompt: form.get("prompt")?.toString(),
      granularities,
      seconds: pcm.length / RATE,
      words: words.length,
      text,
    });
    if (responseFormat === "text") {
      res.writeHead(200, { "content-type": "text/plain" }).end(text);
      return;
    }
    if (responseFormat !== "verbose_json") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ text }));
      return;
    }
    const segments = pieces
      .filter((p) => p.words.length)
      .map((p, id) => ({
        id,
        start: p.words[0].start,
        end: p.words[p.words.length - 1].end,
        text: ` ${p.words.map((w) => w.word).join(" ")}`,
        no_speech_prob: 0,
      }));
    const withWords = options.wordTimes !== false && granularities.includes("word");
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        task: "transcribe",
        language: "english",
        duration: pcm.length / RATE,
        text,
        segments,
        ...(withWords ? { words } : {}),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts one recognizer server on a free loopback port. */
export async function startSphinxServer(options: SphinxServerOptions): Promise<SphinxServer> {
  const server: SphinxServer = { url: "", port: 0, requests: [], stop: async () => undefined };
  const http: Server = createServer((req, res) => {
    answer(req, res, options, server).catch((error: unknown) => {
      if (!res.headersSent)
        res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: String(error), type: "server_error" } }));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  server.port = (http.address() as AddressInfo).port;
  server.url = `http://127.0.0.1:${server.port}/v1`;
  server.stop = () =>
    new Promise((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    });
  return server;
}
