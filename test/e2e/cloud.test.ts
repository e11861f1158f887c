/**
 * The cloud engine against a real OpenAI-compatible server (whisper.cpp's whisper-server built
 * from the pinned source) through the openai SDK, with a fault-injecting proxy in front of it.
 */
import { mkdtempSync } from "node:fs";
import { statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { loadConfig } from "../../src/core/config";
import type { DecodedAudio } from "../../src/core/engines/engine";
import { OpenAIEngine } from "../../src/core/engines/OpenAIEngine";
import { FleetSession } from "../../src/core/FleetSession";
import { resolveFfmpeg } from "../../src/core/media/ffmpeg";
import { runSchedule } from "../../src/core/scheduling/scheduler";
import type { PlannedChunk } from "../../src/core/types";
import { makeMedia, rawPcmFile } from "../support/audio";
import { startFaultProxy, type Fault } from "../support/faultProxy";
import { jfkWav, lj001, model } from "../support/paths";
import { startWhisperServer, type RunningServer } from "../support/whisperServer";

const home = mkdtempSync(join(tmpdir(), "wf-cloud-"));
let server: RunningServer;

beforeAll(async () => {
  server = await startWhisperServer(model("tiny.en"), 2);
});
afterAll(async () => {
  await server?.stop();
});

function jfkAudio(): DecodedAudio {
  const path = rawPcmFile(jfkWav);
  const samples = statSync(path).size / 4;
  return { path, sampleRate: 16000, samples, duration: samples / 16000 };
}
const wholeChunk = (index = 0): PlannedChunk => ({ index, start: 0, end: 11, overlapBefore: 0, overlapAfter: 0, ownStart: 0, ownEnd: 11 });

function engine(url: string, extra: Partial<ConstructorParameters<typeof OpenAIEngine>[0]> = {}) {
  return new OpenAIEngine({
    model: "whisper-1",
    endpoints: [{ baseURL: url, apiKey: "test", concurrency: 2 }],
    requestsPerMinute: 6000,
    ffmpeg: resolveFfmpeg().path,
    timeoutMs: 20_000,
    ...extra,
  });
}

/** One chunk through the real scheduler, which owns every retry. */
function scheduleOne(e: OpenAIEngine) {
  return runSchedule({
    file: "jfk.wav",
    plan: [wholeChunk()],
    audio: jfkAudio(),
    options: {},
    engine: e,
    initialWorkers: 1,
    minWorkers: 1,
    maxWorkers: 1,
    cores: 2,
    autoAdjust: false,
    timeoutMs: 60_000,
    backoffMs: 50,
  });
}

function session(extra: Record<string, string>) {
  return new FleetSession(
    loadConfig({
      WHISPER_FLEET_ENGINE: "cloud",
      WHISPER_FLEET_CACHE: "false",
      WHISPER_FLEET_STATS: join(home, "stats.json"),
      WHISPER_FLEET_TMPDIR: home,
      OPENAI_API_KEY: "test",
      WHISPER_FLEET_RPM: "6000",
      ...extra,
    }),
  );
}

describe("cloud engine on a real OpenAI-compatible server", () => {
  it("transcribes a multi-chunk file completely, in order, stitched", async () => {
    const clip = makeMedia("lj001-120s.flac", ["-i", lj001, "-t", "120"]);
    const s = session({ OPENAI_BASE_URL: server.url, CHUNK_SECONDS: "40" });
    const lanes: { step?: string; percent: number }[] = [];
    try {
      const t = await s.transcribeFile(clip, { onProgress: (p) => lanes.push(...p.workers) });
      // Cloud lanes move while a chunk is out: encoding, then the request in flight, not 0% throughout.
      expect(lanes.some((l) => l.step === "encoding")).toBe(true);
      expect(lanes.some((l) => l.step === "sent" && l.percent >= 20)).toBe(true);
      expect(t.engine).toBe("openai");
      expect(t.metrics!.chunks).toHaveLength(3);
      expect(t.gaps).toEqual([]);
      expect(t.language).toBe("en");
      for (let i = 1; i < t.segments.length; i++) expect(t.segments[i].start).toBeGreaterThanOrEqual(t.segments[i - 1].end);
      expect(t.segments[0].start).toBeLessThan(1);
      expect(t.segments.at(-1)!.end).toBeGreaterThan(119);
      expect(new Set(t.segments.map((seg) => seg.chunk))).toEqual(new Set([0, 1, 2]));
    } finally {
      await s.dispose();
    }
  });

  it("finishes on the cloud when the local engine cannot run", async () => {
    const s = session({ WHISPER_FLEET_ENGINE: "auto", WHISPER_FLEET_MODEL: join(home, "no-such-model.bin"), OPENAI_BASE_URL: server.url });
    try {
      const t = await s.transcribeFile(jfkWav);
      expect(t.engine).toBe("openai");
      expect(t.fallbacks[0]).toMatchObject({ from: "local", to: "cloud" });
      expect(t.fallbacks[0].reason).toContain("no-such-model.bin");
      expect(t.segments.length).toBeGreaterThan(0);
    } finally {
      await s.dispose();
    }
  });
});

describe("faults between us and the server", () => {
  it.each<[string, Fault[], number]>([
    ["429 with Retry-After", [{ status: 429, retryAfter: "1" }], 1000],
    ["429 without Retry-After", [{ status: 429 }], 0],
    ["500", [{ status: 500 }, { status: 502 }], 0],
    ["a reset connection", ["reset"], 0],
    ["malformed JSON", ["malformed"], 0],
  ])("recovers from %s", async (_name, script, minGapMs) => {
    const proxy = await startFaultProxy(server.url, [...script]);
    try {
      const r = await scheduleOne(engine(proxy.url));
      expect(r.results.get(0)!.segments.length).toBeGreaterThan(0);
      expect(r.retries).toBe(script.length);
      expect(proxy.arrivals).toHaveLength(script.length + 1);
      if (minGapMs) expect(proxy.arrivals[1] - proxy.arrivals[0]).toBeGreaterThanOrEqual(minGapMs - 20);
    } finally {
      await proxy.close();
    }
  });

  it("times out a hanging response and retries it", async () => {
    const proxy = await startFaultProxy(server.url, ["hang"]);
    try {
      // Long enough for a real answer from whisper-server on a loaded machine; the hang still times out.
      const r = await scheduleOne(engine(proxy.url, { timeoutMs: 8000 }));
      expect(r.results.get(0)!.segments.length).toBeGreaterThan(0);
      expect(proxy.arrivals).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  it("one retry loop: a chunk that keeps failing with 5xx costs 3 requests, then is a named failure", async () => {
    const proxy = await startFaultProxy(
      server.url,
      Array.from({ length: 20 }, () => ({ status: 503 })),
    );
    try {
      const r = await scheduleOne(engine(proxy.url));
      expect(proxy.arrivals).toHaveLength(3);
      expect(r.failures.get(0)?.code).toBe("CLOUD_UNAVAILABLE");
    } finally {
      await proxy.close();
    }
  });

  it("empty text over speech is retried, and a named gap when it stays empty", async () => {
    const once = await startFaultProxy(server.url, ["empty"]);
    const always = await startFaultProxy(server.url, ["empty", "empty", "empty", "empty"]);
    const retried = session({ OPENAI_BASE_URL: once.url });
    const failed = session({ OPENAI_BASE_URL: always.url });
    try {
      const t = await retried.transcribeFile(jfkWav);
      expect(once.arrivals).toHaveLength(2);
      expect(t.metrics!.retries).toBe(1);
      expect(t.segments.length).toBeGreaterThan(0);
      // Every attempt empty: the file's only chunk fails, so the job fails, naming why.
      await expect(failed.transcribeFile(jfkWav)).rejects.toMatchObject({ code: "NO_TEXT_FOR_SPEECH" });
      expect(always.arrivals).toHaveLength(3);
    } finally {
      await retried.dispose();
      await failed.dispose();
      await once.close();
      await always.close();
    }
  });

  it.each<[string, Fault, string]>([
    ["401", { status: 401 }, "CLOUD_AUTH"],
    ["413", { status: 413 }, "CLOUD_REQUEST_TOO_LARGE"],
    ["insufficient_quota", { status: 429, body: { error: { message: "quota", type: "insufficient_quota", code: "insufficient_quota" } } }, "CLOUD_QUOTA"],
    ["404 model", { status: 404 }, "CLOUD_MODEL_NOT_FOUND"],
  ])("fails fast on %s with %s and no retries", async (_name, fault, code) => {
    const proxy = await startFaultProxy(server.url, [fault, fault, fault, fault]);
    try {
      const t0 = Date.now();
      const error = await engine(proxy.url)
        .transcribeChunk({ chunk: wholeChunk(), audio: jfkAudio(), options: {}, signal: new AbortController().signal })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code, retryable: false });
      // The sentence names the server; fatal errors say what to do.
      expect((error as Error).message).toContain(proxy.url);
      expect((error as { hint?: string }).hint).toMatch(/\w+ \w+ \w+/);
      expect(proxy.arrivals).toHaveLength(1);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      await proxy.close();
    }
  });

  it("never sends faster than the configured request rate", async () => {
    const ok = { status: 200, body: { text: "ok", segments: [{ start: 0, end: 1, text: "ok" }] } };
    const proxy = await startFaultProxy(
      server.url,
      Array.from({ length: 10 }, () => ok),
    );
    try {
      const e = new OpenAIEngine({
        model: "whisper-1",
        endpoints: [{ baseURL: proxy.url, apiKey: "t", concurrency: 10 }],
        requestsPerMinute: 240,
        ffmpeg: resolveFfmpeg().path,
      });
      const audio = jfkAudio();
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => e.transcribeChunk({ chunk: wholeChunk(i), audio, options: {}, signal: new AbortController().signal })),
      );
      expect(proxy.arrivals).toHaveLength(10);
      // 240 per minute: the limiter releases one request every 250 ms (exactly, with a clock double:
      // rateLimiter.test.ts). Here the arrivals carry the HTTP client's jitter, which on a loaded
      // 2-core machine reaches a few hundred ms but never accumulates: over any stretch of k
      // requests at least (k - 1) × 250 ms pass — never more than one request early, never a burst.
      const a = proxy.arrivals;
      for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++) expect(a[j] - a[i]).toBeGreaterThanOrEqual((j - i - 1) * 250);
      const perMinute = ((a.length - 1) / (a.at(-1)! - a[0])) * 60000;
      expect(perMinute).toBeLessThanOrEqual(240 * (9 / 8)); // 9 intervals, at most one of them lost to jitter
    } finally {
      await proxy.close();
    }
  });

  it("cancel stops an upload in flight", async () => {
    const proxy = await startFaultProxy(server.url, ["hang"]);
    try {
      const controller = new AbortController();
      const pending = engine(proxy.url).transcribeChunk({ chunk: wholeChunk(), audio: jfkAudio(), options: {}, signal: controller.signal });
      while (proxy.arrivals.length === 0) await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      controller.abort();
      await expect(pending).rejects.toMatchObject({ code: "ABORTED" });
      expect(Date.now() - t0).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 100));
      expect(proxy.aborted).toBeGreaterThanOrEqual(1);
      expect(proxy.arrivals).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});

