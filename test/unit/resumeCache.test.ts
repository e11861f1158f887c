import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { cacheKey, ResumeCache } from "../../src/core/scheduling/resumeCache";
import type { ChunkTranscript } from "../../src/core/types";

describe("resume cache", () => {
  const base = { file: "abc", chunk: { start: 0, end: 305 }, engine: "local", model: "base.en", options: { language: "en", translate: false } };

  it("keys are stable across property order and change with anything that changes the text", () => {
    expect(cacheKey(base)).toBe(cacheKey({ ...base, options: { translate: false, language: "en" } }));
    const variants = [
      { ...base, file: "abd" },
      { ...base, chunk: { start: 0, end: 305.5 } },
      { ...base, engine: "openai" },
      { ...base, model: "small" },
      { ...base, options: { language: "ko", translate: false } },
    ];
    const keys = new Set([cacheKey(base), ...variants.map(cacheKey)]);
    expect(keys.size).toBe(6);
  });

  it("stores, returns, ignores corrupt entries and stays within its size bound", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-cache-"));
    const cache = new ResumeCache({ dir, maxBytes: 4000 });
    const value: ChunkTranscript = {
      index: 0,
      start: 0,
      end: 1,
      segments: [{ start: 0, end: 1, text: "x".repeat(500) }],
      engine: "local",
      model: "m",
      precision: "word",
      temperatureRetries: 0,
      timings: { wallMs: 1 },
    };
    await cache.put("k1", value);
    expect(await cache.get("k1")).toEqual(value);
    await writeFile(join(dir, "bad.json"), "{not json");
    expect(await cache.get("bad")).toBeUndefined();
    expect((await readdir(dir)).includes("bad.json")).toBe(false);
    for (let i = 0; i < 20; i++) await cache.put(`k${i + 2}`, value);
    await cache.prune();
    const files = (await readdir(dir)).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    expect(files.length).toBeLessThanOrEqual(7);
  });
});
