/**
 * Output formats. Subtitles go through the `subtitle` library (cue timing and escaping edge cases
 * are its job); text, Markdown and JSON are ours. Every format shows gaps where chunks failed.
 */
import { basename } from "node:path";

import { stringifySync, type NodeList } from "subtitle";

import type { Gap, Segment, Transcript } from "../types";

export const OUTPUT_FORMATS = ["txt", "srt", "vtt", "json", "md"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface FormatOptions {
  /** Prefix paragraphs (txt, md) with their start time. */
  timestamps?: boolean;
  /** A pause at least this long starts a new paragraph (seconds). */
  paragraphPause?: number;
}

export function isOutputFormat(value: unknown): value is OutputFormat {
  return typeof value === "string" && (OUTPUT_FORMATS as readonly string[]).includes(value);
}

export function clockTime(seconds: number, withHours = seconds >= 3600): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return withHours ? `${String(h).padStart(2, "0")}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function gapNote(gap: Gap): string {
  return `[not transcribed ${clockTime(gap.start)}–${clockTime(gap.end)}: ${gap.reason}]`;
}

type Block = { start: number; end: number; text: string; gap?: Gap };

/** Segments and gaps in time order. */
function blocks(t: Transcript): Block[] {
  const list: Block[] = t.segments.map((s) => ({ start: s.start, end: s.end, text: s.text.trim() }));
  for (const g of t.gaps) list.push({ start: g.start, end: g.end, text: gapNote(g), gap: g });
  return list.sort((a, b) => a.start - b.start || a.end - b.end);
}

export interface Paragraph {
  start: number;
  end: number;
  text: string;
}

/** Groups segments into paragraphs at long pauses, at gaps, and after ~6 sentences. */
export function paragraphs(t: Transcript, pause = 2.0): Paragraph[] {
  const out: Paragraph[] = [];
  let current: Paragraph | undefined;
  let sentences = 0;
  for (const b of blocks(t)) {
    const breakHere = !current || b.gap !== undefined || b.start - current.end >= pause || sentences >= 6;
    if (breakHere) {
      if (current) out.push(current);
      current = { start: b.start, end: b.end, text: b.text };
      sentences = 0;
    } else if (current) {
      current.text = `${current.text} ${b.text}`;
      current.end = b.end;
    }
    sentences += (b.text.match(/[.!?。？！](\s|$)/g) ?? []).length;
    if (b.gap) {
      out.push(current!);
      current = undefined;
    }
  }
  if (current) out.push(current);
  return out;
}

/** One paragraph of plain text, as toText writes it (without the separator). */
export function paragraphText(p: Paragraph, options: FormatOptions, long: boolean): string {
  return options.timestamps ? `[${clockTime(p.start, long)}] ${p.text}` : p.text;
}

export function toText(t: Transcript, options: FormatOptions = {}): string {
  const long = t.source.duration >= 3600;
  return (
    paragraphs(t, options.paragraphPause)
      .map((p) => paragraphText(p, options, long))
      .join("\n\n") + "\n"
  );
}

function cues(t: Transcript): NodeList {
  return blocks(t).map((b) => ({
    type: "cue" as const,
    data: { start: Math.round(b.start * 1000), end: Math.round(Math.max(b.end, b.start + 0.001) * 1000), text: b.text },
  }));
}

export function toSrt(t: Transcript): string {
  return stringifySync(cues(t), { format: "SRT" });
}

export function toVtt(t: Transcript): string {
  return stringifySync(cues(t), { format: "WebVTT" });
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function toJson(t: Transcript): string {
  const segments = t.segments.map((s: Segment) => ({
    start: round3(s.start),
    end: round3(s.end),
    text: s.text.trim(),
    ...(s.words
      ? {
          words: s.words.map((w) => ({
            text: w.text,
            start: round3(w.start),
            end: round3(w.end),
            ...(w.probability !== undefined ? { probability: round3(w.probability) } : {}),
          })),
        }
      : {}),
    ...(s.chunk !== undefined ? { chunk: s.chunk } : {}),
  }));
  return (
    JSON.stringify(
      {
        source: t.source,
        language: t.language,
        engine: t.engine,
        model: t.model,
        precision: t.precision,
        text: t.segments.map((s) => s.text.trim()).join(" "),
        segments,
        gaps: t.gaps,
        fallbacks: t.fallbacks,
        metrics: t.metrics,
        ffmpeg: t.ffmpeg,
      },
      null,
      2,
    ) + "\n"
  );
}

export function toMarkdown(t: Transcript, options: FormatOptions = {}): string {
  const long = t.source.duration >= 3600;
  const lines = [
    `# ${basename(t.source.path)}`,
    "",
    `*${clockTime(t.source.duration, long)} · ${t.language ?? "unknown language"} · ${t.engine} ${t.model}${t.gaps.length ? ` · ${t.gaps.length} gap(s)` : ""}*`,
    "",
  ];
  for (const p of paragraphs(t, options.paragraphPause)) {
    lines.push(options.timestamps !== false ? `**${clockTime(p.start, long)}** ${p.text}` : p.text, "");
  }
  if (t.precision === "chunk") lines.push("> Timestamps are per chunk: this cloud model returns text without timings.", "");
  return lines.join("\n");
}

export function formatTranscript(t: Transcript, format: OutputFormat, options: FormatOptions = {}): string {
  switch (format) {
    case "txt":
      return toText(t, options);
    case "srt":
      return toSrt(t);
    case "vtt":
      return toVtt(t);
    case "json":
      return toJson(t);
    case "md":
      return toMarkdown(t, options);
  }
}
