/**
 * What happens to a chunk after a failed attempt (pure). The scheduler owns the one retry loop;
 * engines only classify their errors (`retryable`, fatal codes) and fail over between endpoints.
 */
import type { ErrorCode, FleetError } from "../errors";

/** Errors that mean the engine cannot run at all: no point retrying chunk by chunk. */
export const ENGINE_FATAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "MODEL_NOT_FOUND",
  "MODEL_INVALID",
  "MODEL_LOAD_TIMEOUT",
  "ADDON_NOT_FOUND",
  "ADDON_LOAD_FAILED",
  "OUT_OF_MEMORY",
  "ENGINE_UNAVAILABLE",
  "CLOUD_AUTH",
  "CLOUD_QUOTA",
  "CLOUD_MODEL_NOT_FOUND",
  "CLOUD_NOT_CONFIGURED",
]);

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number;
}

export type AfterFailure = { action: "switch-engine" } | { action: "retry"; delayMs: number } | { action: "give-up" };

/** Exponential backoff with ±25% jitter, so retried chunks do not hit an engine in step. */
export function backoffDelay(attempt: number, backoffMs: number, random: () => number = Math.random): number {
  return backoffMs * 2 ** (attempt - 1) * (0.75 + random() * 0.5);
}

/**
 * The decision after attempt `attempt` failed with `error`: move to the fallback engine when this
 * one cannot run at all (and a switch is still possible), retry a retryable error while attempts
 * remain, otherwise record the chunk as a named failure.
 */
export function afterFailure(
  error: FleetError,
  attempt: number,
  policy: RetryPolicy,
  state: { engineDead: boolean; canSwitch: boolean },
  random?: () => number,
): AfterFailure {
  if (ENGINE_FATAL.has(error.code) && state.canSwitch) return { action: "switch-engine" };
  if (!error.retryable || attempt >= policy.maxAttempts || state.engineDead) return { action: "give-up" };
  return { action: "retry", delayMs: backoffDelay(attempt, policy.backoffMs, random) };
}
