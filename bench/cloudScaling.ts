/**
 * Cloud scaling: throughput of the cloud engine against the number of parallel requests, when
 * every request takes a fixed server time (a local OpenAI-compatible stand-in that answers after
 * SERVER_MS). Near-linear up to the configured concurrency; the rate limiter caps it when set.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { OpenAIEngine } from "../src/core/engines/OpenAIEngine";
import { resolveFfmpeg } from "../src/core/media/ffmpeg";
import type { PlannedChunk } from "../src/core/types";

const SERVER_MS = Number(process.env.SERVER_MS ?? 400);
const CHUNKS = Number(process.env.CHUNKS ?? 32);

async function main() {
  const ffmpeg = resolveFfmpeg().path;
  const dir = mkdtempSync(join(tmpdir(), "wf-cloud-bench-"));
  const raw = join(dir, "tone.f32");
  execFileSync(ffmpeg, ["-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", String(CHUNKS * 2), "-ac", "1", "-f", "f32le", raw]);
  const samples = statSync(raw).size / 4;
  const audio = { path: raw, sampleRate: 16000 as const, samples, duration: samples / 16000 };
  let inFlight = 0;
  let peak = 0;
  const server = createServer((req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    req.resume();
    req.on("end", () =>
      setTimeout(() => {
        inFlight--;
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ text: "ok", language: "english", segments: [{ start: 0, end: 2, text: "ok" }] }));
      }, SERVER_MS),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const chunks: PlannedChunk[] = Array.from({ length: CHUNKS }, (_, i) => ({
    index: i,
    start: i * 2,
    end: i * 2 + 2,
    overlapBefore: 0,
    overlapAfter: 0,
    ownStart: i * 2,
    ownEnd: i * 2 + 2,
  }));
  const rows: { concurrency: number; rpm: number; seconds: number; perSecond: number; peak: number; ideal: number }[] = [];
  for (const [concurrency, rpm] of [
    [1, 60000],
    [2, 60000],
    [4, 60000],
    [8, 60000],
    [16, 60000],
    [16, 600],
  ] as const) {
    peak = 0;
    const engine = new OpenAIEngine({
      model: "whisper-1",
      endpoints: [{ baseURL: url, apiKey: "bench", concurrency }],
      requestsPerMinute: rpm,
      ffmpeg,
    });
    const t0 = performance.now();
    await Promise.all(chunks.map((chunk) => engine.transcribeChunk({ chunk, audio, options: {}, signal: new AbortController().signal })));
    const seconds = (performance.now() - t0) / 1000;
    rows.push({ concurrency, rpm, seconds, perSecond: CHUNKS / seconds, peak, ideal: Math.min(concurrency * (1000 / SERVER_MS), rpm / 60) });
  }
  server.close();
  console.log(`Cloud engine scaling: ${CHUNKS} chunks, server time ${SERVER_MS} ms per request, loopback stand-in server\n`);
  console.log("| parallel requests | rate limit (rpm) | wall | requests/s | ideal requests/s | efficiency | peak in flight |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows)
    console.log(
      `| ${r.concurrency} | ${r.rpm} | ${r.seconds.toFixed(2)} s | ${r.perSecond.toFixed(2)} | ${r.ideal.toFixed(2)} | ${((100 * r.perSecond) / r.ideal).toFixed(0)}% | ${r.peak} |`,
    );
}

void main();
