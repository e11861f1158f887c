import { describe, expect, it } from "vitest";

import { loadConfig } from "../../src/core/config";
import { FleetError } from "../../src/core/errors";

function configError(src: Record<string, string>): FleetError {
  try {
    loadConfig(src);
  } catch (e) {
    return e as FleetError;
  }
  throw new Error("expected a configuration error");
}

describe("configuration", () => {
  it("has the plan's defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ minWorkers: 1, maxWorkers: 10, overlapSeconds: 5, timeoutSeconds: 300, autoAdjust: true, engine: "auto", format: "txt" });
    expect(c.cloud.endpoints).toEqual([]);
  });

  it("reads the plan's variables and later sources win", () => {
    const c = loadConfig({ MIN_WORKER: "2", MAX_WORKER: "6", CHUNK_OVERLAP: "3", WORKER_TIMEOUT: "120", AUTO_ADJUST: "false" }, { MAX_WORKER: "8" });
    expect(c).toMatchObject({ minWorkers: 2, maxWorkers: 8, overlapSeconds: 3, timeoutSeconds: 120, autoAdjust: false });
  });

  it("accepts MIN_WORKER equal to MAX_WORKER (a fixed pool) and rejects fractional worker counts", () => {
    expect(loadConfig({ MIN_WORKER: "4", MAX_WORKER: "4" })).toMatchObject({ minWorkers: 4, maxWorkers: 4 });
    expect(configError({ MIN_WORKER: "1.5" }).message).toMatch(/^MIN_WORKER/);
    expect(configError({ MAX_WORKER: "2.5" }).message).toMatch(/^MAX_WORKER/);
  });

  it("names the variable and the problem when a value is bad", () => {
    for (const [src, name] of [
      [{ MIN_WORKER: "0" }, "MIN_WORKER"],
      [{ MIN_WORKER: "4", MAX_WORKER: "2" }, "MAX_WORKER"],
      [{ AUTO_ADJUST: "maybe" }, "AUTO_ADJUST"],
      [{ WORKER_TIMEOUT: "-1" }, "WORKER_TIMEOUT"],
      [{ WHISPER_FLEET_ENGINE: "gpu" }, "WHISPER_FLEET_ENGINE"],
      [{ OPENAI_BASE_URL: "not a url" }, "OPENAI_BASE_URL"],
    ] as const) {
      const e = configError(src);
      expect(e.code).toBe("CONFIG_INVALID");
      expect(e.message.startsWith(name)).toBe(true);
    }
  });

  it("parses several OpenAI-compatible endpoints with their own concurrency", () => {
    const c = loadConfig({ WHISPER_FLEET_CLOUD_ENDPOINTS: "http://127.0.0.1:9001/v1|2, http://127.0.0.1:9002/v1", OPENAI_API_KEY: "k" });
    expect(c.cloud.endpoints).toEqual([
      { baseURL: "http://127.0.0.1:9001/v1", apiKey: "k", concurrency: 2 },
      { baseURL: "http://127.0.0.1:9002/v1", apiKey: "k", concurrency: 4 },
    ]);
  });
});