describe("several endpoints", () => {
  it("spreads chunks over two servers and finishes on one when the other dies mid-job", async () => {
    const second = await startWhisperServer(model("tiny.en"), 1);
    const p1 = await startFaultProxy(server.url);
    const p2 = await startFaultProxy(second.url);
    const clip = makeMedia("lj001-120s.flac", ["-i", lj001, "-t", "120"]);
    const s = session({ WHISPER_FLEET_CLOUD_ENDPOINTS: `${p1.url}|1,${p2.url}|1`, CHUNK_SECONDS: "30" });
    let killed = false;
    try {
      const t = await s.transcribeFile(clip, {
        onProgress: (p) => {
          if (!killed && p.phase === "transcribing" && p.chunks.done >= 1 && p2.arrivals.length >= 1) {
            killed = true;
            void second.stop();
          }
        },
      });
      expect(killed).toBe(true);
      expect(t.gaps).toEqual([]);
      expect(t.metrics!.chunks).toHaveLength(4);
      expect(p1.arrivals.length).toBeGreaterThan(0);
      expect(p2.arrivals.length).toBeGreaterThan(0);
      expect(p1.arrivals.length).toBeGreaterThanOrEqual(2);
    } finally {
      await s.dispose();
      await p1.close();
      await p2.close();
      await second.stop();
    }
  });
});
