/**
 * Request-rate limiting shared by every chunk of every job in the process. Requests are spaced
 * evenly (at most `requestsPerMinute`, never a burst above it), and a 429's Retry-After pauses
 * everyone, not just the request that got it. The clock and the sleep are injectable.
 */
import { abortableSleep } from "../errors";

export interface LimiterClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: LimiterClock = { now: () => Date.now(), sleep: abortableSleep };

export class RateLimiter {
  private nextFree = 0;
  private pausedUntil = 0;
  readonly intervalMs: number;

  constructor(
    readonly requestsPerMinute: number,
    private readonly clock: LimiterClock = realClock,
  ) {
    if (!(requestsPerMinute > 0)) throw new RangeError(`requestsPerMinute must be positive, got ${requestsPerMinute}`);
    this.intervalMs = 60000 / requestsPerMinute;
  }

  /** Reserves the next slot and waits for it; slots are handed out in call order. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const slot = Math.max(now, this.nextFree, this.pausedUntil);
    this.nextFree = slot + this.intervalMs;
    if (slot > now) await this.clock.sleep(slot - now, signal);
  }

  /** Everyone waits until `untilMs` (a 429 with Retry-After). */
  pause(untilMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
    this.nextFree = Math.max(this.nextFree, untilMs);
  }
}

const shared = new Map<string, RateLimiter>();

/** One limiter per endpoint and limit for the whole process. */
export function sharedLimiter(key: string, requestsPerMinute: number): RateLimiter {
  const id = `${key}|${requestsPerMinute}`;
  let limiter = shared.get(id);
  if (!limiter) shared.set(id, (limiter = new RateLimiter(requestsPerMinute)));
  return limiter;
}

/** Milliseconds to wait from Retry-After / x-ratelimit-reset-* headers; undefined when absent. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get("retry-after");
  if (ra) {
    if (/^\d+(\.\d+)?$/.test(ra.trim())) return Number(ra) * 1000;
    const date = Date.parse(ra);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  const reset = headers.get("x-ratelimit-reset-requests");
  if (reset) {
    // OpenAI's format: "1s", "6m0s", "120ms"
    let total = 0;
    for (const [, v, unit] of reset.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
      total += Number(v) * ({ ms: 1, s: 1000, m: 60000, h: 3600000 } as Record<string, number>)[unit];
    if (total > 0) return total;
  }
  return undefined;
}
