/**
 * What Whisper Fleet knows about the cloud transcription models, in one place: whether they return
 * timestamps, the longest audio one request may carry, and their list price per minute of audio.
 */

export interface CloudModelFacts {
  /** verbose_json with segment and word times (whisper-1); the gpt-4o models return text only. */
  timestamps: boolean;
  /** Longest audio per request, overlap included (the gpt-4o models accept about 1400 s). */
  maxSeconds: number;
  /** US dollars per minute of audio on api.openai.com. */
  usdPerMinute: number;
}

/** OpenAI's published prices, as of this date; models not listed are priced like whisper-1. */
export const PRICES_AS_OF = "2025-03-20";

const MODELS: Record<string, CloudModelFacts> = {
  "whisper-1": { timestamps: true, maxSeconds: 1500, usdPerMinute: 0.006 },
  "gpt-4o-transcribe": { timestamps: false, maxSeconds: 1400, usdPerMinute: 0.006 },
  "gpt-4o-mini-transcribe": { timestamps: false, maxSeconds: 1400, usdPerMinute: 0.003 },
};

export function cloudModel(name: string): CloudModelFacts {
  return MODELS[name] ?? (/gpt-4o/.test(name) ? { timestamps: false, maxSeconds: 1400, usdPerMinute: 0.006 } : MODELS["whisper-1"]);
}

export interface CostEstimate {
  model: string;
  minutes: number;
  usd: number;
  pricesAsOf: string;
}

/** Audio sent to api.openai.com above this is priced and confirmed before any upload. */
export const CONFIRM_ABOVE_SECONDS = 600;

export function estimateCost(model: string, seconds: number): CostEstimate {
  const minutes = seconds / 60;
  return { model, minutes, usd: minutes * cloudModel(model).usdPerMinute, pricesAsOf: PRICES_AS_OF };
}
