/**
 * Request-rate limiting shared by every chunk of every job in the process. Requests are spaced
 * evenly (at most `requestsPerMinute`, never a burst above it); a tokens-per-minute budget (a
 * bucket that refills at `tokensPerMinute` per minute) holds requests whose estimated tokens it
 * cannot cover yet, and is corrected from the `usage` the API reports; a 429's Retry-After pauses
 * everyone, not just the request that got it. The clock and the sleep are injectable.
 */
import { abortableSleep } from "../errors";

export interface LimiterClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: LimiterClock = { now: () => Date.now(), sleep: abortableSleep };

/** Tokens a second of audio costs a transcription model (audio in plus text out), before `usage` corrects it. */
export const TOKENS_PER_AUDIO_SECOND = 20;

export class RateLimiter {
  private nextFree = 0;
  private pausedUntil = 0;
  readonly intervalMs: number;
  /** Tokens in the bucket at `bucketAt` (may go negative when usage exceeded the estimate). */
  private bucket: number;
  private bucketAt: number;

  constructor(
    readonly requestsPerMinute: number,
    private readonly clock: LimiterClock = realClock,
    readonly tokensPerMinute = Infinity,
  ) {
    if (!(requestsPerMinute > 0)) throw new RangeError(`requestsPerMinute must be positive, got ${requestsPerMinute}`);
    if (!(tokensPerMinute > 0)) throw new RangeError(`tokensPerMinute must be positive, got ${tokensPerMinute}`);
    this.intervalMs = 60000 / requestsPerMinute;
    this.bucket = tokensPerMinute;
    this.bucketAt = clock.now();
  }

  /**
   * Reserves the next slot and waits for it; slots are handed out in call order. `tokens` is the
   * request's estimated cost: it goes out once the bucket holds it (a request larger than the
   * whole budget waits for a full bucket).
   */
  async acquire(signal?: AbortSignal, tokens = 0): Promise<void> {
    const now = this.clock.now();
    let slot = Math.max(now, this.nextFree, this.pausedUntil);
    if (Number.isFinite(this.tokensPerMinute) && tokens > 0) {
      const need = Math.min(tokens, this.tokensPerMinute);
      const level = this.levelAt(slot);
      if (level < need) slot += ((need - level) / this.tokensPerMinute) * 60000;
      this.bucket = this.levelAt(slot) - tokens;
      this.bucketAt = slot;
    }
    this.nextFree = slot + this.intervalMs;
    if (slot > now) await this.clock.sleep(slot - now, signal);
  }

  /** The API reported what a request really cost: the bucket takes the difference. */
  settle(estimated: number, actual: number): void {
    if (!Number.isFinite(this.tokensPerMinute) || !(actual >= 0)) return;
    this.bucket += estimated - actual;
  }

  private levelAt(t: number): number {
    return Math.min(this.tokensPerMinute, this.bucket + ((t - this.bucketAt) / 60000) * this.tokensPerMinute);
  }

  /** Everyone waits until `untilMs` (a 429 with Retry-After). */
  pause(untilMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
    this.nextFree = Math.max(this.nextFree, untilMs);
  }
}

const shared = new Map<string, RateLimiter>();

/** One limiter per endpoint and limits for the whole process. */
export function sharedLimiter(key: string, requestsPerMinute: number, tokensPerMinute = Infinity): RateLimiter {
  const id = `${key}|${requestsPerMinute}|${tokensPerMinute}`;
  let limiter = shared.get(id);
  if (!limiter) shared.set(id, (limiter = new RateLimiter(requestsPerMinute, realClock, tokensPerMinute)));
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
