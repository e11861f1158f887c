import { describe, expect, it } from "vitest";

import { stitch } from "../../src/core/stitching/stitch";
import { StitchedPrefix } from "../../src/core/stitching/stitchedPrefix";
import type { ChunkTranscript, PlannedChunk, Segment, Word } from "../../src/core/types";

const TEXT =
  "It was the invention of movable metal letters in the middle of the fifteenth century that may justly be considered " +
  "as the invention of the art of printing and it is worth mention in passing that as an example of fine typography " +
  "the earliest book printed with movable types the Gutenberg or forty two line Bible of about fourteen fifty five has " +
  "never been surpassed printing then for our purpose may be considered as the art of making books by means of movable " +
  "types now as all books not primarily intended as picture books consist principally of types composed to form letterpress";

/** The reference: one word every 0.45 s with 0.1 s pauses, and a full stop every 12 words. */
function reference(): Word[] {
  return TEXT.split(" ").map((text, i) => ({ text, start: i * 0.45, end: i * 0.45 + 0.35 }));
}

function chunk(index: number, ownStart: number, ownEnd: number, total: number, overlap: number): PlannedChunk {
  const before = index > 0 ? overlap / 2 : 0;
  const after = ownEnd < total ? overlap / 2 : 0;
  return { index, start: ownStart - before, end: ownEnd + after, overlapBefore: before, overlapAfter: after, ownStart, ownEnd };
}

/** What an engine would return for `c`: the words it heard, shifted, with edge words damaged. */
function transcribe(c: PlannedChunk, words: Word[], shift: number, damage: (w: Word, i: number, all: Word[]) => Word | undefined): ChunkTranscript {
  const heard = words.filter((w) => w.start >= c.start && w.end <= c.end);
  const out: Word[] = [];
  heard.forEach((w, i) => {
    const d = damage({ ...w, start: w.start + shift, end: w.end + shift }, i, heard);
    if (d) out.push(d);
  });
  const segments: Segment[] = [];
  for (let i = 0; i < out.length; i += 12) {
    const ws = out.slice(i, i + 12);
    segments.push({ start: ws[0].start, end: ws.at(-1)!.end, text: ws.map((w) => w.text).join(" "), words: ws, chunk: c.index });
  }
  return { index: c.index, start: c.start, end: c.end, segments, engine: "test", model: "m", precision: "word", temperatureRetries: 0, timings: { wallMs: 1 } };
}

function words(segments: Segment[]): string[] {
  return segments.flatMap((s) => s.text.split(" "));
}

function expectOrdered(segments: Segment[]) {
  for (let i = 0; i < segments.length; i++) {
    expect(segments[i].end).toBeGreaterThanOrEqual(segments[i].start);
    if (i > 0) expect(segments[i].start).toBeGreaterThanOrEqual(segments[i - 1].end);
    const ws = segments[i].words ?? [];
    for (let j = 1; j < ws.length; j++) expect(ws[j].start).toBeGreaterThanOrEqual(ws[j - 1].start);
  }
}

/** Two neighbouring chunks that heard exactly `a` and `b` (one segment each), stitched. */
function stitchPair(plan: PlannedChunk[], a: Word[], b: Word[]) {
  const result = (index: number, ws: Word[]): ChunkTranscript => ({
    index,
    start: plan[index].start,
    end: plan[index].end,
    segments: [{ start: ws[0].start, end: ws.at(-1)!.end, text: ws.map((w) => w.text).join(" "), words: ws, chunk: index }],
    engine: "test",
    model: "m",
    precision: "word",
    temperatureRetries: 0,
    timings: { wallMs: 1 },
  });
  return stitch(plan, new Map([result(0, a), result(1, b)].map((r) => [r.index, r])), new Map());
}

