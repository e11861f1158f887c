/**
 * A plan that leaves a worker idle: 30 s beside 210 s on two workers. The tail-split tests run it
 * with an engine double (test/unit/tailSplit.test.ts) and on the real addon (test/native).
 */
import type { DecodedAudio, TranscriptionEngine } from "../../src/core/engines/engine";
import { runSchedule, type ScheduleInput } from "../../src/core/scheduling/scheduler";
import type { PlannedChunk } from "../../src/core/types";

export const unevenPlan: PlannedChunk[] = [
  { index: 0, start: 0, end: 30, ownStart: 0, ownEnd: 30, overlapBefore: 0, overlapAfter: 0 },
  { index: 1, start: 30, end: 240, ownStart: 30, ownEnd: 240, overlapBefore: 0, overlapAfter: 0 },
];

/** Runs the uneven plan on two workers of two cores, idle workers splitting the long chunk unless told otherwise. */
export function runUneven(engine: TranscriptionEngine, audio: DecodedAudio, extra: Partial<ScheduleInput> = {}) {
  return runSchedule({
    file: "uneven",
    plan: unevenPlan,
    audio,
    options: {},
    engine,
    initialWorkers: 2,
    minWorkers: 1,
    maxWorkers: 2,
    cores: 2,
    autoAdjust: false,
    timeoutMs: 120_000,
    splitTail: true,
    splitOverlap: 5,
    ...extra,
  });
}
