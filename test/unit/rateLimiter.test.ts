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

/** A clock whose sleeps are timers on virtual time; `drive` fires them in order until `work` settles. */
function virtualClock() {
  const timers: { at: number; fire: () => void }[] = [];
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: (ms: number) => new Promise<void>((fire) => timers.push({ at: clock.t + ms, fire })),
    async drive<T>(work: Promise<T>): Promise<T> {
      let done = false;
      void work.finally(() => (done = true));
      for (let idle = 0; !done && idle < 1000;) {
        await new Promise((r) => setImmediate(r));
        if (done) break;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift();
        if (!next) {
          idle++;
          continue;
        }
        clock.t = Math.max(clock.t, next.at);
        next.fire();
      }
      return work;
    },
  };
  return clock;
}

describe("rate limiter", () => {
  it("six concurrent callers at 120 per minute start 500 ms apart, however they race", async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(120, clock);
    const starts: number[] = [];
    await clock.drive(Promise.all(Array.from({ length: 6 }, () => limiter.acquire().then(() => starts.push(clock.t)))));
    expect(starts).toEqual([0, 500, 1000, 1500, 2000, 2500]);
  });

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

  it("holds a tokens-per-minute budget: requests wait for the bucket, and usage corrects the estimate", async () => {
    const clock = fakeClock();
    // 60,000 requests per minute (1 ms apart) but 6,000 tokens per minute: 100 tokens per second.
    const limiter = new RateLimiter(60_000, clock, 6000);
    const starts: number[] = [];
    for (let i = 0; i < 4; i++) {
      await limiter.acquire(undefined, 3000); // a 150 s chunk at 20 tokens/s
      starts.push(Math.round(clock.t));
    }
    // The full bucket covers two; then one every 30 s (3,000 tokens at 100 per second).
    expect(starts).toEqual([0, 1, 30_000, 60_000]);
    // The API said the last one cost 1,000 tokens, not 3,000: the next one goes 20 s earlier.
    limiter.settle(3000, 1000);
    await limiter.acquire(undefined, 3000);
    expect(Math.round(clock.t)).toBe(70_000);
    // A request larger than the whole budget waits for a full bucket instead of forever.
    const big = new RateLimiter(60_000, fakeClock(), 1000);
    await big.acquire(undefined, 5000);
    await expect(big.acquire(undefined, 10)).resolves.toBeUndefined();
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
