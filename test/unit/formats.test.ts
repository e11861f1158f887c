import { parseSync } from "subtitle";
import { describe, expect, it } from "vitest";

import { formatTranscript, paragraphs, toJson, toMarkdown, toSrt, toText, toVtt } from "../../src/core/output/formats";
import type { Transcript } from "../../src/core/types";

const transcript: Transcript = {
  source: { path: "/tmp/lecture.m4a", duration: 3725 },
  language: "en",
  engine: "local",
  model: "base.en",
  precision: "word",
  segments: [
    { start: 0.5, end: 4.25, text: "Welcome to the lecture." },
    { start: 4.4, end: 9.999, text: 'Today: commas, "quotes" & <tags>.' },
    { start: 20, end: 24.5, text: "After a long pause." },
    { start: 3700, end: 3710.123, text: "The end, past an hour." },
  ],
  gaps: [{ start: 600, end: 900, chunk: 2, code: "CHUNK_TIMEOUT", reason: "took longer than WORKER_TIMEOUT" }],
  fallbacks: [],
};

describe("output formats", () => {
  it("SRT round-trips through a real subtitle parser, gaps included", () => {
    const cues = parseSync(toSrt(transcript)).filter((n) => n.type === "cue");
    expect(cues).toHaveLength(5);
    const data = cues.map((c) => (c as { data: { start: number; end: number; text: string } }).data);
    expect(data[0]).toEqual({ start: 500, end: 4250, text: "Welcome to the lecture." });
    expect(data[1].text).toBe('Today: commas, "quotes" & <tags>.');
    expect(data[1].end).toBe(9999);
    expect(data[3].text).toMatch(/^\[not transcribed 10:00–15:00: took longer/);
    expect(data[4]).toEqual({ start: 3700000, end: 3710123, text: "The end, past an hour." });
  });

  it("WebVTT round-trips and carries its header", () => {
    const vtt = toVtt(transcript);
    expect(vtt.startsWith("WEBVTT")).toBe(true);
    const cues = parseSync(vtt).filter((n) => n.type === "cue");
    expect(cues).toHaveLength(5);
    expect((cues[4] as { data: { start: number } }).data.start).toBe(3700000);
  });

  it("plain text makes paragraphs at pauses and gaps, with optional timestamps", () => {
    const text = toText(transcript);
    expect(text.split("\n\n")).toEqual([
      'Welcome to the lecture. Today: commas, "quotes" & <tags>.',
      "After a long pause.",
      "[not transcribed 10:00–15:00: took longer than WORKER_TIMEOUT]",
      "The end, past an hour.\n",
    ]);
    expect(toText(transcript, { timestamps: true })).toContain("[01:01:40] The end, past an hour.");
    expect(paragraphs(transcript)).toHaveLength(4);
  });

  it("JSON carries segments in seconds, gaps and metadata", () => {
    const json = JSON.parse(toJson(transcript));
    expect(json.segments[1]).toEqual({ start: 4.4, end: 9.999, text: 'Today: commas, "quotes" & <tags>.' });
    expect(json.gaps[0].code).toBe("CHUNK_TIMEOUT");
    expect(json.language).toBe("en");
    expect(json.text).toContain("Welcome to the lecture.");
  });

  it("Markdown has a title, metadata, timestamps and the gap", () => {
    const md = toMarkdown(transcript);
    expect(md).toMatch(/^# lecture\.m4a/);
    expect(md).toContain("1 gap(s)");
    expect(md).toContain("**01:01:40** The end, past an hour.");
    expect(md).toContain("[not transcribed 10:00–15:00");
  });

  it("dispatches every format", () => {
    for (const f of ["txt", "srt", "vtt", "json", "md"] as const) expect(formatTranscript(transcript, f).length).toBeGreaterThan(20);
  });
});
