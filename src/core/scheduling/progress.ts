/** The one progress model every front end renders, and the pure estimates behind it. */
import { clockTime } from "../output/formats";

export type WorkerLaneState = "idle" | "busy" | "retrying" | "stopped";

export interface WorkerLane {
  id: number;
  state: WorkerLaneState;
  chunk?: number;
  percent: number;
  engine?: string;
  /** What a cloud lane is doing: encoding the upload, or waiting for the request it sent. */
  step?: "encoding" | "sent";
}

export type JobPhase = "probing" | "decoding" | "planning" | "loading" | "transcribing" | "stitching" | "done";

export interface ProgressSnapshot {
  phase: JobPhase;
  file: string;
  engine: string;
  workers: WorkerLane[];
  activeWorkers: number;
  chunks: { done: number; total: number; failed: number; cached: number; running: number };
  audio: { done: number; total: number };
  /** Decoding progress (seconds of audio decoded), while phase = decoding. */
  decoded?: { done: number; total?: number };
  speed: { chunksPerMinute: number; realtimeFactor: number };
  etaSeconds?: number;
  elapsedSeconds: number;
  note?: string;
  /**
   * The newest text a running chunk has produced (local engines: every 30-second window), shown
   * while its chunk runs. A preview: around a cut the finished transcript may word it differently.
   */
  heard?: { start: number; end: number; text: string };
}

/**
 * Seconds left, from audio done so far (finished chunks plus running chunks' progress) over the
 * time spent transcribing. Converges as work completes; undefined until there is a rate.
 */
export function estimateEta(audioDone: number, audioTotal: number, elapsedSeconds: number): number | undefined {
  if (audioDone <= 0 || elapsedSeconds <= 0) return undefined;
  if (audioDone >= audioTotal) return 0;
  const rate = audioDone / elapsedSeconds;
  return (audioTotal - audioDone) / rate;
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/** "Transcribing report.m4a · 24/50 chunks · 5 workers · 3.2 chunks/min · ETA 8m 15s" */
export function progressLine(p: ProgressSnapshot): string {
  const name = p.file.split(/[\\/]/).pop() ?? p.file;
  switch (p.phase) {
    case "probing":
      return `Reading ${name}`;
    case "decoding": {
      const pct = p.decoded?.total ? ` · ${Math.min(100, Math.round((100 * p.decoded.done) / p.decoded.total))}%` : "";
      return `Decoding ${name}${pct}`;
    }
    case "planning":
      return `Planning ${name}`;
    case "loading":
      return `Loading model for ${name}`;
    case "stitching":
      return `Stitching ${name}`;
    case "done":
      return `Transcribed ${name} · ${p.chunks.done}/${p.chunks.total} chunks`;
    default: {
      const parts = [
        `Transcribing ${name}`,
        `${p.chunks.done}/${p.chunks.total} chunks`,
        `${p.activeWorkers} worker${p.activeWorkers === 1 ? "" : "s"}`,
        `${p.speed.chunksPerMinute.toFixed(1)} chunks/min`,
        `ETA ${formatDuration(p.etaSeconds)}`,
      ];
      return parts.join(" · ");
    }
  }
}

/** `heard` as one line: its time in the file and the end of its text, at most `width` characters of it. */
export function heardLine(p: ProgressSnapshot, width = 60): string | undefined {
  if (!p.heard) return undefined;
  const full = p.heard.text;
  if (full.length <= width) return `${clockTime(p.heard.start)} “${full}”`;
  // The end of the text, from a whole word on.
  const tail = full.slice(-(width - 1));
  const midWord = !/\s/.test(full[full.length - width]);
  const text = `…${(midWord ? tail.replace(/^\S*/, "") : tail).trimStart()}`;
  return `${clockTime(p.heard.start)} “${text}”`;
}

/** Whole percent of work done: 100 only when all of it is (99.6% of the audio is not "done"). */
export function percentDone(done: number, total: number): number {
  if (total <= 0) return 0;
  if (done >= total) return 100;
  return Math.min(99, Math.floor((100 * done) / total));
}

function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return "█".repeat(full) + "░".repeat(width - full);
}

/** The plan's parallel progress panel as plain text lines (terminal and Raycast Detail). */
export function progressPanel(p: ProgressSnapshot, width = 24): string[] {
  const lines = p.workers.map((w) => {
    const what = w.state === "busy" || w.state === "retrying" ? `chunk ${String((w.chunk ?? 0) + 1).padStart(3)}/${p.chunks.total}` : w.state.padEnd(13);
    const step = w.step === "encoding" ? " · encoding" : w.step === "sent" ? " · sent, waiting" : "";
    return `Worker ${String(w.id + 1).padStart(2)} ${bar(w.percent / 100, width)} ${String(percentDone(w.percent, 100)).padStart(3)}% ${what}${w.state === "retrying" ? " (retry)" : ""}${step}`;
  });
  const overall = percentDone(p.audio.done, p.audio.total);
  lines.push(`Overall   ${bar(overall / 100, width)} ${String(overall).padStart(3)}% ${p.chunks.done}/${p.chunks.total} chunks`);
  lines.push(
    `Speed ${p.speed.chunksPerMinute.toFixed(1)} chunks/min · ${p.speed.realtimeFactor.toFixed(1)}x realtime · ETA ${formatDuration(p.etaSeconds)} · elapsed ${formatDuration(p.elapsedSeconds)}`,
  );
  const heard = heardLine(p, width * 2);
  if (heard) lines.push(`Heard     ${heard}`);
  return lines;
}
