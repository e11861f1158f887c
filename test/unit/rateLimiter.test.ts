import { describe, expect, it } from "vitest";

import { RateLimiter, retryAfterMs, type LimiterClock } from "../../src/core/cloud/rateLimiter";

function fakeClock(): LimiterClock & { t: number; waits: number[] } {
  const clock = {
    t: 0,
    waits: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.waits.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}

describe("rate limiter", () => {
  it("spaces requests evenly at the configured rate, never bursting above it", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(120, clock);
    const starts: number[] = [];
    for (let i = 0; i < 6; i++) {
      await limiter.acquire();
      starts.push(clock.t);
    }
    expect(starts).toEqual([0, 500, 1000, 1500, 2000, 2500]);
  });

  it("a Retry-After pause holds every caller", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(600, clock);
    await limiter.acquire();
    limiter.pause(clock.t + 3000);
    await limiter.acquire();
    expect(clock.t).toBe(3000);
  });

  it("reads Retry-After in seconds, dates and OpenAI's reset headers", () => {
    const h = (o: Record<string, string>) => ({ get: (k: string) => o[k] ?? null });
    expect(retryAfterMs(h({ "retry-after": "2" }))).toBe(2000);
    expect(retryAfterMs(h({ "retry-after-ms": "150" }))).toBe(150);
    expect(retryAfterMs(h({ "retry-after": new Date(10_000).toUTCString() }), 4000)).toBe(6000);
    expect(retryAfterMs(h({ "x-ratelimit-reset-requests": "1m6s" }))).toBe(66000);
    expect(retryAfterMs(h({}))).toBeUndefined();
  });
});