describe("stitch", () => {
  const ref = reference();
  const total = ref.at(-1)!.end + 0.5;
  const cuts = [0, 14.1, 29.3, total];
  const plan = cuts.slice(0, -1).map((s, i) => chunk(i, s, cuts[i + 1], total, 5));

  it("recovers the reference word sequence exactly despite disagreements at the edges", () => {
    const results = new Map<number, ChunkTranscript>();
    plan.forEach((c, k) => {
      // Each chunk garbles the word cut in half at its start and end, and places words a little
      // differently in time than its neighbour does.
      const shift = k % 2 === 0 ? 0.12 : -0.1;
      results.set(
        c.index,
        transcribe(c, ref, shift, (w, i, all) => {
          if (k > 0 && i === 0) return { ...w, text: `${w.text.slice(1)}` };
          if (i === all.length - 1 && c.ownEnd < total) return { ...w, text: `${w.text}s` };
          return w;
        }),
      );
    });
    const { segments, gaps } = stitch(plan, results);
    expect(gaps).toEqual([]);
    expect(words(segments)).toEqual(ref.map((w) => w.text));
    expectOrdered(segments);
  });

  it("keeps each overlapped word once when both chunks heard it identically", () => {
    const results = new Map(plan.map((c) => [c.index, transcribe(c, ref, 0, (w) => w)]));
    expect(words(stitch(plan, results).segments)).toEqual(ref.map((w) => w.text));
  });

  it("falls back to the cut when the overlaps share no word", () => {
    const results = new Map<number, ChunkTranscript>();
    plan.forEach((c, k) =>
      results.set(
        c.index,
        transcribe(c, ref, 0, (w) => ({ ...w, text: `${w.text}${k}` })),
      ),
    );
    const { segments } = stitch(plan, results);
    const out = words(segments).map((w) => w.replace(/\d$/, ""));
    expect(out).toEqual(ref.map((w) => w.text));
    expectOrdered(segments);
  });

  it("reports a failed chunk as a gap and keeps everything its neighbours heard", () => {
    const results = new Map<number, ChunkTranscript>();
    results.set(
      0,
      transcribe(plan[0], ref, 0, (w) => w),
    );
    results.set(
      2,
      transcribe(plan[2], ref, 0, (w) => w),
    );
    const { segments, gaps } = stitch(plan, results, new Map([[1, { code: "CHUNK_TIMEOUT", reason: "too slow" }]]));
    expect(gaps).toEqual([{ start: plan[0].end, end: plan[2].start, chunk: 1, code: "CHUNK_TIMEOUT", reason: "too slow" }]);
    const got = words(segments);
    const before = ref.filter((w) => w.end <= plan[0].end).map((w) => w.text);
    const after = ref.filter((w) => w.start >= plan[2].start).map((w) => w.text);
    expect(got).toEqual([...before, ...after]);
    expectOrdered(segments);
  });

  it("pairs a word with its twin at the same time, not with a repeat the other chunk heard (PocketSphinx on LJ001, cut at 240.84 s)", () => {
    // Chunk A heard "completely broken and far less"; chunk B "completely world and and far less":
    // A's "and" is B's second one. Pairing it with B's first left "and and" in the text.
    const cut = 240.84;
    const plan = [chunk(0, 207.32, cut, 300, 5), chunk(1, cut, 270.22, 300, 5)];
    const words = (spec: string): Word[] =>
      spec.split(" ").map((item) => {
        const [text, start, end] = item.split(/[@-]/);
        return { text, start: Number(start), end: Number(end) };
      });
    const a = words(
      "more@239.21-239.47 completely@239.47-240.14 broken@240.14-240.69 and@240.98-241.13 far@241.13-241.48 less@241.48-241.84 beautiful@241.84-242.36",
    );
    const b = words(
      "more@239.20-239.47 completely@239.47-240.14 world@240.14-240.49 and@240.49-240.72 and@240.98-241.13 far@241.13-241.48 less@241.48-241.84 beautiful@241.84-242.37",
    );
    const { segments } = stitchPair(plan, a, b);
    const text = segments.flatMap((s) => s.words!.map((w) => w.text)).join(" ");
    expect(text).toBe("more completely broken and far less beautiful");
  });

  it("does not pair the same word heard seconds apart: with no shared word in time, each side keeps its half", () => {
    // "the" at 99 s in chunk A and "the" at 103 s in chunk B are two different words.
    const cut = 101;
    const plan = [chunk(0, 0, cut, 200, 5), chunk(1, cut, 200, 200, 5)];
    const w = (text: string, start: number): Word => ({ text, start, end: start + 0.3 });
    const a = [w("alpha", 97), w("beta", 98), w("the", 99), w("gamma", 100.2)];
    const b = [w("zeta", 101.2), w("eta", 102), w("the", 103), w("theta", 104.5)];
    const { segments } = stitchPair(plan, a, b);
    expect(segments.flatMap((s) => s.words!.map((x) => x.text)).join(" ")).toBe("alpha beta the gamma zeta eta the theta");
  });

  it("rebases nothing twice: segment times stay on the file's timeline", () => {
    const results = new Map(plan.map((c) => [c.index, transcribe(c, ref, 0, (w) => w)]));
    const { segments } = stitch(plan, results);
    expect(segments[0].start).toBeCloseTo(0, 6);
    expect(segments.at(-1)!.end).toBeCloseTo(ref.at(-1)!.end, 6);
  });

  it("spreads words over segments that came without word timings", () => {
    const c = chunk(0, 0, 10, 10, 0);
    const r: ChunkTranscript = {
      index: 0,
      start: 0,
      end: 10,
      segments: [{ start: 0, end: 10, text: "one two three four" }],
      engine: "t",
      model: "m",
      precision: "segment",
      temperatureRetries: 0,
      timings: { wallMs: 1 },
    };
    const { segments } = stitch([c], new Map([[0, r]]));
    // by character count: one(3) two(3) three(5) four(4) over 10 s
    [0, 2, 4, 22 / 3].forEach((t, i) => expect(segments[0].words![i].start).toBeCloseTo(t, 9));
  });
});

describe("stitched prefix (text while the job runs)", () => {
  const ref = reference();
  const total = ref.at(-1)!.end + 0.5;
  const cuts = [0, 9.2, 19.1, 28.4, 37.3, total];
  const plan = cuts.slice(0, -1).map((s, i) => chunk(i, s, cuts[i + 1], total, 5));
  const results = plan.map((c) => transcribe(c, ref, 0.02 * c.index, (w, i, all) => (i === 0 || i === all.length - 1 ? { ...w, text: `${w.text}x` } : w)));

  for (const order of [
    [0, 1, 2, 3, 4],
    [4, 3, 2, 1, 0],
    [1, 3, 0, 4, 2],
  ]) {
    it(`hands out, in order, exactly the start of the final transcript (chunks done as ${order.join(",")})`, () => {
      const handed: Segment[] = [];
      const seenAfter: number[] = [];
      const prefix = new StitchedPrefix(plan, (segments) => handed.push(...segments));
      for (const i of order) {
        prefix.add(results[i]);
        seenAfter.push(handed.length);
      }
      const final = stitch(plan, new Map(results.map((r) => [r.index, r]))).segments;
      // Everything is handed out once the last chunk is in, and equals the final transcript.
      expect(handed).toEqual(final);
      // Text appears as soon as chunk 0 is done, not only at the end.
      const whenZero = order.indexOf(0);
      if (whenZero < order.length - 1) expect(seenAfter[whenZero]).toBeGreaterThan(0);
    });
  }
});
