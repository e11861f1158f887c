import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { describe, expect, it } from "vitest";

import { Pcm16ToFloat } from "../../src/core/media/wav";

describe("16-bit PCM to float", () => {
  it("converts as ffmpeg does (× 2⁻¹⁵) however the byte stream is cut, samples split across pieces and odd offsets included", async () => {
    const ints = Int16Array.from({ length: 1001 }, (_, i) => (i === 0 ? -32768 : i === 1 ? 32767 : Math.round(Math.sin(i / 5) * 20000)));
    const bytes = Buffer.alloc(ints.length * 2);
    ints.forEach((v, i) => bytes.writeInt16LE(v, 2 * i));
    const expected = Array.from(ints, (v) => Math.fround(v / 32768));
    expect(expected.slice(0, 2)).toEqual([-1, Math.fround(32767 / 32768)]);
    for (const sizes of [[65536], [1], [3, 1, 7], [2], [999, 5]]) {
      const pieces: Buffer[] = [];
      for (let at = 0, i = 0; at < bytes.length; i++) {
        const n = Math.min(sizes[i % sizes.length], bytes.length - at);
        const backing = Buffer.alloc(n + 1); // at an odd offset of its memory, as a file read may hand over
        bytes.copy(backing, 1, at, at + n);
        pieces.push(backing.subarray(1));
        at += n;
      }
      const out: Buffer[] = [];
      await pipeline(Readable.from(pieces), new Pcm16ToFloat(), async (source: AsyncIterable<Buffer>) => {
        for await (const b of source) out.push(b);
      });
      const floats = Buffer.concat(out);
      expect(floats.length).toBe(ints.length * 4);
      expect(Array.from({ length: ints.length }, (_, i) => floats.readFloatLE(4 * i))).toEqual(expected);
    }
  });
});
