#!/usr/bin/env node
// Draws assets/icon.png (512x512): a rounded gradient tile with a waveform of parallel bars —
// several workers, one sound. Pure Node (zlib), so it can be regenerated anywhere.
import { writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

const S = 512;
const px = Buffer.alloc(S * S * 4);
const radius = 110;
const bars = [0.28, 0.5, 0.82, 0.62, 0.95, 0.7, 0.45, 0.74, 0.36];
const inRounded = (x, y) => {
  const cx = Math.min(Math.max(x, radius), S - 1 - radius);
  const cy = Math.min(Math.max(y, radius), S - 1 - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
};
for (let y = 0; y < S; y++) {
  for (let x = 0; x < S; x++) {
    const i = (y * S + x) * 4;
    if (!inRounded(x, y)) continue;
    const t = (x + y) / (2 * S);
    let r = Math.round(94 + (37 - 94) * t),
      g = Math.round(66 + (129 - 66) * t),
      b = Math.round(214 + (235 - 214) * t);
    const barW = 26,
      gap = 16,
      total = bars.length * barW + (bars.length - 1) * gap;
    const bx = x - (S - total) / 2;
    const k = Math.floor(bx / (barW + gap));
    if (bx >= 0 && k < bars.length && bx - k * (barW + gap) < barW) {
      const h = bars[k] * 300;
      const dy = Math.abs(y - S / 2);
      if (dy <= h / 2) [r, g, b] = [255, 255, 255];
    }
    px[i] = r;
    px[i + 1] = g;
    px[i + 2] = b;
    px[i + 3] = 255;
  }
}
const raw = Buffer.alloc((S * 4 + 1) * S);
for (let y = 0; y < S; y++) px.copy(raw, y * (S * 4 + 1) + 1, y * S * 4, (y + 1) * S * 4);
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, c]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(S, 0);
ihdr.writeUInt32BE(S, 4);
ihdr[8] = 8;
ihdr[9] = 6;
writeFileSync(
  new URL("../assets/icon.png", import.meta.url),
  Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]),
);
console.log("wrote assets/icon.png");
